#pragma once
// Process-wide request pacing for RentCast (rentcast-api.md: 20 req/s per key, hard).
//
// One RateLimiter is created per process (by OpenRentCastProvider) and shared, through a
// shared_ptr, by every thread and every RentCastProvider that uses the same API key.
// Time is read and slept through a Ticker so tests can drive it by hand.

#include <chrono>
#include <memory>
#include <mutex>
#include <vector>

namespace dripr {

// Monotonic time plus sleeping (the wall Clock in core/clock.h is for timestamps; pacing
// and deadlines need a clock that never jumps).
class Ticker {
 public:
  using TimePoint = std::chrono::steady_clock::time_point;
  using Duration = std::chrono::steady_clock::duration;
  virtual ~Ticker() = default;
  virtual TimePoint Now() const = 0;
  // Returns once Now() >= t (immediately when t is in the past). Thread-safe.
  virtual void SleepUntil(TimePoint t) = 0;
  void SleepFor(Duration d) { SleepUntil(Now() + d); }
};

// std::chrono::steady_clock and std::this_thread::sleep_until.
class SteadyTicker final : public Ticker {
 public:
  TimePoint Now() const override { return std::chrono::steady_clock::now(); }
  void SleepUntil(TimePoint t) override;
};

// For tests: time stands still until someone sleeps; SleepUntil(t) moves the time to t
// (when t is later) and records the requested sleep. Thread-safe.
class ManualTicker final : public Ticker {
 public:
  TimePoint Now() const override;
  void SleepUntil(TimePoint t) override;
  void Advance(Duration d);
  // Every SleepUntil target so far, in call order, as offsets from the ticker's start.
  std::vector<Duration> Sleeps() const;

 private:
  mutable std::mutex mu_;
  TimePoint start_{std::chrono::hours(1)};
  TimePoint now_{std::chrono::hours(1)};
  std::vector<Duration> sleeps_;
};

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
