#include "dripr/core/thread_name.h"

#include <pthread.h>

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

}  // namespace dripr
