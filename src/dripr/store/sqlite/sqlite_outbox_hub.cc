#include "dripr/store/sqlite/sqlite_outbox_hub.h"

#include "dripr/core/per_process.h"

namespace dripr::sqlite_store {

std::shared_ptr<OutboxHub> OutboxHub::For(const std::string& path) {
  // Never destroyed: hubs may outlive static teardown.
  static auto* registry = new PerProcessRegistry<OutboxHub>();
  return registry->Get(path);
}

void OutboxHub::Join(const void* member, std::function<void()> recheck) {
  std::lock_guard lock(mu_);
  members_[member] = std::move(recheck);
}

void OutboxHub::Leave(const void* member) {
  std::lock_guard lock(mu_);
  members_.erase(member);
}

void OutboxHub::NotifyOthers(const void* from) {
  std::lock_guard lock(mu_);
  for (auto& [member, recheck] : members_) {
    if (member != from) recheck();
  }
}

}  // namespace dripr::sqlite_store
