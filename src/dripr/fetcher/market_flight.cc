#include "dripr/fetcher/market_flight.h"

#include <algorithm>
#include <utility>
#include <vector>

#include "dripr/core/ids.h"
#include "dripr/core/log.h"
#include "dripr/core/stop.h"
#include "dripr/core/thread_name.h"

namespace dripr {

MarketFlights::Flight::Flight(MarketFlights& owner, uint64_t id, LeaseRef lease)
    : owner_(owner), id_(id), lease_(std::move(lease)) {}

MarketFlights::Flight::~Flight() {
  if (renewing_) owner_.StopRenewing(id_);
  if (!released_) {
    if (auto ok = owner_.store_.ReleaseLease(lease_.name, lease_.holder); !ok) {
      // The lease then expires by itself (nobody renews it any more): the others wait at most
      // lease_ttl longer.
      DRIPR_LOG_WARN("could not release lease {}: {}", lease_.name, ok.error().message);
    }
  }
  owner_.FlightEnded();
}

LeaseRef MarketFlights::Flight::ReleaseInCommit() {
  if (renewing_) owner_.StopRenewing(id_);
  renewing_ = false;
  return lease_;
}

MarketFlights::MarketFlights(Store& store, Ticker& ticker, MarketFlightOptions options)
    : store_(store), ticker_(ticker), options_(options) {}

// No flight is left (they must not outlive this object), so nothing starts the renewer now.
MarketFlights::~MarketFlights() { StopAndJoin(renew_mu_, stopping_, renew_cv_, renewer_); }

Ticker::Duration MarketFlights::RenewEvery() const {
  using std::chrono::milliseconds;
  return std::max(std::chrono::duration_cast<milliseconds>(options_.lease_ttl) / 3,
                  milliseconds(100));
}

uint64_t MarketFlights::StartRenewing(const LeaseRef& lease) {
  std::lock_guard lock(renew_mu_);
  const uint64_t id = next_id_++;
  // No wake-up: the renewer's next wait ends at most RenewEvery() from now, and this
  // flight's first renewal is due exactly then.
  renewals_[id] = Renewal{lease, ticker_.Now() + RenewEvery()};
  if (!renewer_.joinable()) {
    renewer_ = std::thread([this] {
      NameThisThread("market-lease");
      RenewLoop();
    });
  }
  return id;
}

void MarketFlights::StopRenewing(uint64_t id) {
  std::unique_lock lock(renew_mu_);
  renewed_cv_.wait(lock, [&] {
    auto it = renewals_.find(id);
    return it == renewals_.end() || !it->second.busy;
  });
  renewals_.erase(id);
}

// One thread for every flight of this process. It wakes when the earliest flight is due for
// renewal, or every RenewEvery() when there is none (a flight registered meanwhile is due no
// earlier than that), so registering a flight costs no wake-up.
void MarketFlights::RenewLoop() {
  const Ticker::Duration every = RenewEvery();
  std::unique_lock lock(renew_mu_);
  while (!stopping_) {
    Ticker::TimePoint now = ticker_.Now();
    Ticker::TimePoint wake = now + every;
    std::vector<std::pair<uint64_t, LeaseRef>> due;
    for (auto& [id, r] : renewals_) {
      if (r.due <= now) {
        r.busy = true;
        due.emplace_back(id, r.lease);
      } else {
        wake = std::min(wake, r.due);
      }
    }
    if (due.empty()) {
      ticker_.WaitUntil(lock, renew_cv_, wake, [this] { return stopping_; });
      continue;
    }
    lock.unlock();
    for (const auto& [id, lease] : due) {
      auto held = store_.AcquireLease(lease.name, lease.holder, options_.lease_ttl);
      if (!held) {
        DRIPR_LOG_WARN("could not renew lease {}: {}", lease.name, held.error().message);
      } else if (!*held) {
        // Expired and taken (this process stalled longer than the ttl): the other holder may
        // call the provider too. Nothing to undo here; the commit still stores our data.
        DRIPR_LOG_WARN("lease {} was taken over while its provider call was running", lease.name);
      }
    }
    lock.lock();
    now = ticker_.Now();
    for (const auto& [id, lease] : due) {
      // Still there: StopRenewing waits for busy ones.
      Renewal& r = renewals_.at(id);
      r.busy = false;
      r.due = now + every;
    }
    renewed_cv_.notify_all();
  }
}

Result<MarketFlights::Turn> MarketFlights::Begin(const std::string& zip,
                                                 std::chrono::seconds reuse) {
  const LeaseRef lease{MarketLeaseName(zip), NewUuid()};
  const Ticker::TimePoint deadline = ticker_.Now() + options_.max_wait;
  bool waited = false;
  while (true) {
    uint64_t ended;
    {
      std::lock_guard lock(mu_);
      ended = ended_;
    }
    // Read, else take the lease and read again: one store call, one pooled connection.
    DRIPR_ASSIGN_OR_RETURN(
        MarketTurn turn,
        store_.MarketDataOrLease(zip, reuse, lease, options_.lease_ttl, /*read_first=*/true));
    if (turn.stored) {
      std::lock_guard lock(mu_);
      if (waited) ++waited_;
      return Turn{std::move(turn.stored), nullptr};
    }
    if (turn.held) return Turn{std::nullopt, Lead(lease)};
    if (!waited) {
      std::lock_guard lock(mu_);
      ++waits_started_;
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

Result<MarketFlights::Loaded> MarketFlights::Load(const CampaignId& id,
                                                  std::chrono::seconds reuse) {
  const std::string holder = NewUuid();
  DRIPR_ASSIGN_OR_RETURN(MarketLoad load,
                         store_.LoadForMarketOrLease(id, reuse, holder, options_.lease_ttl));
  Loaded out;
  out.campaign = std::move(load.campaign);
  out.turn.stored = std::move(load.turn.stored);
  if (load.turn.held) out.turn.flight = Lead({MarketLeaseName(out.campaign.zip_code), holder});
  return out;
}

std::unique_ptr<MarketFlights::Flight> MarketFlights::Lead(const LeaseRef& lease) {
  {
    std::lock_guard lock(mu_);
    ++led_;
  }
  const uint64_t id = StartRenewing(lease);
  return std::unique_ptr<Flight>(new Flight(*this, id, lease));
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

uint64_t MarketFlights::waits_started() const {
  std::lock_guard lock(mu_);
  return waits_started_;
}

uint64_t MarketFlights::waited() const {
  std::lock_guard lock(mu_);
  return waited_;
}

uint64_t MarketFlights::renewer_threads() const {
  std::lock_guard lock(renew_mu_);
  return renewer_.joinable() ? 1 : 0;
}

}  // namespace dripr
