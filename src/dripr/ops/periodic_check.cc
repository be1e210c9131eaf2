#include "dripr/ops/periodic_check.h"

#include <fmt/format.h>

#include "dripr/core/log.h"
#include "dripr/core/stop.h"
#include "dripr/core/thread_name.h"

namespace dripr {

PeriodicCheck::PeriodicCheck(std::string name, std::function<Status()> check,
                             std::chrono::milliseconds interval, std::chrono::milliseconds timeout,
                             Ticker& ticker)
    : name_(std::move(name)),
      check_(std::move(check)),
      interval_(interval),
      timeout_(timeout),
      ticker_(ticker) {}

PeriodicCheck::~PeriodicCheck() { Stop(); }

void PeriodicCheck::Start() {
  if (thread_.joinable()) return;
  thread_ = std::thread([this] {
    NameThisThread(ThreadName("check", name_));
    Loop();
  });
}

void PeriodicCheck::Stop() { StopAndJoin(mu_, stop_, cv_, thread_); }

void PeriodicCheck::Loop() {
  std::unique_lock lock(mu_);
  while (!stop_) {
    running_since_ = ticker_.Now();
    lock.unlock();
    Status st = check_();
    lock.lock();
    if (!have_result_ || st.has_value() != last_.has_value()) {
      if (st) {
        DRIPR_LOG_INFO("readiness: {} ok", name_);
      } else {
        DRIPR_LOG_WARN("readiness: {} failing: {}", name_, st.error().ToString());
      }
    }
    last_ = std::move(st);
    have_result_ = true;
    running_since_ = {};
    ticker_.WaitFor(lock, cv_, interval_, [&] { return stop_; });
  }
}

CheckStatus PeriodicCheck::Current() const {
  std::lock_guard lock(mu_);
  CheckStatus c{name_, false, ""};
  const auto now = ticker_.Now();
  if (running_since_ != Ticker::TimePoint{} && now - running_since_ > timeout_) {
    c.detail =
        fmt::format("no answer within {:g} s", std::chrono::duration<double>(timeout_).count());
    if (have_result_ && !last_) c.detail += " (last error: " + last_.error().ToString() + ")";
    return c;
  }
  if (!have_result_) {
    c.detail = "not checked yet";
    return c;
  }
  c.ok = last_.has_value();
  if (!c.ok) c.detail = last_.error().ToString();
  return c;
}

}  // namespace dripr
