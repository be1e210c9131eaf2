#include "dripr/fetcher/market_flight.h"

#include <algorithm>

#include "dripr/core/ids.h"
#include "dripr/core/log.h"
#include "dripr/core/stop.h"

namespace dripr {

MarketFlights::Flight::Flight(MarketFlights& owner, std::string name, std::string holder)
    : owner_(owner), name_(std::move(name)), holder_(std::move(holder)) {
  renewer_ = std::thread([this] { Renew(); });
}

MarketFlights::Flight::~Flight() {
  StopAndJoin(mu_, stop_, cv_, renewer_);
  if (auto ok = owner_.store_.ReleaseLease(name_, holder_); !ok) {
    // The lease then expires by itself; the others wait at most lease_ttl longer.
    DRIPR_LOG_WARN("could not release lease {}: {}", name_, ok.error().message);
  }
  owner_.FlightEnded();
}

void MarketFlights::Flight::Renew() {
  using std::chrono::milliseconds;
  const auto every = std::max(
      std::chrono::duration_cast<milliseconds>(owner_.options_.lease_ttl) / 3, milliseconds(100));
  std::unique_lock lock(mu_);
  while (!owner_.ticker_.WaitUntil(lock, cv_, owner_.ticker_.Now() + every,
                                   [this] { return stop_; })) {
    lock.unlock();
    auto held = owner_.store_.AcquireLease(name_, holder_, owner_.options_.lease_ttl);
    if (!held) {
      DRIPR_LOG_WARN("could not renew lease {}: {}", name_, held.error().message);
    } else if (!*held) {
      // Expired and taken (this process stalled longer than the ttl): the other holder may
      // call the provider too. Nothing to undo here; the commit still stores our data.
      DRIPR_LOG_WARN("lease {} was taken over while its provider call was running", name_);
    }
    lock.lock();
  }
}

MarketFlights::MarketFlights(Store& store, Ticker& ticker, MarketFlightOptions options)
    : store_(store), ticker_(ticker), options_(options) {}

Result<MarketFlights::Turn> MarketFlights::Begin(const std::string& zip,
                                                 std::chrono::seconds reuse) {
  const std::string name = "market:" + zip;
  const std::string holder = NewUuid();
  const Ticker::TimePoint deadline = ticker_.Now() + options_.max_wait;
  bool waited = false;
  while (true) {
    uint64_t ended;
    {
      std::lock_guard lock(mu_);
      ended = ended_;
    }
    DRIPR_ASSIGN_OR_RETURN(auto stored, store_.GetMarketData(zip, reuse));
    if (stored) {
      std::lock_guard lock(mu_);
      if (waited) ++waited_;
      return Turn{std::move(stored), nullptr};
    }
    DRIPR_ASSIGN_OR_RETURN(bool held, store_.AcquireLease(name, holder, options_.lease_ttl));
    if (held) {
      // The previous holder may have committed between our read and our lease.
      auto again = store_.GetMarketData(zip, reuse);
      if (!again || *again) {
        // Best effort: a lease not released expires after lease_ttl.
        (void)store_.ReleaseLease(name, holder);
        if (!again) return Fail(again.error());
        return Turn{std::move(*again), nullptr};
      }
      std::lock_guard lock(mu_);
      ++led_;
      return Turn{std::nullopt, std::make_unique<Flight>(*this, name, holder)};
    }
    waited = true;
    const Ticker::TimePoint now = ticker_.Now();
    if (now >= deadline) {
      std::lock_guard lock(mu_);
      ++waited_;
      // kDeadlineExceeded, not kUnavailable: the store answered; another caller is slow. The
      // engine retries it as an attempt, unlike a store outage (docs/decisions/consumer.md).
      return Fail(ErrorCode::kDeadlineExceeded,
                  "market data for zip " + zip +
                      " is still being fetched by another caller after " +
                      std::to_string(options_.max_wait.count()) + " s");
    }
    std::unique_lock lock(mu_);
    ticker_.WaitUntil(lock, ended_cv_, std::min(now + options_.poll_interval, deadline),
                      [&] { return ended_ != ended; });
  }
}

void MarketFlights::FlightEnded() {
  {
    std::lock_guard lock(mu_);
    ++ended_;
  }
  ended_cv_.notify_all();
}

uint64_t MarketFlights::led() const {
  std::lock_guard lock(mu_);
  return led_;
}

uint64_t MarketFlights::waited() const {
  std::lock_guard lock(mu_);
  return waited_;
}

}  // namespace dripr
