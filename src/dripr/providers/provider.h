#pragma once
// Data provider interface: market statistics, active listings, recent sales.
// Backends: SampleProvider (providers/sample/, deterministic synthetic data, offline) and
// RentCastProvider (providers/rentcast/, HTTP). Chosen by OpenProvider() from DATA_PROVIDER.
// All methods are thread-safe and do blocking I/O: never call them inside a transaction.
//
// Errors: kUnavailable/kDeadlineExceeded/kResourceExhausted are retryable;
// kPermissionDenied (bad key), kInvalidArgument (bad parameters) are permanent.
// "No results" is an empty vector (or kNotFound for market data), never an error.

#include <memory>
#include <string>
#include <vector>

#include "dripr/core/clock.h"
#include "dripr/core/error.h"
#include "dripr/core/metrics.h"
#include "dripr/core/random.h"
#include "dripr/domain/types.h"

namespace dripr {

struct SearchArea {
  GeoPoint center;
  double radius_miles = 1;
  std::string zip_code;  // the campaign's zip (for scoring; the search is by point+radius)
};

class Provider {
 public:
  virtual ~Provider() = default;
  virtual std::string Name() const = 0;
  // Market statistics for a zip: newest month and ~3 months earlier. kNotFound: no data.
  virtual Result<MarketData> Market(const std::string& zip) = 0;
  // Active for-sale listings within the area (unranked).
  virtual Result<std::vector<PropertyRecord>> ActiveListings(const SearchArea& area) = 0;
  // Properties sold in the last `days` days within the area (unranked).
  virtual Result<std::vector<PropertyRecord>> RecentSales(const SearchArea& area, int days) = 0;
  // Whether a call costs only this process's CPU: no network, no sleep (the sample provider
  // without DRIPR_SAMPLE_LATENCY_MS). Only then do the part handlers call it for a batch of
  // campaigns one after another; a provider that waits is called from as many handlers at once
  // as DRIPR_MAX_IN_FLIGHT allows (docs/decisions/consumer.md, "Handlers that take batches").
  virtual bool CallsAreCpuOnly() const { return false; }
};

using ProviderPtr = std::unique_ptr<Provider>;

// DATA_PROVIDER (parsed with the backends' options in fetcher/config.cc).
enum class ProviderKind { kSample, kRentCast };
struct SampleProviderOptions;
struct RentCastOptions;
class SharedBudget;  // providers/rentcast/rate_limiter.h

// The provider of `kind` with its options. kInvalidArgument for an incomplete configuration
// (no RentCast key) or a sample centroid CSV that cannot be read. `metrics` (may be null; must
// outlive the provider) receives dripr_provider_requests_total and
// dripr_provider_request_duration_seconds. `budget` (may be null) makes RENTCAST_MAX_RPS the
// budget of every instance sharing it (the data-fetcher passes one kept in the database).
// `ticker` (null: the real one; must outlive the provider) times the sample provider's calls
// for the duration histogram and sleeps its latency (DRIPR_SAMPLE_LATENCY_MS). `random` (null:
// the real source; must outlive the provider) jitters RentCast's retry backoff.
Result<ProviderPtr> OpenProvider(ProviderKind kind, const SampleProviderOptions& sample,
                                 const RentCastOptions& rentcast, Metrics* metrics = nullptr,
                                 std::shared_ptr<SharedBudget> budget = nullptr,
                                 Ticker* ticker = nullptr, Random* random = nullptr);

// `inner` with every call counted in dripr_provider_requests_total{provider,endpoint,code} and
// timed on `ticker` in dripr_provider_request_duration_seconds (for a provider that makes no
// HTTP requests of its own, such as the sample provider). Endpoints are named after the
// RentCast endpoints the calls stand for: /markets, /listings/sale, /properties. `metrics` and
// `ticker` must outlive the result.
ProviderPtr WithMetering(ProviderPtr inner, Metrics& metrics, Ticker& ticker);

}  // namespace dripr
