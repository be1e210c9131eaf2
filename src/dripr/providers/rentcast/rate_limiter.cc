#include "dripr/providers/rentcast/rate_limiter.h"

#include <algorithm>

namespace dripr {

namespace {

Ticker::Duration IntervalFor(const RateLimiterOptions& o) {
  double rps = o.max_rps > 0 ? o.max_rps : 1;
  double margin = std::clamp(o.safety_margin, 0.0, 1.0);
  return std::chrono::duration_cast<Ticker::Duration>(
      std::chrono::duration<double>((1.0 + margin) / rps));
}

}  // namespace

RateLimiter::RateLimiter(RateLimiterOptions options, std::shared_ptr<Ticker> ticker)
    : options_(options),
      ticker_(ticker ? std::move(ticker) : std::make_shared<SteadyTicker>()),
      interval_(IntervalFor(options)),
      tolerance_(interval_ * (std::max(options.burst, 1) - 1)) {}

bool RateLimiter::Acquire(Ticker::TimePoint deadline) {
  Ticker::TimePoint slot;
  {
    std::lock_guard lock(mu_);
    Ticker::TimePoint now = ticker_->Now();
    slot = std::max(now, next_ - tolerance_);
    if (slot > deadline) return false;
    next_ = std::max(next_, slot) + interval_;
  }
  ticker_->SleepUntil(slot);
  return true;
}

void RateLimiter::PauseUntil(Ticker::TimePoint until) {
  std::lock_guard lock(mu_);
  // The first grant after the pause may be at `until`: the GCRA slot is next_ - tolerance_.
  next_ = std::max(next_, until + tolerance_);
}

}  // namespace dripr
