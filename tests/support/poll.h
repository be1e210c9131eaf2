#pragma once
// Waiting for a condition in tests: poll it until a deadline (never a bare sleep).

#include <chrono>
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

}  // namespace dripr::testing
