#include "dripr/store/sqlite/sqlite_outbox_hub.h"

#include <unistd.h>

namespace dripr::sqlite_store {

namespace {

struct Registry {
  std::mutex mu;
  pid_t pid = 0;
  std::map<std::string, std::weak_ptr<OutboxHub>> hubs;  // guarded by mu
};

Registry& TheRegistry() {
  static Registry* r = new Registry();  // never destroyed: hubs may outlive static teardown
  return *r;
}

}  // namespace

std::shared_ptr<OutboxHub> OutboxHub::For(const std::string& path) {
  Registry& r = TheRegistry();
  std::lock_guard lock(r.mu);
  if (r.pid != ::getpid()) {
    r.hubs.clear();  // a forked child: the parent's stores are not here
    r.pid = ::getpid();
  }
  std::erase_if(r.hubs, [](const auto& e) { return e.second.expired(); });
  auto& slot = r.hubs[path];
  auto hub = slot.lock();
  if (!hub) {
    hub = std::make_shared<OutboxHub>();
    slot = hub;
  }
  return hub;
}

uint64_t OutboxHub::Add(Listener fn) {
  std::lock_guard lock(mu_);
  const uint64_t id = next_id_++;
  listeners_.emplace(id, std::move(fn));
  return id;
}

void OutboxHub::Remove(uint64_t id) {
  std::lock_guard lock(mu_);
  listeners_.erase(id);
}

void OutboxHub::NotifyOthers(uint64_t from) {
  std::lock_guard lock(mu_);
  for (auto& [id, fn] : listeners_) {
    if (id != from) fn();
  }
}

OutboxHubMembership::~OutboxHubMembership() {
  if (hub_) hub_->Remove(id_);
}

void OutboxHubMembership::Join(const std::string& path, OutboxHub::Listener fn) {
  if (hub_) return;
  hub_ = OutboxHub::For(path);
  id_ = hub_->Add(std::move(fn));
}

void OutboxHubMembership::NotifyOthers() {
  if (hub_) hub_->NotifyOthers(id_);
}

}  // namespace dripr::sqlite_store
