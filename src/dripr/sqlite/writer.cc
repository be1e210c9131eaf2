#include "dripr/sqlite/writer.h"

#include <unistd.h>

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
}  // namespace

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
  std::vector<std::function<void()>> after;
  {
    std::lock_guard lock(mu_);
    struct Close {
      Writer& w;
      Writer* const outer = tls_open;  // another file's writer may have one open around us
      ~Close() {
        tls_open = outer;
        w.after_commit_.clear();  // kept only by a commit (moved out below)
      }
    } close{*this};
    tls_open = this;
    Status st = sqlite::InWriteTransaction(*conn_, what, [&](Connection& c) -> Status {
      DRIPR_TRY(fn(c));
      if (pending != nullptr) return pending->fn_(c);
      return Ok();
    });
    if (!st) return st;
    if (pending != nullptr) pending->committed_ = true;
    ++commits_;
    after.swap(after_commit_);
  }
  for (auto& f : after) f();
  return Ok();
}

namespace {
Status RunCached(Connection& c, const std::string& sql) {
  DRIPR_ASSIGN_OR_RETURN(auto s, c.Prepare(sql));
  return s.Run();
}
}  // namespace

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
  after_commit_.push_back(std::move(fn));  // mu_ is held by this thread
}

Result<bool> Writer::OthersCommitted() {
  std::lock_guard lock(mu_);
  DRIPR_ASSIGN_OR_RETURN(auto s, conn_->Prepare("PRAGMA data_version"));
  DRIPR_ASSIGN_OR_RETURN(bool row, s.Step());
  if (!row) return Fail(ErrorCode::kInternal, "PRAGMA data_version returned no row");
  const int64_t v = s.Int(0);
  const bool changed = data_version_ >= 0 && v != data_version_;
  data_version_ = v;
  return changed;
}

}  // namespace dripr::sqlite
