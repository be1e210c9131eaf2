#pragma once
// Cluster-wide single flight for local market data (docs/decisions/cluster.md): at most one
// provider call per zip per reuse window, whichever instance asks. The caller that takes the
// zip's lease (table `leases`, name "market:<zip>") fetches and commits; every other caller,
// in this process or another, waits until the data is in local_market_data and reuses it. A
// holder that dies (kill -9) stops renewing its lease; once it expires another caller takes
// over.

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "dripr/core/clock.h"
#include "dripr/store/store.h"

namespace dripr {

struct MarketFlightOptions {
  // Lease time-to-live (DRIPR_MARKET_LEASE_SECONDS); a flight renews its lease every third of
  // it, so this is how long the others wait after the holder died.
  std::chrono::seconds lease_ttl{10};
  // How often a waiter looks for the data and for a free lease (a flight of this process
  // ending wakes its waiters at once).
  std::chrono::milliseconds poll_interval{250};
  // A waiter gives up (kDeadlineExceeded, retried by the consumer engine) after this long. Longer
  // than a provider call may take (RENTCAST_DEADLINE_SECONDS, 60 by default).
  std::chrono::seconds max_wait{90};
};

class MarketFlights {
 public:
  // The lease of one zip, held by the one caller in the cluster that fetches it. While the
  // flight lasts, the owner's renewer thread renews the lease every lease_ttl/3 (one thread
  // for all flights, started with the first: most flights end long before their first
  // renewal). The commit that stores the data releases the lease in its own transaction
  // (ReleaseInCommit); the destructor releases it separately when that did not happen, and
  // wakes this process's waiters. Destroy it after the data is committed (or not).
  class Flight {
   public:
    ~Flight();
    Flight(const Flight&) = delete;
    Flight& operator=(const Flight&) = delete;

    // Stops renewing the lease and returns it, for the commit that stores the data to release
    // in its transaction (PartData::release_lease). Call Released() once that commit returned
    // success; otherwise the destructor releases the lease.
    LeaseRef ReleaseInCommit();
    // The lease row is gone: the destructor does not release it again.
    void Released() { released_ = true; }

   private:
    friend class MarketFlights;
    Flight(MarketFlights& owner, uint64_t id, LeaseRef lease);

    MarketFlights& owner_;
    const uint64_t id_;
    const LeaseRef lease_;
    bool renewing_ = true;   // until ReleaseInCommit or the destructor
    bool released_ = false;  // by the commit's transaction
  };

  // What Begin found: data someone stored within the reuse window, or the zip's flight.
  struct Turn {
    std::optional<MarketData> stored;
    std::unique_ptr<Flight> flight;  // set when `stored` is not: this caller fetches
  };

  // What Load found: the campaign, and its zip's data or this caller's flight; neither when
  // the campaign does not wait for its market data or another caller holds the zip's lease
  // (Begin then waits for that caller).
  struct Loaded {
    Campaign campaign;
    Turn turn;
  };

  // `store` and `ticker` must outlive this object; its flights must not outlive it.
  MarketFlights(Store& store, Ticker& ticker, MarketFlightOptions options);
  ~MarketFlights();
  MarketFlights(const MarketFlights&) = delete;
  MarketFlights& operator=(const MarketFlights&) = delete;

  // Returns market data for `zip` younger than `reuse` when there is some, else the zip's
  // flight once this caller holds its lease. While someone else holds the lease it waits,
  // looking again every poll_interval, for their data or for the lease to be free (released
  // after a failed call, or expired after a crash). kDeadlineExceeded after max_wait; store
  // errors as the store returns them. Thread-safe. Every look is one store call
  // (Store::MarketDataOrLease).
  Result<Turn> Begin(const std::string& zip, std::chrono::seconds reuse);
  // The market handler's first look: Store::LoadForMarketOrLease for campaign `id` with a new
  // holder (one store call; one round trip on PostgreSQL), and a flight when it took the
  // zip's lease. Errors as the store returns them (kNotFound: no such campaign).
  Result<Loaded> Load(const CampaignId& id, std::chrono::seconds reuse);

  // Flights this process led, and Begin calls that waited for someone else's flight.
  uint64_t led() const;
  uint64_t waited() const;
  // Begin calls that found the zip's lease held by someone else and started waiting (counted
  // when the wait starts, so a test can tell that a caller is waiting).
  uint64_t waits_started() const;
  // Renewer threads started (0 or 1).
  uint64_t renewer_threads() const;

 private:
  // A flight's lease the renewer keeps alive.
  struct Renewal {
    LeaseRef lease;
    Ticker::TimePoint due;  // next renewal
    bool busy = false;      // being renewed right now (outside renew_mu_)
  };

  void FlightEnded();
  // The flight of a lease this caller has just taken: counted as led, renewed from now on.
  std::unique_ptr<Flight> Lead(const LeaseRef& lease);
  // Registers a new flight's lease with the renewer (started on first use); the flight's id.
  uint64_t StartRenewing(const LeaseRef& lease);
  // Unregisters it, waiting for a renewal of it in progress: after this the renewer never
  // writes the lease again, so releasing it is final.
  void StopRenewing(uint64_t id);
  void RenewLoop();
  Ticker::Duration RenewEvery() const;

  Store& store_;
  Ticker& ticker_;
  const MarketFlightOptions options_;

  mutable std::mutex mu_;
  std::condition_variable ended_cv_;
  uint64_t ended_ = 0;          // GUARDED_BY(mu_): flights of this process that ended
  uint64_t led_ = 0;            // GUARDED_BY(mu_)
  uint64_t waited_ = 0;         // GUARDED_BY(mu_)
  uint64_t waits_started_ = 0;  // GUARDED_BY(mu_)

  mutable std::mutex renew_mu_;
  std::condition_variable renew_cv_;      // stopping_ (the renewer waits on it)
  std::condition_variable renewed_cv_;    // a batch of renewals finished (StopRenewing waits)
  std::map<uint64_t, Renewal> renewals_;  // GUARDED_BY(renew_mu_): by flight id
  uint64_t next_id_ = 0;                  // GUARDED_BY(renew_mu_)
  bool stopping_ = false;                 // GUARDED_BY(renew_mu_)
  std::thread renewer_;                   // GUARDED_BY(renew_mu_): started with the first flight
};

}  // namespace dripr
