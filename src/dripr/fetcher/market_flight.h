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
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "dripr/core/clock.h"
#include "dripr/store/store.h"

namespace dripr {

struct MarketFlightOptions {
  // Lease time-to-live (DRIPR_MARKET_LEASE_SECONDS); the holder renews it every third of it,
  // so this is how long the others wait after the holder died.
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
  // The lease of one zip, held by the one caller in the cluster that fetches it. Renewed from
  // a background thread every lease_ttl/3; the destructor stops renewing, releases the lease
  // and wakes this process's waiters. Destroy it after the data is committed.
  class Flight {
   public:
    Flight(MarketFlights& owner, std::string name, std::string holder);
    ~Flight();
    Flight(const Flight&) = delete;
    Flight& operator=(const Flight&) = delete;

   private:
    void Renew();

    MarketFlights& owner_;
    const std::string name_;
    const std::string holder_;
    std::mutex mu_;
    std::condition_variable cv_;
    bool stop_ = false;  // GUARDED_BY(mu_)
    std::thread renewer_;
  };

  // What Begin found: data someone stored within the reuse window, or the zip's flight.
  struct Turn {
    std::optional<MarketData> stored;
    std::unique_ptr<Flight> flight;  // set when `stored` is not: this caller fetches
  };

  // `store` and `ticker` must outlive this object and its flights.
  MarketFlights(Store& store, Ticker& ticker, MarketFlightOptions options);

  // Returns market data for `zip` younger than `reuse` when there is some, else the zip's
  // flight once this caller holds its lease. While someone else holds the lease it waits,
  // looking again every poll_interval, for their data or for the lease to be free (released
  // after a failed call, or expired after a crash). kUnavailable after max_wait; store errors
  // as the store returns them. Thread-safe.
  Result<Turn> Begin(const std::string& zip, std::chrono::seconds reuse);

  // Flights this process led, and Begin calls that waited for someone else's flight.
  uint64_t led() const;
  uint64_t waited() const;

 private:
  void FlightEnded();

  Store& store_;
  Ticker& ticker_;
  const MarketFlightOptions options_;

  mutable std::mutex mu_;
  std::condition_variable ended_cv_;
  uint64_t ended_ = 0;   // GUARDED_BY(mu_): flights of this process that ended
  uint64_t led_ = 0;     // GUARDED_BY(mu_)
  uint64_t waited_ = 0;  // GUARDED_BY(mu_)
};

}  // namespace dripr
