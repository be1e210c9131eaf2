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

Status Writer::InWriteTransaction(std::string_view what,
                                  const std::function<Status(Connection&)>& fn, Carry carry) {
  PendingInTransaction* pending = nullptr;
  if (carry == Carry::kPending && tls_pending != nullptr && tls_pending->writer_.get() == this &&
      !tls_pending->committed_) {
    pending = tls_pending;
  }
  std::lock_guard lock(mu_);
  if (pending == nullptr) {
    DRIPR_TRY(sqlite::InWriteTransaction(*conn_, what, fn));
  } else {
    DRIPR_TRY(sqlite::InWriteTransaction(*conn_, what, [&](Connection& c) -> Status {
      DRIPR_TRY(fn(c));
      return pending->fn_(c);
    }));
    pending->committed_ = true;
  }
  ++commits_;
  return Ok();
}

uint64_t Writer::commits() const {
  std::lock_guard lock(mu_);
  return commits_;
}

}  // namespace dripr::sqlite
