#include "dripr/sqlite/writer.h"

#include <linux/futex.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <map>
#include <utility>

namespace dripr::sqlite {

namespace {

struct WriterRegistry {
  std::mutex mu;
  pid_t pid = 0;                                         // the process the entries belong to
  std::map<std::string, std::weak_ptr<Writer>> writers;  // guarded by mu
};

WriterRegistry& TheWriterRegistry() {
  static WriterRegistry* r =
      new WriterRegistry();  // never destroyed: writers may outlive static teardown
  return *r;
}

}  // namespace

Result<std::shared_ptr<Writer>> Writer::For(const std::string& raw_path,
                                            std::chrono::milliseconds busy_timeout) {
  const std::string path = AbsolutePath(raw_path);
  WriterRegistry& r = TheWriterRegistry();
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

Writer::Writer(std::string path, std::unique_ptr<Connection> conn)
    : path_(std::move(path)),
      conn_(std::move(conn)),
      checkpointer_(std::make_unique<Checkpointer>(path_)) {
  // Replaces SQLite's auto-checkpoint on this connection (sqlite3_wal_autocheckpoint is this
  // same hook); other connections keep theirs.
  sqlite3_wal_hook(conn_->raw(), &Writer::OnWal, this);
  // The savepoints of a combined batch (one per part after the first) keep the original of
  // every page a part changes in SQLite's statement sub-journal, which by default goes to a
  // temporary FILE once past 64 KiB: a pwrite per page, inside the turn. In memory it is a
  // memcpy (bounded by the batch's pages, freed at COMMIT). A failure here leaves the file
  // journal: slower, as correct.
  (void)conn_->Exec("PRAGMA temp_store=MEMORY");
}

Writer::~Writer() {
  // A forked child holding its parent's writer: the thread is not in this process and its
  // mutex may have been held at fork(); leave it (and its connection) untouched.
  if (checkpointer_->started_by_other_process()) (void)checkpointer_.release();
}

int Writer::OnWal(void* self, sqlite3* db, const char* /*schema*/, int frames) {
  auto& w = *static_cast<Writer*>(self);
  w.wal_frames_.store(frames, std::memory_order_relaxed);
  if (frames < w.wal_last_) {
    // The WAL restarted (a checkpoint had backfilled all of it): count anew.
    w.request_at_ = Checkpointer::kThresholdFrames;
    w.in_turn_at_ = kInTurnFrames;
  }
  w.wal_last_ = frames;
  if (w.paused_) {
    // The commit after an in-turn checkpoint: its BEGIN restarted the WAL (unless a reader
    // still used it).
    w.paused_ = false;
    w.checkpointer_->Resume();
  }
  if (frames >= w.in_turn_at_) {
    // The checkpointer never found the WAL quiet: finish here (only the frames since its last
    // pass are left to copy) so that the next write restarts the WAL.
    w.checkpointer_->RunHere(db);
    w.paused_ = true;
    w.in_turn_at_ = frames + Checkpointer::kThresholdFrames;
    w.request_at_ = frames + Checkpointer::kThresholdFrames;
  } else if (frames >= w.request_at_) {
    w.request_at_ = frames + Checkpointer::kThresholdFrames;
    w.checkpointer_->Request();
  }
  return SQLITE_OK;
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

// A caller's part of a transaction (or OthersCommitted's probe), on the caller's stack while
// it waits in Run.
struct Writer::Request {
  enum State : int { kQueued = 0, kDone = 1, kTurn = 2 };

  Request(std::string_view what_arg, const std::function<Status(Connection&)>& fn_arg,
          PendingInTransaction* pending_arg, bool in_transaction_arg, bool alone_arg)
      : what(what_arg),
        fn(fn_arg),
        pending(pending_arg),
        in_transaction(in_transaction_arg),
        alone(alone_arg) {}

  const std::string_view what;
  const std::function<Status(Connection&)>& fn;
  PendingInTransaction* const pending;  // the caller's, run after fn in the same savepoint
  // false: OthersCommitted's probe, run inside the open transaction or outside any (never
  // BEGINs, never a savepoint, its error unwrapped).
  const bool in_transaction;
  // Runs on its own thread, alone in its transaction (a caller inside another writer's).
  const bool alone;

  // Set by the thread that ran the part before state leaves kQueued; read by the caller after.
  Status result = Ok();
  std::vector<std::function<void()>> after;  // its AfterCommit callbacks, for its own thread

  // The futex word. A waiter sleeps on its own word: one wake-up when its result is final (or
  // the turn is its own), no queueing for mu_ again, and unlike std::atomic::wait (libstdc++
  // 12) no sched_yield spinning first. The FUTEX_WAKE after the store may reach the word
  // after its owner saw the store and returned (a wake-up of whatever waits there next,
  // which every futex user must take as spurious: Wait loops).
  std::atomic<int> state{kQueued};
  static_assert(sizeof(std::atomic<int>) == sizeof(int), "the futex word is the atomic's int");

  int Wait() const {
    int s;
    while ((s = state.load(std::memory_order_acquire)) == kQueued) {
      (void)::syscall(SYS_futex, reinterpret_cast<const int*>(&state), FUTEX_WAIT_PRIVATE, kQueued,
                      nullptr, nullptr, 0);
    }
    return s;
  }
  // The last use of the request by any thread but its caller's.
  void Post(State s) {
    state.store(s, std::memory_order_release);
    (void)::syscall(SYS_futex, reinterpret_cast<int*>(&state), FUTEX_WAKE_PRIVATE, 1, nullptr,
                    nullptr, 0);
  }
};

void Writer::SetMaxBatch(int parts) {
  std::lock_guard lock(mu_);
  max_batch_ = std::max(1, parts);
}

int Writer::waiting() const {
  std::lock_guard lock(mu_);
  return static_cast<int>(queue_.size());
}

Status Writer::InWriteTransaction(std::string_view what,
                                  const std::function<Status(Connection&)>& fn, Carry carry) {
  // Nested calls never carry: a pending acknowledgement is told "committed" only by the
  // commit itself.
  if (tls_open == this) return InSavepoint(what, fn);
  PendingInTransaction* pending = nullptr;
  if (carry == Carry::kPending && tls_pending != nullptr && tls_pending->writer_.get() == this &&
      !tls_pending->committed_) {
    pending = tls_pending;
  }
  Request req(what, fn, pending, /*in_transaction=*/true, /*alone=*/tls_open != nullptr);
  return Run(req);
}

Status Writer::Run(Request& req) {
  std::unique_lock lock(mu_);
  if (!busy_) {
    busy_ = true;
    lock.unlock();
    Combine(req);
  } else {
    queue_.push_back(&req);
    lock.unlock();
    if (req.Wait() == Request::kTurn) Combine(req);
  }
  if (!req.result) return req.result;
  if (req.pending != nullptr) req.pending->committed_ = true;
  for (auto& f : req.after) f();
  return Ok();
}

void Writer::Combine(Request& self) {
  struct Open {
    Writer* const outer = tls_open;  // another file's writer may have one open around us
    explicit Open(Writer* w) { tls_open = w; }
    ~Open() { tls_open = outer; }
  } open(this);
  Request* first = &self;  // the batch's first part: ours, then a queued caller's
  for (int batches = 1; first != nullptr; ++batches) {
    first = CombineBatch(self, *first, /*may_keep=*/batches < kTurnBatches);
  }
}

Writer::Request* Writer::CombineBatch(Request& self, Request& first, bool may_keep) {
  std::vector<Request*> members;  // parts kept in the open transaction, waiting for COMMIT
  std::optional<Error> lost;      // SQLite rolled the transaction back on a part's error
  int parts = 0;
  // Read now: `first` may be another caller's request, which it may free once it is posted.
  const bool first_alone = first.alone;
  Request* req = &first;
  while (true) {
    bool savepoint = tx_.has_value();
    if (req->in_transaction && !tx_) {
      auto tx = WriteTransaction::Begin(*conn_);
      if (!tx) {
        // Its caller's error alone; whoever is queued next begins anew with the turn.
        req->result = Fail(tx.error().Wrap(req->what));
        if (req != &self) req->Post(Request::kDone);
        break;
      }
      tx_.emplace(std::move(*tx));
    }
    if (req->in_transaction) ++parts;
    Status st = RunPart(*req, savepoint);
    if (st) {
      req->after.swap(after_commit_);
      if (req->in_transaction) {
        members.push_back(req);
      } else if (req != &self) {
        req->Post(Request::kDone);
      }
    } else {
      after_commit_.clear();
      if (tx_ && !conn_->InTransaction()) {
        // SQLite rolled the whole transaction back on this part's error (disk full, I/O
        // error): the parts before it are lost too.
        if (!members.empty()) lost = st.error();
        tx_.reset();
      } else if (req->in_transaction && !savepoint) {
        tx_.reset();  // the first part of the transaction: nothing else is in it to keep
      }
      req->result = st;  // its own savepoint is undone: final now
      if (req != &self) req->Post(Request::kDone);
      if (lost) break;
    }
    std::lock_guard lock(mu_);
    if (first_alone || parts >= max_batch_ || queue_.empty() || queue_.front()->alone) break;
    req = queue_.front();
    queue_.pop_front();
  }

  Status commit = Ok();
  if (lost) {
    commit = Fail(lost->Wrap("transaction lost by a batched caller"));
  } else if (tx_ && !members.empty()) {
    commit = tx_->Commit();
  }
  tx_.reset();  // rolls back what was not committed
  Request* next = nullptr;
  {
    std::lock_guard lock(mu_);
    if (commit && !members.empty()) ++commits_;
    if (queue_.empty()) {
      busy_ = false;
    } else {
      next = queue_.front();  // the next batch's first part
      queue_.pop_front();
    }
  }
  // This thread keeps the turn for the next batch when it may (it is running; the queued
  // callers sleep, and a hand-off leaves the writer unused until the woken thread gets a
  // core). A caller that must run alone gets the turn on its own thread. A turn handed on
  // goes before the members' wake-ups: the next combiner starts while they are woken.
  const bool keep = next != nullptr && may_keep && !next->alone;
  if (next != nullptr && !keep) next->Post(Request::kTurn);
  for (Request* m : members) {
    if (!commit) m->result = Fail(commit.error().Wrap(m->what));
    if (m != &self) m->Post(Request::kDone);
  }
  return keep ? next : nullptr;
}

Status Writer::RunPart(const Request& req, bool savepoint) {
  if (!req.in_transaction) return req.fn(*conn_);
  auto body = [&](Connection& c) -> Status {
    DRIPR_TRY(req.fn(c));
    if (req.pending != nullptr) return req.pending->fn_(c);
    return Ok();
  };
  // The first part of a transaction needs no savepoint: when it fails, the whole transaction
  // goes, and the next part begins its own.
  if (!savepoint) return body(*conn_);
  return InSavepoint(req.what, body);
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
  after_commit_.push_back(std::move(fn));  // this thread runs a part
}

Result<bool> Writer::OthersCommitted() {
  bool changed = false;
  const std::function<Status(Connection&)> probe = [&](Connection& c) -> Status {
    DRIPR_ASSIGN_OR_RETURN(auto s, c.Prepare("PRAGMA data_version"));
    DRIPR_ASSIGN_OR_RETURN(bool row, s.Step());
    if (!row) return Fail(ErrorCode::kInternal, "PRAGMA data_version returned no row");
    const int64_t version = s.Int(0);
    changed = data_version_ >= 0 && version != data_version_;
    data_version_ = version;
    return Ok();
  };
  // From inside a part on this writer (the connection is this thread's): at once.
  if (tls_open == this) {
    DRIPR_TRY(probe(*conn_));
    return changed;
  }
  Request req("others committed", probe, nullptr, /*in_transaction=*/false,
              /*alone=*/tls_open != nullptr);
  DRIPR_TRY(Run(req));
  return changed;
}

}  // namespace dripr::sqlite
