#pragma once
// RentCastProvider: the Provider backend over RentCast's HTTP API (docs/reference/rentcast-api.md).
//
//   Market(zip)        GET /markets?zipCode=Z&dataType=Sale&historyRange=6
//   ActiveListings(a)  GET /listings/sale?status=Active&latitude&longitude&radius&limit&offset
//   RecentSales(a, d)  GET /properties?saleDateRange=*:d&latitude&longitude&radius&limit&offset
//
// Every request waits for the shared RateLimiter, carries X-Api-Key, and is retried with
// jittered exponential backoff on 429 (Retry-After honoured, and applied to the limiter so
// every thread pauses), 408, 5xx, malformed JSON and transport failures/timeouts. Each
// public call has an overall deadline (options.deadline); running out is kDeadlineExceeded.
//
// Outcomes:
//   404, [] ............................ no results (empty vector; kNotFound for Market)
//   400 (and other 4xx) ................ kInvalidArgument, with the API's message
//   401/403 ............................ kPermissionDenied "RentCast rejected the API key
//                                        (401 auth/api-key-invalid)"; the key is never shown
//   429 after max_attempts ............. kResourceExhausted
//   5xx / malformed JSON after retries . kUnavailable (malformed JSON is treated as a
//                                        truncated, transient response)
//   transport timeout after retries .... kDeadlineExceeded; other transport errors kUnavailable
//
// Market() is single-flight per zip: concurrent calls for one zip share one HTTP call.
// Thread-safe.

#include <atomic>
#include <chrono>
#include <future>
#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json_fwd.hpp>
#include <optional>
#include <string>

#include "dripr/core/clock.h"
#include "dripr/core/http.h"
#include "dripr/core/metrics.h"
#include "dripr/core/random.h"
#include "dripr/providers/provider.h"
#include "dripr/providers/rentcast/rate_limiter.h"
#include "dripr/providers/rentcast/rentcast_decode.h"

namespace dripr {

struct RentCastOptions {
  std::string api_key;                                  // RENTCAST_API_KEY (required)
  std::string base_url = "https://api.rentcast.io/v1";  // RENTCAST_BASE_URL
  double max_rps = 5;                                   // RENTCAST_MAX_RPS (0 < x <= 20)
  int page_size = 500;                                  // RENTCAST_PAGE_SIZE (1..500)
  int max_pages = 5;                                    // RENTCAST_MAX_PAGES: hard cap per search
  int max_attempts = 5;                                 // RENTCAST_MAX_ATTEMPTS: tries per request
  std::chrono::milliseconds backoff_initial{250};       // RENTCAST_BACKOFF_INITIAL_MS
  std::chrono::milliseconds backoff_max{8000};
  std::chrono::milliseconds connect_timeout{5000};
  std::chrono::milliseconds request_timeout{15000};  // RENTCAST_TIMEOUT_SECONDS
  std::chrono::milliseconds deadline{60000};         // RENTCAST_DEADLINE_SECONDS, per call
  int market_history_months = 6;
  // The RENTCAST_* variables are parsed with every other setting in fetcher/config.cc.
};

// Counters since construction (for tests and metrics).
struct RentCastStats {
  uint64_t requests = 0;  // HTTP requests sent (attempts, not calls)
  uint64_t retries = 0;   // attempts after the first, per request
  uint64_t records_decoded = 0;
  uint64_t records_skipped = 0;
  uint64_t fields_skipped = 0;
  uint64_t market_flight_joins = 0;  // Market() calls that waited for another call's result
};

class RentCastProvider final : public Provider {
 public:
  // `http` and `limiter` must be non-null; share `limiter` between every provider of the
  // process. Backoff and deadlines use the limiter's Ticker. `clock`
  // stamps MarketData::created_at and must outlive the provider. `metrics` (may be null;
  // must outlive the provider) counts every HTTP request by endpoint and status. `random`
  // jitters the retry backoff (null: the real source; must outlive the provider).
  RentCastProvider(RentCastOptions options, HttpClientPtr http,
                   std::shared_ptr<RateLimiter> limiter,
                   const Clock& clock = SystemClock::Instance(), Metrics* metrics = nullptr,
                   Random* random = nullptr);

  std::string Name() const override { return "rentcast"; }
  Result<MarketData> Market(const std::string& zip) override;
  Result<std::vector<PropertyRecord>> ActiveListings(const SearchArea& area) override;
  Result<std::vector<PropertyRecord>> RecentSales(const SearchArea& area, int days) override;

  RentCastStats stats() const;

 private:
  enum class Shape { kArray, kObject };

  Result<MarketData> FetchMarket(const std::string& zip);
  Result<std::vector<PropertyRecord>> Search(const std::string& path, const std::string& query,
                                             RentCastRecordKind kind);
  // One logical GET with rate limiting, retries and the deadline. The parsed body of a 2xx
  // response of `shape` (another shape or invalid JSON is retried as malformed); nullopt
  // for 404 (no results).
  Result<std::optional<nlohmann::json>> Get(const std::string& path_and_query, Shape shape,
                                            Ticker::TimePoint deadline);
  Ticker::Duration Backoff(int attempt);
  // Removes the API key from text that came from outside (defence in depth).
  std::string Redact(std::string text) const;
  void Count(const DecodeStats& s);
  // dripr_provider_requests_total / _request_duration_seconds for one HTTP attempt.
  void Record(const std::string& path_and_query, const std::string& code, Ticker::Duration took);

  // Constant after construction.
  const RentCastOptions options_;
  const HttpClientPtr http_;
  const std::shared_ptr<RateLimiter> limiter_;
  Ticker& ticker_;
  const Clock& clock_;
  Metrics* const metrics_;  // may be null
  Random& random_;

  std::mutex flights_mu_;
  std::map<std::string, std::shared_future<Result<MarketData>>> flights_;  // GUARDED_BY

  std::atomic<uint64_t> requests_{0}, retries_{0}, records_decoded_{0}, records_skipped_{0},
      fields_skipped_{0}, market_flight_joins_{0};
};

// DATA_PROVIDER=rentcast: `options` (an empty api_key is kInvalidArgument), the libcurl
// transport (unless `http` is given) and a new RateLimiter at RENTCAST_MAX_RPS (unless `limiter`
// is given) whose cluster stage is `budget` (may be null: this process alone). Call it once per
// process and share the provider so that one limiter paces every thread. The new limiter paces
// on `ticker` (null: the real one), which must outlive the provider. `random` (null: the real
// source; must outlive the provider) jitters the retry backoff.
Result<ProviderPtr> OpenRentCastProvider(RentCastOptions options, HttpClientPtr http = nullptr,
                                         std::shared_ptr<RateLimiter> limiter = nullptr,
                                         Metrics* metrics = nullptr,
                                         std::shared_ptr<SharedBudget> budget = nullptr,
                                         Ticker* ticker = nullptr, Random* random = nullptr);

}  // namespace dripr
