#pragma once
// Waiting for a condition in tests: poll it until a deadline (never a bare sleep).

#include <sys/syscall.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <string>
#include <thread>

namespace dripr::testing {

template <class Pred>
bool Eventually(Pred pred, std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!pred()) {
    if (std::chrono::steady_clock::now() > deadline) return pred();
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return true;
}

// The calling thread's kernel id (for ThreadIsAsleep).
inline pid_t ThisThreadId() { return static_cast<pid_t>(::syscall(SYS_gettid)); }

// Whether thread `tid` of this process is asleep in the kernel right now (/proc state S: a
// condition variable, poll(), a lock, a socket read). A test that should act once another
// thread waits polls this (Eventually) rather than sleeping a head start; where the thread may
// also sleep briefly on its way to the wait, the test's assertions must hold either way.
inline bool ThreadIsAsleep(pid_t tid) {
  if (tid <= 0) return false;
  std::ifstream stat("/proc/self/task/" + std::to_string(tid) + "/stat");
  std::string line;
  if (!std::getline(stat, line)) return false;
  const auto close_paren = line.rfind(')');  // the name may hold spaces and parentheses
  return close_paren != std::string::npos && close_paren + 2 < line.size() &&
         line[close_paren + 2] == 'S';
}

}  // namespace dripr::testing
