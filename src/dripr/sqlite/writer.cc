#include "dripr/sqlite/writer.h"

#include <linux/futex.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <climits>
#include <map>
#include <utility>

namespace dripr::sqlite {

namespace {

struct Registry {
  std::mutex mu;
  pid_t pid = 0;                                         // the process the entries belong to
  std::map<std::string, std::weak_ptr<Writer>> writers;  // guarded by mu
};

Registry& TheRegistry() {
  static Registry* r = new Registry();  // never destroyed: writers may outlive static teardown
  return *r;
}

}  // namespace

Result<std::shared_ptr<Writer>> Writer::For(const std::string& raw_path,
                                            std::chrono::milliseconds busy_timeout) {
  const std::string path = AbsolutePath(raw_path);
  Registry& r = TheRegistry();
  std::lock_guard lock(r.mu);
  if (r.pid != ::getpid()) {
    // A forked child: the parent's writers are not ours to use (forgetting them closes
    // nothing; whoever holds them decides).
    r.writers.clear();
    r.pid = ::getpid();
  }
  auto it = r.writers.find(path);
  if (it != r.writers.end()) {
    // A file replaced at the same path gets a writer of its own (the old one keeps failing
    // its identity check at BEGIN, as it should for whoever still holds it).
    auto w = it->second.lock();
    if (w && StatFileId(path) == w->conn_->file_id()) return w;
  }
  DRIPR_ASSIGN_OR_RETURN(auto conn,
                         Connection::Open(path, ConnectionOptions{.busy_timeout = busy_timeout,
                                                                  .create = false,
                                                                  .foreign_keys = true}));
  auto w = std::make_shared<Writer>(path, std::move(conn));
  r.writers[path] = w;
  return w;
}

namespace {
thread_local PendingInTransaction* tls_pending = nullptr;
}  // namespace

PendingInTransaction::PendingInTransaction(std::shared_ptr<Writer> writer,
                                           std::function<Status(Connection&)> fn)
    : writer_(std::move(writer)), fn_(std::move(fn)), outer_(tls_pending) {
  tls_pending = this;
}

PendingInTransaction::~PendingInTransaction() { tls_pending = outer_; }

namespace {
// The writer whose transaction this thread has open (nested calls join it).
thread_local Writer* tls_open = nullptr;

Status RunCached(Connection& c, const std::string& sql) {
  DRIPR_ASSIGN_OR_RETURN(auto s, c.Prepare(sql));
  return s.Run();
}
}  // namespace

// One SQLite transaction shared by the parts of several callers (group commit).
struct Writer::Batch {
  int parts = 0;                // callers' parts run in it so far
  int kept = 0;                 // of which succeeded (their writes are in the transaction)
  std::optional<Error> failed;  // set when the transaction was lost: nothing can be kept
  Status result;                // COMMIT's outcome (unwrapped), for the waiting members
  // 1 once the transaction ended and `result` is final. Members wait on it with a futex of
  // their own: waking them does not make them queue for mu_ again, and unlike
  // std::atomic::wait (libstdc++ 12) nothing spins in sched_yield first.
  std::atomic<int> done{0};
  static_assert(sizeof(std::atomic<int>) == sizeof(int), "the futex word is the atomic's int");

  void Wait() const {
    while (done.load(std::memory_order_acquire) == 0) {
      (void)::syscall(SYS_futex, reinterpret_cast<const int*>(&done), FUTEX_WAIT_PRIVATE, 0,
                      nullptr, nullptr, 0);
    }
  }
  void Finish() {
    done.store(1, std::memory_order_release);
    (void)::syscall(SYS_futex, reinterpret_cast<int*>(&done), FUTEX_WAKE_PRIVATE, INT_MAX, nullptr,
                    nullptr, 0);
  }
};

void Writer::SetMaxBatch(int parts) {
  std::lock_guard lock(mu_);
  max_batch_ = std::max(1, parts);
}

int Writer::waiting() const {
  std::lock_guard lock(mu_);
  return waiting_;
}

void Writer::TakeTurn(std::unique_lock<std::mutex>& lock) {
  ++waiting_;
  turn_cv_.wait(lock, [&] { return !busy_; });
  --waiting_;
  busy_ = true;
}

void Writer::EndTurn(std::unique_lock<std::mutex>& lock) {
  busy_ = false;
  const bool next = waiting_ > 0;
  // Notified after unlocking: a thread woken while mu_ is still held would only block on it.
  lock.unlock();
  if (next) turn_cv_.notify_one();
}

bool Writer::KeepOpen(const Batch& batch) const {
  return waiting_ > 0 && !batch.failed && batch.parts < max_batch_;
}

Status Writer::EndBatch(std::unique_lock<std::mutex>& lock, Batch& batch) {
  batch_ = nullptr;
  lock.unlock();
  Status result = Ok();
  if (batch.failed) {
    result = Fail(batch.failed->Wrap("transaction lost by a batched caller"));
  } else if (batch.kept > 0) {
    result = tx_->Commit();
  }
  tx_.reset();  // rolls back what was not committed
  lock.lock();
  if (result && batch.kept > 0) ++commits_;
  batch.result = result;
  EndTurn(lock);
  batch.Finish();
  return result;
}

Status Writer::InWriteTransaction(std::string_view what,
                                  const std::function<Status(Connection&)>& fn, Carry carry) {
  PendingInTransaction* pending = nullptr;
  if (carry == Carry::kPending && tls_pending != nullptr && tls_pending->writer_.get() == this &&
      !tls_pending->committed_) {
    pending = tls_pending;
  }
  // Nested calls never carry: a pending acknowledgement is told "committed" only by the
  // commit itself.
  if (tls_open == this) return InSavepoint(what, fn);
  // A thread inside another file's transaction never waits for a batch of ours to commit (the
  // batch's other members might wait for that file's writer): its part commits at once.
  const bool nested_elsewhere = tls_open != nullptr;

  std::unique_lock lock(mu_);
  TakeTurn(lock);
  std::shared_ptr<Batch> batch = batch_;
  const bool first = batch == nullptr;
  lock.unlock();

  // The connection is ours until EndTurn.
  if (first) {
    auto tx = WriteTransaction::Begin(*conn_);
    if (!tx) {
      lock.lock();
      EndTurn(lock);
      return Fail(tx.error().Wrap(what));
    }
    tx_.emplace(std::move(*tx));
    batch = std::make_shared<Batch>();
  }
  Status st = RunPart(what, fn, pending, first);
  std::vector<std::function<void()>> after;
  if (st) after.swap(after_commit_);
  after_commit_.clear();
  if (!st && !conn_->InTransaction() && !batch->failed) {
    // SQLite rolled the whole transaction back on this part's error (disk full, I/O error):
    // the parts before it are lost too.
    batch->failed = st.error();
  }

  lock.lock();
  ++batch->parts;
  if (st) ++batch->kept;
  if (first && !st) {
    // Nothing else is in the transaction: end it now (the next caller begins its own).
    lock.unlock();
    tx_.reset();  // rolls back
    lock.lock();
    EndTurn(lock);
    return st;
  }
  if (!nested_elsewhere && KeepOpen(*batch)) {
    batch_ = batch;
    EndTurn(lock);
    if (!st) return st;  // its own savepoint is undone; the batch goes on without it
    batch->Wait();
    if (!batch->result) return Fail(batch->result.error().Wrap(what));
  } else {
    Status result = EndBatch(lock, *batch);
    if (!st) return st;
    if (!result) return Fail(result.error().Wrap(what));
  }
  if (pending != nullptr) pending->committed_ = true;
  for (auto& f : after) f();
  return Ok();
}

Status Writer::RunPart(std::string_view what, const std::function<Status(Connection&)>& fn,
                       PendingInTransaction* pending, bool first) {
  struct Open {
    Writer* const outer = tls_open;  // another file's writer may have one open around us
    explicit Open(Writer* w) { tls_open = w; }
    ~Open() { tls_open = outer; }
  } open(this);
  auto body = [&](Connection& c) -> Status {
    DRIPR_TRY(fn(c));
    if (pending != nullptr) return pending->fn_(c);
    return Ok();
  };
  // The first part of a batch needs no savepoint: when it fails, the whole transaction goes.
  if (first) return body(*conn_);
  return InSavepoint(what, body);
}

Status Writer::InSavepoint(std::string_view what, const std::function<Status(Connection&)>& fn) {
  const std::string name = "dripr_nested_" + std::to_string(++savepoints_);
  struct Depth {
    int& n;
    ~Depth() { --n; }
  } depth{savepoints_};
  if (auto st = RunCached(*conn_, "SAVEPOINT " + name); !st) {
    return Fail(st.error().Wrap(std::string(what) + ": savepoint"));
  }
  const size_t queued = after_commit_.size();
  Status st = fn(*conn_);
  if (st) {
    if (auto released = RunCached(*conn_, "RELEASE " + name); !released) {
      st = Fail(released.error().Wrap(std::string(what) + ": release savepoint"));
    }
  }
  if (!st) {
    // Undo this call's writes only; the open transaction goes on.
    (void)RunCached(*conn_, "ROLLBACK TO " + name);
    (void)RunCached(*conn_, "RELEASE " + name);
    after_commit_.resize(queued);
    return st;
  }
  return Ok();
}

void Writer::AfterCommit(std::function<void()> fn) {
  if (tls_open != this) {
    fn();
    return;
  }
  after_commit_.push_back(std::move(fn));  // this thread has the turn
}

Result<bool> Writer::OthersCommitted() {
  // A turn like a caller's part: between two parts of an open batch, whose commit is then
  // still to come (that commit's own WAL event brings the watcher back), or after a commit,
  // which is then counted.
  std::unique_lock lock(mu_);
  TakeTurn(lock);
  std::shared_ptr<Batch> batch = batch_;
  lock.unlock();
  auto version = [&]() -> Result<int64_t> {
    DRIPR_ASSIGN_OR_RETURN(auto s, conn_->Prepare("PRAGMA data_version"));
    DRIPR_ASSIGN_OR_RETURN(bool row, s.Step());
    if (!row) return Fail(ErrorCode::kInternal, "PRAGMA data_version returned no row");
    return s.Int(0);
  }();
  const bool changed = version && data_version_ >= 0 && *version != data_version_;
  if (version) data_version_ = *version;
  lock.lock();
  if (batch != nullptr && !KeepOpen(*batch)) {
    (void)EndBatch(lock, *batch);  // the last turn commits the batch; its members get the result
  } else {
    EndTurn(lock);
  }
  if (!version) return Fail(version.error());
  return changed;
}

}  // namespace dripr::sqlite
