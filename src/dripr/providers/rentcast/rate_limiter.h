#pragma once
// Process-wide request pacing for RentCast (docs/reference/rentcast-api.md: 20 req/s per key,
// hard).
//
// One RateLimiter is created per process (by OpenRentCastProvider) and shared, through a
// shared_ptr, by every thread and every RentCastProvider that uses the same API key.
// Time is read and slept through a Ticker (core/clock.h) so tests can drive it by hand.

#include <chrono>
#include <memory>
#include <mutex>
#include <vector>

#include "dripr/core/clock.h"

namespace dripr {

struct RateLimiterOptions {
  double max_rps = 5;  // requests per second, > 0
  // Requests allowed back to back after an idle period (token-bucket capacity). 1 spaces
  // every request evenly, which keeps any 1-second window at or below max_rps.
  int burst = 1;
  // Requests are spaced (1 + safety_margin) / max_rps apart, so network jitter of up to
  // safety_margin seconds between us and the server cannot make the server see more than
  // max_rps requests in a 1-second window.
  double safety_margin = 0.1;
};

// Token bucket implemented as GCRA (a "theoretical arrival time" per grant): each Acquire
// reserves the next free slot and sleeps, outside the lock, until it. Fair (FIFO by
// reservation order). Thread-safe.
class RateLimiter {
 public:
  RateLimiter(RateLimiterOptions options, std::shared_ptr<Ticker> ticker);

  // Blocks until the caller may send one request and returns true. Returns false at once,
  // consuming nothing, when the slot it would get is later than `deadline`.
  bool Acquire(Ticker::TimePoint deadline);

  // Grants nothing before `until` (a server's Retry-After applies to the whole key, so it
  // pauses every thread, not just the one that saw the 429).
  void PauseUntil(Ticker::TimePoint until);

  double max_rps() const { return options_.max_rps; }
  Ticker& ticker() const { return *ticker_; }

 private:
  // Constant after construction.
  const RateLimiterOptions options_;
  const std::shared_ptr<Ticker> ticker_;
  const Ticker::Duration interval_;
  const Ticker::Duration tolerance_;  // (burst - 1) * interval_

  std::mutex mu_;
  Ticker::TimePoint next_{};  // GUARDED_BY(mu_): theoretical arrival time of the next grant
};

}  // namespace dripr
