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
    if (auto w = it->second.lock()) return w;
  }
  DRIPR_ASSIGN_OR_RETURN(auto conn,
                         Connection::Open(path, ConnectionOptions{.busy_timeout = busy_timeout,
                                                                  .create = false,
                                                                  .foreign_keys = true}));
  auto w = std::make_shared<Writer>(path, std::move(conn));
  r.writers[path] = w;
  return w;
}

Status Writer::InWriteTransaction(std::string_view what,
                                  const std::function<Status(Connection&)>& fn) {
  std::lock_guard lock(mu_);
  DRIPR_TRY(sqlite::InWriteTransaction(*conn_, what, fn));
  ++commits_;
  return Ok();
}

uint64_t Writer::commits() const {
  std::lock_guard lock(mu_);
  return commits_;
}

}  // namespace dripr::sqlite
