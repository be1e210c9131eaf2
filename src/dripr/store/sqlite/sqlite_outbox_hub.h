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

#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>

namespace dripr::sqlite_store {

class OutboxHub {
 public:
  // The process's hub for the absolute path `path`.
  static std::shared_ptr<OutboxHub> For(const std::string& path);

  // `member` (its address is its name) is told of the other members' commits by `recheck`
  // until it leaves. After Leave returns, `recheck` is not running and is never called again.
  void Join(const void* member, std::function<void()> recheck);
  void Leave(const void* member);
  // Calls every member's `recheck` but `from`'s.
  void NotifyOthers(const void* from);

 private:
  std::mutex mu_;                                         // held while `recheck`s run
  std::map<const void*, std::function<void()>> members_;  // guarded by mu_
};

}  // namespace dripr::sqlite_store
