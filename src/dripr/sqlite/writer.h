#pragma once
// One writer per database file and process (docs/decisions/store.md, "One writer"): the store
// and the embedded bus write the same file through ONE connection, so commits in one process
// queue on a mutex instead of colliding in SQLite's lock and sleeping in its busy handler.
// Reads keep their own WAL connections (a pool in the store, one in the broker). Other
// processes still meet at SQLite's file lock (busy timeout).
//
// Thread-safe. Writers for the same absolute path in one process are the same object
// (Writer::For); a child process after fork() gets its own (connections must not cross
// fork()).

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "dripr/core/error.h"
#include "dripr/sqlite/db.h"

namespace dripr::sqlite {

class Writer;

// Work another layer asks to commit atomically with this thread's next carrying transaction
// on `writer` (transactional consume: the embedded bus deletes a message in the handler's own
// commit; docs/decisions/bus.md). Installed on the constructing thread for the object's
// lifetime (nests); runs at most once; committed() says whether it was committed.
class PendingInTransaction {
 public:
  PendingInTransaction(std::shared_ptr<Writer> writer, std::function<Status(Connection&)> fn);
  ~PendingInTransaction();
  PendingInTransaction(const PendingInTransaction&) = delete;
  PendingInTransaction& operator=(const PendingInTransaction&) = delete;
  bool committed() const { return committed_; }

 private:
  friend class Writer;
  const std::shared_ptr<Writer> writer_;
  const std::function<Status(Connection&)> fn_;
  bool committed_ = false;
  PendingInTransaction* const outer_;  // the one installed before, restored on destruction
};

class Writer {
 public:
  // Whether a transaction takes the calling thread's PendingInTransaction along.
  enum class Carry { kNo, kPending };

  // The process's writer for `path` (made absolute), opening its connection (foreign_keys on,
  // no create: the caller has opened the file already) the first time. `busy_timeout` bounds
  // waits for OTHER processes' write locks; the first caller's value is kept.
  static Result<std::shared_ptr<Writer>> For(const std::string& path,
                                             std::chrono::milliseconds busy_timeout);
  Writer(const Writer&) = delete;
  Writer& operator=(const Writer&) = delete;

  // Runs `fn` in one BEGIN IMMEDIATE … COMMIT on the writer connection (prepared statements),
  // holding the writer's mutex: commits when it succeeds, rolls back otherwise. `what`
  // prefixes BEGIN/COMMIT errors. With Carry::kPending, the calling thread's
  // PendingInTransaction for this writer (if any, not yet committed) runs after `fn` in the
  // same transaction; its failure rolls back both.
  // Nested: called again from inside `fn` on the same thread (a component writing the same
  // file through this writer, e.g. the outbox relay's publish to the embedded bus inside its
  // pass, Store::InOneTransaction), the inner call joins the open transaction as a SAVEPOINT:
  // its failure rolls back only its own writes and is its own result; its success is final
  // only when the outermost transaction commits (nested calls carry no PendingInTransaction).
  // Other threads wait for the whole transaction.
  Status InWriteTransaction(std::string_view what, const std::function<Status(Connection&)>& fn,
                            Carry carry = Carry::kNo);

  // Runs `fn` once the calling thread's transaction on this writer has committed (dropped if
  // it, or the savepoint it was queued in, rolls back), outside the writer's mutex; at once
  // when the thread has none open. For in-process wake-ups, which must not run before the
  // waiters can see the rows.
  void AfterCommit(std::function<void()> fn);

  // Commits through this writer so far (for tests and the ops metrics). Lock-free; counted
  // before the writer's mutex is released, so a caller that waited for the writer sees the
  // count of every commit it waited for.
  uint64_t commits() const { return commits_.load(); }
  const std::string& path() const { return path_; }

  // Whether another connection (another process, or another connection of this one) committed
  // to the file since the previous call: PRAGMA data_version on the writer's own connection,
  // which moves for every commit except this writer's own (sqlite/change_watcher.h). The first
  // call sets the baseline and returns false. Waits for a transaction in progress.
  Result<bool> OthersCommitted();

  explicit Writer(std::string path, std::unique_ptr<Connection> conn)
      : path_(std::move(path)), conn_(std::move(conn)) {}

 private:
  // The nested form of InWriteTransaction (mu_ held by this thread).
  Status InSavepoint(std::string_view what, const std::function<Status(Connection&)>& fn);

  const std::string path_;
  mutable std::mutex mu_;
  std::unique_ptr<Connection> conn_;                 // guarded by mu_
  int64_t data_version_ = -1;                        // guarded by mu_; OthersCommitted's baseline
  int savepoints_ = 0;                               // guarded by mu_; depth of nested calls
  std::vector<std::function<void()>> after_commit_;  // guarded by mu_
  std::atomic<uint64_t> commits_{0};                 // written under mu_
};

}  // namespace dripr::sqlite
