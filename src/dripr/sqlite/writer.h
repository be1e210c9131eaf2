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
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "dripr/core/error.h"
#include "dripr/sqlite/checkpointer.h"
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
  // Group commit by flat combining: the caller that finds the writer free takes the turn (the
  // combiner): it BEGINs, runs its own part, then the parts of the callers that queued
  // meanwhile, back to back, each a SAVEPOINT of the open transaction, COMMITs, hands every
  // member its result and, while callers are queued, runs the next batch itself (up to
  // kTurnBatches batches in all) before it passes the turn to the first caller still queued
  // (the next batch's combiner). A caller that finds the writer busy queues its part and
  // sleeps until its result is final (or the turn is handed to it). So `fn` and the pending work
  // may run on ANOTHER thread than the caller's, while the caller is blocked in this call: `fn`
  // must not depend on thread-locals of its caller nor on locks its caller holds (the combiner runs
  // it with this writer's thread-local state set: nested calls and AfterCommit behave as on the
  // caller's thread). A failed part undoes only its own writes; its error is its result at
  // once. A part that succeeded returns after the batch's COMMIT, with its outcome (when the
  // COMMIT fails, every member of the batch gets its error and none of their writes is kept).
  // A lone caller is BEGIN, `fn`, COMMIT as without batching (no savepoint). A batch runs at
  // most max_batch parts (SetMaxBatch, default kDefaultMaxBatch), so other processes get the
  // file lock between batches. BEGIN waits for other processes' locks up to the busy timeout
  // and fails (kUnavailable) for the caller whose part would have been first only; the turn
  // then goes to the next queued caller, which begins anew.
  // Nested: called again from inside `fn` (on the thread running it: a component writing the
  // same file through this writer, e.g. the outbox relay's publish to the embedded bus inside
  // its pass, Store::InOneTransaction), the inner call joins the open transaction as a
  // SAVEPOINT: its failure rolls back only its own writes and is its own result; its success
  // is final only when the outermost transaction commits (nested calls carry no
  // PendingInTransaction).
  // A caller inside another writer's transaction runs its part on its own thread, alone in
  // its transaction, and commits at once (it never waits for a batch while holding another
  // file's writer). As before combining, only the innermost writer counts as open on a
  // thread: from such a part, a call back into the outer writer is not nested and would wait
  // for its own thread's turn (no caller does this).
  Status InWriteTransaction(std::string_view what, const std::function<Status(Connection&)>& fn,
                            Carry carry = Carry::kNo);

  // Called from inside a part: runs `fn` once that part has committed (dropped if the part,
  // or the savepoint it was queued in, rolls back), on the thread of the part's caller (not
  // the combiner's), in the order queued, after the batch's COMMIT and before its
  // InWriteTransaction returns. Called outside a transaction on this writer: runs at once. For
  // in-process wake-ups, which must not run before the waiters can see the rows.
  void AfterCommit(std::function<void()> fn);

  // COMMITs through this writer so far (a batch of several callers counts once; for tests and
  // the ops metrics). Lock-free; counted before the batch's members are released, so a caller
  // that waited for the writer sees the count of every commit it waited for.
  uint64_t commits() const { return commits_.load(); }
  const std::string& path() const { return path_; }

  // Whether another connection (another process, or another connection of this one) committed
  // to the file since the previous call: PRAGMA data_version on the writer's own connection,
  // which moves for every commit except this writer's own (sqlite/change_watcher.h). The first
  // call sets the baseline and returns false. Queued at the writer like a caller's part: run
  // after a COMMIT in progress (which is then counted in commits()), or between two parts of
  // a batch (inside its transaction, which it does not end), outside a transaction when the
  // writer is free.
  Result<bool> OthersCommitted();

  // Callers queued at the writer now, whose parts no combiner has taken yet (tests; a hint
  // only).
  int waiting() const;

  // Bounds the parts of one batch (at least 1: no batching); for tests and tuning.
  static constexpr int kDefaultMaxBatch = 32;
  void SetMaxBatch(int parts);
  // Batches one combiner runs back to back before it hands the turn to the next queued caller
  // (whose own call it then is to combine): it keeps the turn while it is running instead of
  // waking a sleeping thread per batch, and returns to its own caller after at most this many.
  static constexpr int kTurnBatches = 4;

  // The WAL checkpoint (docs/decisions/store.md, "The checkpoint off the writer's turn"): the
  // writer connection does not auto-checkpoint; its WAL hook asks the Checkpointer (a thread
  // with a connection of its own) for a PASSIVE checkpoint each time the WAL has grown by
  // Checkpointer::kThresholdFrames, and checkpoints in its own turn only when the WAL reached
  // kInTurnFrames without being restarted (a stream of commits that never leaves the
  // checkpointer a quiet moment to finish), so the WAL stays bounded.
  static constexpr int kInTurnFrames = 3 * Checkpointer::kThresholdFrames;
  // The WAL's size in frames after the last commit (SQLite's count since the WAL last
  // restarted) and the checkpoints so far; for tests and measurements.
  int wal_frames() const { return wal_frames_.load(std::memory_order_relaxed); }
  Checkpointer::Stats checkpoint_stats() const { return checkpointer_->stats(); }

  // Installs the WAL hook on `conn`.
  Writer(std::string path, std::unique_ptr<Connection> conn);
  // Stops and joins the checkpointer (in a forked child: leaves the parent's alone).
  ~Writer();

 private:
  struct Request;

  // Runs `req` and returns its final result: as the combiner when the writer is free or the
  // turn is handed to it, else queued for the combiner. Then marks its pending work committed
  // and runs its AfterCommit callbacks (its own thread).
  Status Run(Request& req);
  // The turn's holder: runs batches, the first starting with `self`, until the queue is
  // empty or it hands the turn on (after kTurnBatches batches, or to a caller that must run
  // alone). `self`'s result is final on return.
  void Combine(Request& self);
  // One batch of Combine: runs `first` and (unless it runs alone) the queued parts up to
  // max_batch, commits and releases the members (every one but `self`, whose caller is this
  // thread). Returns the queued caller whose part starts the next batch on this thread, when
  // `may_keep`; else hands the turn to it (or frees the writer) and returns null.
  Request* CombineBatch(Request& self, Request& first, bool may_keep);
  // One queued part on the turn's connection: in a savepoint when it joins an open
  // transaction.
  Status RunPart(const Request& req, bool savepoint);
  // The nested form of InWriteTransaction (this thread runs a part).
  Status InSavepoint(std::string_view what, const std::function<Status(Connection&)>& fn);
  // The writer connection's WAL hook, after each COMMIT (on the turn's thread).
  static int OnWal(void* self, sqlite3* db, const char* schema, int frames);

  const std::string path_;
  // mu_ guards the queue and the turn; it is never held while SQLite runs. The thread that has
  // the turn (busy_, the combiner) alone uses the connection and the fields marked "the
  // turn's".
  mutable std::mutex mu_;
  bool busy_ = false;                                // guarded by mu_; a thread has the turn
  std::deque<Request*> queue_;                       // guarded by mu_; parts waiting for a combiner
  int max_batch_ = kDefaultMaxBatch;                 // guarded by mu_
  std::unique_ptr<Connection> conn_;                 // the turn's
  std::optional<WriteTransaction> tx_;               // the turn's; the batch's open transaction
  int64_t data_version_ = -1;                        // the turn's; OthersCommitted's baseline
  int savepoints_ = 0;                               // the turn's; depth of nested calls
  std::vector<std::function<void()>> after_commit_;  // the turn's; the running part's
  std::atomic<uint64_t> commits_{0};                 // written under mu_
  std::atomic<int> wal_frames_{0};                   // written by the turn
  int wal_last_ = 0;                                 // the turn's; frames at the last commit
  int request_at_ = Checkpointer::kThresholdFrames;  // the turn's; frames that ask the thread
  int in_turn_at_ = kInTurnFrames;                   // the turn's; frames that checkpoint here
  bool paused_ = false;                              // the turn's; the checkpointer is paused
  // Declared last: destroyed (stopped, joined) first, while the writer connection is open.
  std::unique_ptr<Checkpointer> checkpointer_;
};

}  // namespace dripr::sqlite
