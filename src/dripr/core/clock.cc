#include "dripr/core/clock.h"

#include <algorithm>
#include <thread>

namespace dripr {

const Clock& SystemClock::Instance() {
  static const SystemClock clock;
  return clock;
}

// ---- SteadyTicker ----

void SteadyTicker::SleepUntil(TimePoint t) { std::this_thread::sleep_until(t); }

bool SteadyTicker::WaitUntil(std::unique_lock<std::mutex>& lock, std::condition_variable& cv,
                             TimePoint deadline, const Predicate& done) {
  return cv.wait_until(lock, deadline, done);
}

Ticker& SteadyTicker::Instance() {
  static SteadyTicker ticker;
  return ticker;
}

// ---- ManualTicker ----

Ticker::TimePoint ManualTicker::Now() const {
  std::lock_guard lock(mu_);
  return now_;
}

void ManualTicker::SleepUntil(TimePoint t) {
  std::lock_guard lock(mu_);
  sleeps_.push_back(t - start_);
  now_ = std::max(now_, t);
}

bool ManualTicker::WaitUntil(std::unique_lock<std::mutex>& lock, std::condition_variable& cv,
                             TimePoint deadline, const Predicate& done) {
  if (done()) return true;
  std::multimap<TimePoint, int>::iterator entry;
  {
    std::lock_guard self(mu_);
    entry = waits_.emplace(deadline, 0);
  }
  // The waiter's own notifications wake it at once; a moved time is noticed within a
  // millisecond (Advance cannot notify a condition variable it does not own safely).
  while (!done() && Now() < deadline) cv.wait_for(lock, std::chrono::milliseconds(1));
  {
    std::lock_guard self(mu_);
    waits_.erase(entry);
  }
  return done();
}

void ManualTicker::Advance(Duration d) {
  std::lock_guard lock(mu_);
  now_ += d;
}

void ManualTicker::AdvanceTo(TimePoint t) {
  std::lock_guard lock(mu_);
  now_ = std::max(now_, t);
}

Ticker::Duration ManualTicker::Elapsed() const {
  std::lock_guard lock(mu_);
  return now_ - start_;
}

std::vector<Ticker::Duration> ManualTicker::Sleeps() const {
  std::lock_guard lock(mu_);
  return sleeps_;
}

std::vector<Ticker::Duration> ManualTicker::Deadlines() const {
  std::lock_guard lock(mu_);
  std::vector<Duration> out;
  for (const auto& [deadline, unused] : waits_) out.push_back(deadline - start_);
  return out;
}

}  // namespace dripr
