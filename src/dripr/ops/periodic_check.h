#pragma once
// PeriodicCheck: a named health check re-run on its own thread every `interval`, keeping
// its last outcome so that a request never waits on the dependency it checks. A check
// still running after `timeout` counts as failing ("no answer within 3 s").

#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <string>
#include <thread>

#include "dripr/core/clock.h"
#include "dripr/core/error.h"
#include "dripr/ops/ops_server.h"

namespace dripr {

// One named check re-run periodically on its own thread.
class PeriodicCheck {
 public:
  // `ticker` (the interval, the timeout) must outlive the check.
  PeriodicCheck(std::string name, std::function<Status()> check, std::chrono::milliseconds interval,
                std::chrono::milliseconds timeout, Ticker& ticker);
  ~PeriodicCheck();  // stops (waits for the running check to return)
  void Start();
  void Stop();
  CheckStatus Current() const;

 private:
  void Loop();

  const std::string name_;
  const std::function<Status()> check_;
  const std::chrono::milliseconds interval_, timeout_;
  Ticker& ticker_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;                  // guarded by mu_
  bool have_result_ = false;           // guarded by mu_
  Status last_ = Ok();                 // guarded by mu_
  Ticker::TimePoint running_since_{};  // guarded by mu_; epoch: idle
  std::thread thread_;
};

}  // namespace dripr
