#include "dripr/providers/rentcast/rentcast_provider.h"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <nlohmann/json.hpp>
#include <set>

#include "dripr/core/log.h"
#include "dripr/core/random.h"
#include "dripr/core/text.h"

namespace dripr {
namespace {

using nlohmann::json;
using std::chrono::duration_cast;
using std::chrono::milliseconds;

constexpr Ticker::Duration kMaxRetryAfter = std::chrono::minutes(10);
// An attempt needs at least this much of the deadline left; a request cut to a few
// milliseconds would only replace the informative last error with a timeout.
constexpr Ticker::Duration kMinAttemptTime = std::chrono::milliseconds(100);

bool ValidZip(const std::string& zip) {
  return zip.size() == 5 &&
         std::all_of(zip.begin(), zip.end(), [](char c) { return c >= '0' && c <= '9'; });
}

Status ValidateArea(const SearchArea& area) {
  if (!(std::abs(area.center.lat) <= 90) || !(std::abs(area.center.lng) <= 180)) {
    return Fail(ErrorCode::kInvalidArgument,
                fmt::format("search centre ({}, {}) is not a valid latitude/longitude",
                            area.center.lat, area.center.lng));
  }
  if (!(area.radius_miles > 0 && area.radius_miles <= 100)) {
    return Fail(ErrorCode::kInvalidArgument,
                fmt::format("search radius {} miles is outside (0, 100]", area.radius_miles));
  }
  return Ok();
}

std::string AreaQuery(const SearchArea& area) {
  return fmt::format("latitude={:.6f}&longitude={:.6f}&radius={}", area.center.lat, area.center.lng,
                     area.radius_miles);
}

// "error" and "message" of a RentCast error body ({"status":401,"error":"…","message":"…"}).
struct ApiError {
  std::string token;
  std::string message;
};

// Every text is passed through `redact` (the API key replaced) BEFORE it is cut short, so a key
// echoed by the server cannot survive half-visible across the cut; both fields are redacted.
template <class RedactFn>
ApiError ParseApiError(const std::string& body, const RedactFn& redact) {
  ApiError e;
  json j = json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (j.is_object()) {
    if (auto it = j.find("error"); it != j.end() && it->is_string()) {
      e.token = Excerpt(redact(it->get_ref<const std::string&>()), 64);
    }
    if (auto it = j.find("message"); it != j.end() && it->is_string()) {
      e.message = Excerpt(redact(it->get_ref<const std::string&>()), 300);
    }
  } else if (!j.is_discarded() || !body.empty()) {
    // Cut between characters and escaped: the text ends in campaigns' error_text and DLQ
    // reasons, which must stay valid UTF-8 (docs/decisions/fuzzing.md).
    e.message = Excerpt(redact(body), 200);
  }
  return e;
}

std::string Describe(int status, const ApiError& e) {
  std::string s = "(" + std::to_string(status);
  if (!e.token.empty()) s += " " + e.token;
  s += ")";
  if (!e.message.empty()) s += ": " + e.message;
  return s;
}

// Retry-After in delta-seconds; HTTP-date and garbage give nullopt (plain backoff then).
std::optional<Ticker::Duration> ParseRetryAfter(const std::string& v) {
  if (v.empty()) return std::nullopt;
  long long secs = 0;
  auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), secs);
  if (ec != std::errc() || p != v.data() + v.size() || secs < 0) return std::nullopt;
  return std::min<Ticker::Duration>(std::chrono::seconds(secs), kMaxRetryAfter);
}

long long Ms(Ticker::Duration d) { return duration_cast<milliseconds>(d).count(); }

}  // namespace

RentCastProvider::RentCastProvider(RentCastOptions options, HttpClientPtr http,
                                   std::shared_ptr<RateLimiter> limiter, const Clock& clock,
                                   Metrics* metrics, Random* random)
    : options_(std::move(options)),
      http_(std::move(http)),
      limiter_(std::move(limiter)),
      ticker_(limiter_->ticker()),
      clock_(clock),
      metrics_(metrics),
      random_(OrRealRandom(random)) {}

void RentCastProvider::Record(const std::string& path_and_query, const std::string& code,
                              Ticker::Duration took) {
  if (metrics_ == nullptr) return;
  const std::string endpoint = path_and_query.substr(0, path_and_query.find('?'));
  metrics_
      ->Counter(kProviderRequests,
                {{"provider", "rentcast"}, {"endpoint", endpoint}, {"code", code}})
      .Increment();
  metrics_->Histogram(kProviderRequestDuration, {{"provider", "rentcast"}, {"endpoint", endpoint}})
      .Observe(std::chrono::duration<double>(took).count());
}

RentCastStats RentCastProvider::stats() const {
  return RentCastStats{requests_.load(),        retries_.load(),
                       records_decoded_.load(), records_skipped_.load(),
                       fields_skipped_.load(),  market_flight_joins_.load()};
}

void RentCastProvider::Count(const DecodeStats& s) {
  records_decoded_ += s.records;
  records_skipped_ += s.skipped_records;
  fields_skipped_ += s.skipped_fields;
}

std::string RentCastProvider::Redact(std::string text) const {
  const std::string& key = options_.api_key;
  if (key.empty()) return text;
  for (size_t pos = text.find(key); pos != std::string::npos; pos = text.find(key, pos)) {
    text.replace(pos, key.size(), "[redacted]");
  }
  return text;
}

Ticker::Duration RentCastProvider::Backoff(int attempt) {
  double base = static_cast<double>(options_.backoff_initial.count()) *
                std::pow(2.0, std::min(attempt - 1, 30));
  base = std::min(base, static_cast<double>(options_.backoff_max.count()));
  const double jitter = random_.Uniform(0.5, 1.0);
  return duration_cast<Ticker::Duration>(std::chrono::duration<double, std::milli>(base * jitter));
}

Result<std::optional<json>> RentCastProvider::Get(const std::string& path_and_query, Shape shape,
                                                  Ticker::TimePoint deadline) {
  HttpRequest req;
  req.method = "GET";
  req.url = options_.base_url + path_and_query;
  req.headers = {{"X-Api-Key", options_.api_key}, {"Accept", "application/json"}};

  Error last{ErrorCode::kDeadlineExceeded, "no attempt was made"};
  auto deadline_error = [&](int attempts) {
    return Fail(
        ErrorCode::kDeadlineExceeded,
        fmt::format("RentCast GET {} did not succeed within the {} s deadline "
                    "({} attempts; last error: {})",
                    path_and_query, options_.deadline.count() / 1000.0, attempts, last.ToString()));
  };
  for (int attempt = 1;; ++attempt) {
    if (auto slot = limiter_->Acquire(deadline - kMinAttemptTime); !slot) {
      if (slot.error().code == ErrorCode::kDeadlineExceeded) return deadline_error(attempt - 1);
      return Fail(slot.error());  // the cluster's budget is unreachable: retried later
    }
    Ticker::TimePoint start = ticker_.Now();
    if (deadline - start < kMinAttemptTime) return deadline_error(attempt - 1);
    auto remaining = duration_cast<milliseconds>(deadline - start);
    req.timeout = std::min(options_.request_timeout, remaining);
    req.connect_timeout = std::min(options_.connect_timeout, req.timeout);
    ++requests_;
    if (attempt > 1) ++retries_;

    std::optional<Ticker::Duration> retry_after;
    auto resp = http_->Send(req);
    long long took = Ms(ticker_.Now() - start);
    Record(
        path_and_query,
        resp ? std::to_string(resp->status)
             : (resp.error().code == ErrorCode::kDeadlineExceeded ? "timeout" : "transport_error"),
        ticker_.Now() - start);
    if (!resp) {
      const Error& e = resp.error();
      DRIPR_LOG_DEBUG("rentcast GET {} failed after {} ms (attempt {}): {}", path_and_query, took,
                      attempt, Redact(e.ToString()));
      if (e.code == ErrorCode::kInvalidArgument) {
        return Fail(ErrorCode::kInvalidArgument,
                    "RentCast request could not be sent: " + Redact(e.message));
      }
      last = Error{e.code == ErrorCode::kDeadlineExceeded ? ErrorCode::kDeadlineExceeded
                                                          : ErrorCode::kUnavailable,
                   "RentCast request failed: " + Redact(e.message)};
    } else {
      const int status = resp->status;
      DRIPR_LOG_DEBUG("rentcast GET {} -> {} ({} bytes) in {} ms (attempt {})", path_and_query,
                      status, resp->body.size(), took, attempt);
      if (status >= 200 && status < 300) {
        json j = json::parse(resp->body, nullptr, /*allow_exceptions=*/false);
        bool shape_ok = shape == Shape::kArray ? j.is_array() : j.is_object();
        if (!j.is_discarded() && shape_ok) return std::optional<json>(std::move(j));
        last = Error{
            ErrorCode::kUnavailable,
            j.is_discarded()
                ? fmt::format("RentCast returned malformed JSON ({} bytes)", resp->body.size())
                : fmt::format("RentCast returned a JSON {} where an {} was expected", j.type_name(),
                              shape == Shape::kArray ? "array" : "object")};
      } else if (status == 404) {
        return std::optional<json>();
      } else {
        const ApiError api =
            ParseApiError(resp->body, [this](const std::string& t) { return Redact(t); });
        if (status == 401 || status == 403) {
          return Fail(ErrorCode::kPermissionDenied,
                      "RentCast rejected the API key " + Describe(status, api));
        }
        if (status == 429) {
          last = Error{ErrorCode::kResourceExhausted,
                       "RentCast rate limit exceeded " + Describe(status, api)};
          retry_after = ParseRetryAfter(resp->Header("retry-after"));
        } else if (status == 408 || status >= 500) {
          last = Error{ErrorCode::kUnavailable, "RentCast server error " + Describe(status, api)};
          if (status == 503) retry_after = ParseRetryAfter(resp->Header("retry-after"));
        } else {
          return Fail(ErrorCode::kInvalidArgument,
                      "RentCast rejected the request " + Describe(status, api));
        }
      }
    }

    if (attempt >= options_.max_attempts) {
      return Fail(last.code, last.message + fmt::format(" (after {} attempts)", attempt));
    }
    if (retry_after) {
      // The server's pause applies to the key: hold every thread, then Acquire() waits.
      limiter_->PauseUntil(ticker_.Now() + *retry_after);
      DRIPR_LOG_WARN("rentcast GET {}: {}; retrying after Retry-After {} s (attempt {}/{})",
                     path_and_query, last.ToString(), Ms(*retry_after) / 1000.0, attempt,
                     options_.max_attempts);
    } else {
      Ticker::Duration wait = Backoff(attempt);
      if (ticker_.Now() + wait + kMinAttemptTime > deadline) return deadline_error(attempt);
      DRIPR_LOG_WARN("rentcast GET {}: {}; retrying in {} ms (attempt {}/{})", path_and_query,
                     last.ToString(), Ms(wait), attempt, options_.max_attempts);
      ticker_.SleepFor(wait);
    }
  }
}

Result<std::vector<PropertyRecord>> RentCastProvider::Search(const std::string& path,
                                                             const std::string& query,
                                                             RentCastRecordKind kind) {
  const Ticker::TimePoint deadline = ticker_.Now() + options_.deadline;
  const int page_size = std::clamp(options_.page_size, 1, 500);
  std::vector<PropertyRecord> out;
  std::set<std::string> seen;
  DecodeStats stats;
  int pages = 0;
  for (int page = 0; page < options_.max_pages; ++page) {
    std::string pq = fmt::format("{}?{}&limit={}&offset={}", path, query, page_size,
                                 static_cast<long long>(page) * page_size);
    DRIPR_ASSIGN_OR_RETURN(auto body, Get(pq, Shape::kArray, deadline));
    ++pages;
    if (!body) break;  // 404: no (more) results
    for (const json& e : *body) {
      auto r = DecodePropertyRecord(e, kind, stats);
      if (r && seen.insert(r->source_id).second) out.push_back(std::move(*r));
    }
    if (body->size() < static_cast<size_t>(page_size)) break;
    if (page + 1 == options_.max_pages) {
      DRIPR_LOG_WARN("rentcast {}?{}: stopped at the cap of {} pages ({} records)", path, query,
                     options_.max_pages, out.size());
    }
  }
  Count(stats);
  DRIPR_LOG_DEBUG(
      "rentcast {}?{}: {} records from {} pages; skipped {} records and {} fields while "
      "decoding",
      path, query, out.size(), pages, stats.skipped_records, stats.skipped_fields);
  return out;
}

Result<std::vector<PropertyRecord>> RentCastProvider::ActiveListings(const SearchArea& area) {
  DRIPR_TRY(ValidateArea(area));
  return Search("/listings/sale", "status=Active&" + AreaQuery(area), RentCastRecordKind::kListing);
}

Result<std::vector<PropertyRecord>> RentCastProvider::RecentSales(const SearchArea& area,
                                                                  int days) {
  DRIPR_TRY(ValidateArea(area));
  if (days < 1 || days > 3650) {
    return Fail(ErrorCode::kInvalidArgument,
                fmt::format("recent-sales window of {} days is outside [1, 3650]", days));
  }
  return Search("/properties",
                "saleDateRange=" + UrlEncode("*:" + std::to_string(days)) + "&" + AreaQuery(area),
                RentCastRecordKind::kSale);
}

Result<MarketData> RentCastProvider::Market(const std::string& zip) {
  if (!ValidZip(zip)) {
    return Fail(ErrorCode::kInvalidArgument, "zip code '" + zip + "' is not 5 digits");
  }
  std::promise<Result<MarketData>> promise;
  {
    std::unique_lock lock(flights_mu_);
    if (auto it = flights_.find(zip); it != flights_.end()) {
      auto flight = it->second;
      ++market_flight_joins_;
      lock.unlock();
      return flight.get();
    }
    flights_.emplace(zip, promise.get_future().share());
  }
  Result<MarketData> result = Fail(ErrorCode::kInternal, "market fetch did not complete");
  try {
    result = FetchMarket(zip);
  } catch (const std::exception& e) {  // e.g. bad_alloc: followers must still be released
    result = Fail(ErrorCode::kInternal, std::string("market fetch failed: ") + e.what());
  }
  {
    std::lock_guard lock(flights_mu_);
    flights_.erase(zip);
  }
  promise.set_value(result);
  return result;
}

Result<MarketData> RentCastProvider::FetchMarket(const std::string& zip) {
  const Ticker::TimePoint deadline = ticker_.Now() + options_.deadline;
  DRIPR_ASSIGN_OR_RETURN(auto body,
                         Get(fmt::format("/markets?zipCode={}&dataType=Sale&historyRange={}", zip,
                                         options_.market_history_months),
                             Shape::kObject, deadline));
  if (!body) {
    return Fail(ErrorCode::kNotFound, "RentCast has no market data for zip " + zip + " (404)");
  }
  DecodeStats stats;
  auto market = DecodeMarket(*body, zip, stats);
  Count(stats);
  DRIPR_LOG_DEBUG("rentcast /markets zip {}: {} months; skipped {} months and {} fields", zip,
                  stats.records, stats.skipped_records, stats.skipped_fields);
  if (!market) return market;
  market->created_at = clock_.Now();
  return market;
}

Result<ProviderPtr> OpenRentCastProvider(RentCastOptions options, HttpClientPtr http,
                                         std::shared_ptr<RateLimiter> limiter, Metrics* metrics,
                                         std::shared_ptr<SharedBudget> budget, Ticker* ticker,
                                         Random* random) {
  if (options.api_key.empty()) {
    return Fail(ErrorCode::kInvalidArgument,
                "RENTCAST_API_KEY is required when DATA_PROVIDER=rentcast");
  }
  if (!http) http = NewCurlHttpClient();
  if (!limiter) {
    limiter = std::make_shared<RateLimiter>(
        RateLimiterOptions{.max_rps = options.max_rps,
                           .budget_name = RentCastBudgetName(options.api_key)},
        // Not owned: the caller's ticker outlives the provider.
        std::shared_ptr<Ticker>(std::shared_ptr<Ticker>(), &OrRealTicker(ticker)),
        std::move(budget));
  }
  return ProviderPtr(std::make_unique<RentCastProvider>(std::move(options), std::move(http),
                                                        std::move(limiter), SystemClock::Instance(),
                                                        metrics, random));
}

}  // namespace dripr
