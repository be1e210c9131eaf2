#pragma once
// Instant notice of commits by other connections to a database file: other processes (a CLI,
// another fetcher), or another connection of this one (docs/decisions/bus.md, "Cross-process
// wake-up"). A thread blocks in inotify on the database's directory and wakes on writes to
// "<file>-wal" (every WAL commit writes there, whichever process makes it), then asks the
// process's writer for the file (sqlite/writer.h, Writer::OthersCommitted: PRAGMA
// data_version on the writer's connection, which moves for every commit but the writer's own).
// A confirmed change calls every listener. The writer's own commits (this process's store and
// bus) call none: their callers wake their own waiters directly (docs/decisions/performance.md).
//
// Confirming: a WAL write may come just before its commit is published in the WAL index, so
// an event no own commit explains is re-checked every 0.5 ms for up to 10 ms (then 2, 8, 32 and
// 128 ms later, for a committer preempted in between); an event during
// or after an own commit is checked when that commit is done and once more 2 ms later (a
// foreign commit may have followed it); while each re-check finds own commits again, the next
// comes twice as late, up to 8 ms. The re-checks are poll() timeouts; while one is due, new
// events wait for it (only the shutdown interrupts it), so a busy process's own commits wake
// the thread at most once per re-check, not once per WAL write, and another process's commit
// in that window is seen at the re-check (<= 8 ms late; 2 ms after a quiet spell). Idle, the
// thread sleeps in poll(): no timer, no CPU, and the first event is checked at once.
//
// Listeners run on the watcher thread and must be cheap (bump a counter, notify a condition
// variable). Callers keep their periodic re-check as a fallback (a filesystem without inotify,
// an event lost to queue overflow).
//
// Thread-safe. One watcher per file and process (ChangeWatcher::For); the thread runs while
// anyone holds the watcher.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>

#include "dripr/core/error.h"
#include "dripr/sqlite/writer.h"

namespace dripr::sqlite {

class ChangeWatcher {
 public:
  using Listener = std::function<void()>;

  // The process's watcher for `writer`'s file, started on first use. kUnavailable when
  // inotify cannot be set up.
  static Result<std::shared_ptr<ChangeWatcher>> For(std::shared_ptr<Writer> writer);
  ~ChangeWatcher();
  ChangeWatcher(const ChangeWatcher&) = delete;
  ChangeWatcher& operator=(const ChangeWatcher&) = delete;

  // Registers `fn`; the returned id unregisters it. After Remove returns, `fn` is not running
  // and is never called again.
  uint64_t Add(Listener fn);
  void Remove(uint64_t id);

  // Confirmed changes by other connections seen so far (for tests).
  uint64_t changes() const { return changes_.load(); }
  // Times the thread woke to check (an event, or a re-check that was due; for tests).
  uint64_t wakeups() const { return wakeups_.load(); }

  ChangeWatcher(std::shared_ptr<Writer> writer, int inotify_fd, int stop_fd);

 private:
  void Run();
  // Drains the inotify queue; true when the WAL file (or an overflow) was among the events.
  bool WalWritten();
  void CallListeners();

  const std::shared_ptr<Writer> writer_;
  const std::string wal_name_;  // "<file name>-wal"
  const int inotify_fd_;
  const int stop_fd_;  // eventfd; written by the destructor
  std::atomic<uint64_t> changes_{0};
  std::atomic<uint64_t> wakeups_{0};

  std::mutex listeners_mu_;                 // held while listeners run
  std::map<uint64_t, Listener> listeners_;  // guarded by listeners_mu_
  uint64_t next_id_ = 1;                    // guarded by listeners_mu_

  std::thread thread_;
};

// One holder's subscription to the watcher of its writer's file (the store's outbox wait and
// the embedded bus's long polls): started once, on first need; removed on destruction (declare
// it after whatever the listener uses). When the watcher cannot be set up, one warning
// "<who>: no instant wake-up for other processes' <what> (<error>); checking every N ms".
class OthersCommitsSubscription {
 public:
  OthersCommitsSubscription() = default;
  ~OthersCommitsSubscription();
  OthersCommitsSubscription(const OthersCommitsSubscription&) = delete;
  OthersCommitsSubscription& operator=(const OthersCommitsSubscription&) = delete;

  // The first call subscribes `fn`; later calls do nothing. Thread-safe.
  void StartOnce(const std::shared_ptr<Writer>& writer, std::string_view who, std::string_view what,
                 std::chrono::milliseconds fallback, ChangeWatcher::Listener fn);

 private:
  std::once_flag once_;
  std::shared_ptr<ChangeWatcher> watcher_;  // set once by StartOnce
  uint64_t id_ = 0;
};

}  // namespace dripr::sqlite
