#pragma once
// StoreBudget: the RentCast request budget shared by every data-fetcher on one database
// (docs/decisions/cluster.md). The RateLimiter (providers/rentcast/rate_limiter.h) asks it
// for a slot before each request; the slots live in table provider_budget
// (Store::ReserveBudgetSlot), so N instances together stay within RENTCAST_MAX_RPS.

#include "dripr/providers/rentcast/rate_limiter.h"
#include "dripr/store/store.h"

namespace dripr {

// Forwards to the store. `store` must outlive it. Thread-safe (the store is).
class StoreBudget final : public SharedBudget {
 public:
  explicit StoreBudget(Store& store) : store_(store) {}

  Result<std::optional<std::chrono::microseconds>> Reserve(
      const std::string& name, std::chrono::microseconds spacing,
      std::chrono::microseconds max_wait) override {
    return store_.ReserveBudgetSlot(name, spacing, max_wait);
  }
  Status Pause(const std::string& name, std::chrono::microseconds pause) override {
    return store_.PauseBudget(name, pause);
  }

 private:
  Store& store_;
};

}  // namespace dripr
