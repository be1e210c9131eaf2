#include "dripr/core/thread_name.h"

#include <pthread.h>

#include <array>

namespace dripr {

std::string ThreadName(std::string_view role, std::string_view subject) {
  std::string name(role);
  if (!subject.empty()) {
    name += ':';
    name += subject;
  }
  if (name.size() > kMaxThreadNameBytes) name.resize(kMaxThreadNameBytes);
  return name;
}

void NameThisThread(std::string_view name) {
  const std::string cut = ThreadName(name);
  pthread_setname_np(pthread_self(), cut.c_str());
}

std::string ThisThreadName() {
  std::array<char, kMaxThreadNameBytes + 1> buf{};
  if (pthread_getname_np(pthread_self(), buf.data(), buf.size()) != 0) return {};
  return buf.data();
}

}  // namespace dripr
