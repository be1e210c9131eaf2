#pragma once
// The embedded bus's in-process wake-ups for one database file (internal to bus/embedded/):
// a counter and a condition variable per queue, bumped after every commit that may have made a
// message receivable there, and one counter for commits by other connections (the change
// watcher, sqlite/change_watcher.h). A notice wakes only the long polls of the queues it names
// (all waiting ones for another connection's commit) and nobody when nobody waits.
//
// Shared by every broker on the file in this process (WakeHub::For): they write through the
// same writer, so the change watcher does not report their commits to one another; a send
// through one broker wakes a receive through another directly.
//
// Thread-safe.

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "dripr/core/clock.h"
#include "dripr/sqlite/change_watcher.h"

namespace dripr::embedded {

class WakeHub {
 public:
  // The process's hub for the absolute path `path`.
  static std::shared_ptr<WakeHub> For(const std::string& path);

  uint64_t Generation(const std::string& queue);
  uint64_t ExternalGeneration();
  // After a commit that may have made messages receivable in `queues`.
  void Notify(const std::vector<std::string>& queues);
  // After another connection's commit: every waiting long poll looks.
  void NotifyExternal();

  enum class Wake { kLocal, kExternal, kTimeout, kCancelled };
  // Waits on `ticker` until the queue's counter differs from `seen` (kLocal), the external
  // counter from `external_seen` (kExternal), `cancelled()` holds (kCancelled; checked under
  // the hub's lock, see Interrupt) or `until` passes (kTimeout).
  Wake WaitForChange(Ticker& ticker, const std::string& queue, uint64_t seen,
                     uint64_t external_seen, Ticker::TimePoint until,
                     const std::function<bool()>& cancelled);
  // Wakes the waits on `queue` to look at their `cancelled` condition, which the caller made
  // true before calling (a receive interrupted at shutdown). Counters are left alone.
  void Interrupt(const std::string& queue);

  // What ended the long polls' waits on one queue so far (for tests: a wake-up's cause is
  // asserted there, its latency is measured by B1 in `make bench`). A wait is counted as woken
  // (local, external) only when it ended before its `until`.
  struct WakeCounts {
    int waiting = 0;        // waits blocked right now
    uint64_t local = 0;     // a commit in this process (Notify)
    uint64_t external = 0;  // another connection's commit (the change watcher)
    uint64_t timeout = 0;   // the slice ran out: fallback poll, a visibility timeout, deadline
    bool operator==(const WakeCounts&) const = default;
  };
  WakeCounts Counts(const std::string& queue);

  // Starts the change watcher's subscription once (long polls only).
  void WatchOthersCommits(const std::shared_ptr<sqlite::Writer>& writer,
                          std::chrono::milliseconds fallback);
  // Whether the change watcher runs (WatchOthersCommits set it up): other processes' commits
  // then wake the long polls, and their fallback look can be rare.
  bool Watching() const { return watching_.load(); }

 private:
  struct Waiters {
    uint64_t generation = 0;
    WakeCounts counts;  // counts.waiting: no notify when nobody waits
    std::condition_variable cv;
  };

  std::mutex mu_;
  // Entries are never removed (a process declares a handful of queues), so references stay.
  std::map<std::string, Waiters, std::less<>> queues_;  // guarded by mu_
  uint64_t external_ = 0;                               // guarded by mu_
  std::once_flag watch_once_;
  std::atomic<bool> watching_{false};
  std::shared_ptr<sqlite::ChangeWatcher> watcher_;    // set once by WatchOthersCommits
  sqlite::OthersCommitsSubscription others_commits_;  // last: removed first
};

}  // namespace dripr::embedded
