#pragma once
// One writer per database file and process (docs/decisions/store.md, "One writer"): the store
// and the embedded bus write the same file through ONE connection, so commits in one process
// take turns instead of colliding in SQLite's lock and sleeping in its busy handler, and
// concurrent callers share one transaction (group commit, Writer::InWriteTransaction).
// Reads keep their own WAL connections (a pool in the store, one in the broker). Other
// processes still meet at SQLite's file lock (busy timeout).
//
// Thread-safe. Writers for the same absolute path in one process are the same object
// (Writer::For); a child process after fork() gets its own (connections must not cross
// fork()).

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
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

  // Runs `fn` in a write transaction on the writer connection and returns once its writes are
  // committed (Ok) or undone (the error). `what` prefixes BEGIN/COMMIT errors. With
  // Carry::kPending, the calling thread's PendingInTransaction for this writer (if any, not
  // yet committed) runs after `fn` in the same transaction; its failure undoes both.
  // Group commit: callers of several threads share one BEGIN IMMEDIATE … COMMIT. Each caller
  // runs its part (`fn` and its pending work) on its own thread, one at a time, as a SAVEPOINT
  // of the open transaction; a failed part undoes only its own writes and is returned at once.
  // A part that succeeded waits for the batch's COMMIT: its result is that COMMIT's (when the
  // COMMIT fails, every member of the batch gets its error and none of their writes is kept).
  // The caller that finds nobody waiting for the writer commits at once (a lone caller: BEGIN,
  // `fn`, COMMIT as without batching); otherwise it leaves the transaction open for the next
  // waiter. A batch holds at most max_batch parts (SetMaxBatch, default kDefaultMaxBatch), so
  // other processes get the file lock between batches. BEGIN waits for other processes' locks
  // up to the busy timeout and fails (kUnavailable) for its caller only.
  // Nested: called again from inside `fn` on the same thread (a component writing the same
  // file through this writer, e.g. the outbox relay's publish to the embedded bus inside its
  // pass, Store::InOneTransaction), the inner call joins the open transaction as a SAVEPOINT:
  // its failure rolls back only its own writes and is its own result; its success is final
  // only when the outermost transaction commits (nested calls carry no PendingInTransaction).
  // A caller inside another writer's transaction commits its part at once (never waits for a
  // batch while holding another file's writer).
  Status InWriteTransaction(std::string_view what, const std::function<Status(Connection&)>& fn,
                            Carry carry = Carry::kNo);

  // Runs `fn` once the calling thread's transaction on this writer has committed (dropped if
  // its part, or the savepoint it was queued in, rolls back), on the calling thread, in the
  // order queued, after the batch's COMMIT and before InWriteTransaction returns; at once
  // when the thread has none open. For in-process wake-ups, which must not run before the
  // waiters can see the rows.
  void AfterCommit(std::function<void()> fn);

  // COMMITs through this writer so far (a batch of several callers counts once; for tests and
  // the ops metrics). Lock-free; counted before the batch's members are released, so a caller
  // that waited for the writer sees the count of every commit it waited for.
  uint64_t commits() const { return commits_.load(); }
  const std::string& path() const { return path_; }

  // Whether another connection (another process, or another connection of this one) committed
  // to the file since the previous call: PRAGMA data_version on the writer's own connection,
  // which moves for every commit except this writer's own (sqlite/change_watcher.h). The first
  // call sets the baseline and returns false. Takes a turn at the writer like a caller's
  // part: after a COMMIT in progress (which is then counted in commits()), or between two
  // parts of an open batch (which it commits when nobody else waits).
  Result<bool> OthersCommitted();

  // Callers waiting for their turn at the writer now (tests; a hint only).
  int waiting() const;

  // Bounds the parts of one batch (at least 1: no batching); for tests and tuning.
  static constexpr int kDefaultMaxBatch = 32;
  void SetMaxBatch(int parts);

  explicit Writer(std::string path, std::unique_ptr<Connection> conn)
      : path_(std::move(path)), conn_(std::move(conn)) {}

 private:
  struct Batch;

  // Waits for the connection (mu_ held by `lock`); the thread has it until EndTurn.
  void TakeTurn(std::unique_lock<std::mutex>& lock);
  // Gives the turn up (mu_ held by `lock`, released on return) and wakes whoever can go on.
  void EndTurn(std::unique_lock<std::mutex>& lock);
  // Whether the turn ending now leaves `batch` open for the next waiter (mu_ held).
  bool KeepOpen(const Batch& batch) const;
  // Commits the batch (rolls it back when no part is kept, or it was lost), ends the turn and
  // releases the members; the COMMIT's outcome, unwrapped.
  Status EndBatch(std::unique_lock<std::mutex>& lock, Batch& batch);
  // A caller's part of the open transaction (the connection is this thread's).
  Status RunPart(std::string_view what, const std::function<Status(Connection&)>& fn,
                 PendingInTransaction* pending, bool first);
  // The nested form of InWriteTransaction (this thread has the connection).
  Status InSavepoint(std::string_view what, const std::function<Status(Connection&)>& fn);

  const std::string path_;
  // mu_ guards the turn-taking state; it is never held while SQLite runs. The thread that has
  // the turn (busy_) alone uses the connection and the fields marked "the turn's".
  mutable std::mutex mu_;
  std::condition_variable turn_cv_;     // callers waiting for the turn
  bool busy_ = false;                   // guarded by mu_; a thread has the turn
  int waiting_ = 0;                     // guarded by mu_; callers waiting for the turn
  int max_batch_ = kDefaultMaxBatch;    // guarded by mu_
  std::shared_ptr<Batch> batch_;        // guarded by mu_; the transaction left open, if any
  std::unique_ptr<Connection> conn_;    // the turn's
  std::optional<WriteTransaction> tx_;  // the turn's; the batch's open transaction
  int64_t data_version_ = -1;           // the turn's; OthersCommitted's baseline
  int savepoints_ = 0;                  // the turn's; depth of nested calls
  std::vector<std::function<void()>> after_commit_;  // the turn's; the running part's
  std::atomic<uint64_t> commits_{0};                 // written under mu_
};

}  // namespace dripr::sqlite
