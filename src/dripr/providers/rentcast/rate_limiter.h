#pragma once
// Request pacing for RentCast (docs/reference/rentcast-api.md: 20 req/s per key, hard).
//
// One RateLimiter is created per process (by OpenRentCastProvider) and shared, through a
// shared_ptr, by every thread and every RentCastProvider that uses the same API key. It paces
// the process itself, and, when given a SharedBudget, the whole cluster: every instance using
// the key then reserves its request slots from one budget in the database, so N instances
// together stay within max_rps (docs/decisions/cluster.md).
// Time is read and slept through a Ticker (core/clock.h) so tests can drive it by hand.

#include <chrono>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "dripr/core/clock.h"
#include "dripr/core/error.h"

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
  // Name of the cluster-wide budget (RentCastBudgetName); used only with a SharedBudget.
  std::string budget_name;
};

// A request budget shared by every process that uses one API key (the cluster's stage of the
// limiter). fetcher/cluster_budget.h keeps it in the database (Store::ReserveBudgetSlot).
// Thread-safe.
class SharedBudget {
 public:
  virtual ~SharedBudget() = default;
  // Reserves the next request slot of budget `name`, `spacing` after the previous one taken
  // by anyone. Returns how long to wait for it (zero: send now), or nullopt, reserving
  // nothing, when that is longer than `max_wait`. An error when the budget cannot be reached.
  virtual Result<std::optional<std::chrono::microseconds>> Reserve(
      const std::string& name, std::chrono::microseconds spacing,
      std::chrono::microseconds max_wait) = 0;
  // Nobody's slot starts before now + `pause`.
  virtual Status Pause(const std::string& name, std::chrono::microseconds pause) = 0;
};

// The budget name of an API key: "rentcast:" and the first 16 hex digits of its SHA-256, so
// the key itself is never stored, and instances with different keys do not share a budget.
std::string RentCastBudgetName(const std::string& api_key);

// Token bucket implemented as GCRA (a "theoretical arrival time" per grant): each Acquire
// reserves the next free slot and sleeps, outside the lock, until it. Fair (FIFO by
// reservation order). Thread-safe.
class RateLimiter {
 public:
  // `shared` (may be null: this process alone) is the cluster's stage, asked after the
  // process's own pacing grants a slot.
  RateLimiter(RateLimiterOptions options, std::shared_ptr<Ticker> ticker,
              std::shared_ptr<SharedBudget> shared = nullptr);

  // Blocks until the caller may send one request. kDeadlineExceeded at once, consuming
  // nothing of the cluster's budget, when the slot it would get is later than `deadline`;
  // kUnavailable when the shared budget cannot be reached (the request is not sent: sending
  // it could exceed the cluster's limit).
  Status Acquire(Ticker::TimePoint deadline);

  // Grants nothing before `until` (a server's Retry-After applies to the whole key, so it
  // pauses every thread, and with a SharedBudget every instance, not just the one that saw
  // the 429).
  void PauseUntil(Ticker::TimePoint until);

  double max_rps() const { return options_.max_rps; }
  Ticker& ticker() const { return *ticker_; }

 private:
  // Constant after construction.
  const RateLimiterOptions options_;
  const std::shared_ptr<Ticker> ticker_;
  const Ticker::Duration interval_;
  const Ticker::Duration tolerance_;  // (burst - 1) * interval_
  const std::shared_ptr<SharedBudget> shared_;

  std::mutex mu_;
  Ticker::TimePoint next_{};  // GUARDED_BY(mu_): theoretical arrival time of the next grant
};

}  // namespace dripr
