#pragma once
// One object per key and process, shared by everyone who asks for the key while anyone holds
// it: the embedded bus's WakeHub and the SQLite store's OutboxHub, one per database file.
// A forked child starts afresh (the parent's objects describe waiters and threads it does not
// have).

#include <unistd.h>

#include <map>
#include <memory>
#include <mutex>
#include <string>

namespace dripr {

template <class T>
class PerProcessRegistry {
 public:
  // The live object for `key`; a new T() when there is none.
  std::shared_ptr<T> Get(const std::string& key) {
    std::lock_guard lock(mu_);
    if (pid_ != ::getpid()) {
      objects_.clear();
      pid_ = ::getpid();
    }
    std::erase_if(objects_, [](const auto& e) { return e.second.expired(); });
    auto& slot = objects_[key];
    auto object = slot.lock();
    if (!object) {
      object = std::make_shared<T>();
      slot = object;
    }
    return object;
  }

 private:
  std::mutex mu_;
  pid_t pid_ = 0;
  std::map<std::string, std::weak_ptr<T>> objects_;  // guarded by mu_
};

}  // namespace dripr
