#pragma once
// Instant notice of commits by other processes (docs/decisions/bus.md, "Cross-process
// wake-up"): a thread blocks in inotify on the database's directory and wakes on writes to
// "<file>-wal" (every WAL commit writes there, whichever process makes it). Because the write
// can precede the commit becoming visible, each event is confirmed with PRAGMA data_version on
// the watcher's own connection (re-checked every 0.5 ms for up to 10 ms); a confirmed change
// calls every listener. Idle, the thread sleeps in poll(): no timer, no CPU.
//
// Listeners are called from the watcher thread for every commit that is not the watcher's
// own, including this process's (they must be cheap: bump a counter, notify a condition
// variable). Callers keep their periodic re-check as a fallback (a filesystem without
// inotify, an event lost to queue overflow).
//
// Thread-safe. One watcher per absolute path and process (ChangeWatcher::For); the thread
// runs while anyone holds the watcher.

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "dripr/core/error.h"
#include "dripr/sqlite/db.h"

namespace dripr::sqlite {

class ChangeWatcher {
 public:
  using Listener = std::function<void()>;

  // The process's watcher for `path` (made absolute; the file must exist), started on first
  // use. kUnavailable when inotify or the connection cannot be set up.
  static Result<std::shared_ptr<ChangeWatcher>> For(const std::string& path);
  ~ChangeWatcher();
  ChangeWatcher(const ChangeWatcher&) = delete;
  ChangeWatcher& operator=(const ChangeWatcher&) = delete;

  // Registers `fn`; the returned id unregisters it. After Remove returns, `fn` is not running
  // and is never called again.
  uint64_t Add(Listener fn);
  void Remove(uint64_t id);

  // Confirmed changes seen so far (for tests).
  uint64_t changes() const { return changes_.load(); }

  ChangeWatcher(std::string path, std::unique_ptr<Connection> conn, int inotify_fd, int stop_fd);

 private:
  void Run();
  // true when data_version moved since the last call.
  bool Changed();
  void CallListeners();

  const std::string path_;
  const std::string wal_name_;        // "<file name>-wal"
  std::unique_ptr<Connection> conn_;  // used by the watcher thread only
  int64_t last_version_ = -1;         // watcher thread only
  const int inotify_fd_;
  const int stop_fd_;  // eventfd; written by the destructor
  std::atomic<uint64_t> changes_{0};

  std::mutex listeners_mu_;                 // held while listeners run
  std::map<uint64_t, Listener> listeners_;  // guarded by listeners_mu_
  uint64_t next_id_ = 1;                    // guarded by listeners_mu_

  std::thread thread_;
};

}  // namespace dripr::sqlite
