#pragma once
// The SQLite store's in-process outbox wake-up for one database file (internal to
// store/sqlite/). Every SqliteStore on the file in this process is a member; a commit that
// adds (or releases) outbox rows through one of them makes the others' WaitForOutbox re-read
// max(outbox.id) at once. They share the file's writer (sqlite/writer.h), so the change
// watcher, which reports only other connections' commits, cannot tell them of one another's
// rows: without the hub those were seen by the fallback re-read only. The embedded bus's
// WakeHub does the same for its long polls (bus/embedded/wake_hub.h).
//
// Thread-safe.

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>

namespace dripr::sqlite_store {

class OutboxHub {
 public:
  using Listener = std::function<void()>;

  // The process's hub for the absolute path `path` (a forked child gets hubs of its own).
  static std::shared_ptr<OutboxHub> For(const std::string& path);

  // Registers `fn`; the returned id unregisters it. After Remove returns, `fn` is not running
  // and is never called again.
  uint64_t Add(Listener fn);
  void Remove(uint64_t id);
  // Calls every listener but the one registered as `from`.
  void NotifyOthers(uint64_t from);

 private:
  std::mutex mu_;                           // held while listeners run
  std::map<uint64_t, Listener> listeners_;  // guarded by mu_
  uint64_t next_id_ = 1;                    // guarded by mu_
};

// One store's membership of its file's hub; leaves it on destruction (declare it after
// whatever the listener uses).
class OutboxHubMembership {
 public:
  OutboxHubMembership() = default;
  ~OutboxHubMembership();
  OutboxHubMembership(const OutboxHubMembership&) = delete;
  OutboxHubMembership& operator=(const OutboxHubMembership&) = delete;

  // Joins the hub of `path` with `fn` (called for the other members' commits). Once.
  void Join(const std::string& path, OutboxHub::Listener fn);
  // Wakes the other members (nothing before Join).
  void NotifyOthers();

 private:
  std::shared_ptr<OutboxHub> hub_;
  uint64_t id_ = 0;
};

}  // namespace dripr::sqlite_store
