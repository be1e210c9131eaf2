// RentCastProvider against the fake RentCast server over real HTTP: queries, pagination,
// empty results, decoding, faults and retries, deadlines, permanent errors.

#include <gtest/gtest.h>

#include <mutex>
#include <set>
#include <thread>
#include <vector>

#include "providers/rentcast_fixture.h"
#include "support/fake_rentcast_data.h"

namespace dripr {
namespace {

using namespace std::chrono_literals;
using fake::FakeFault;
using fake::FakeKind;

std::string Param(const fake::FakeRequestLog& r, const std::string& name) {
  auto it = r.params.find(name);
  return it == r.params.end() ? "<missing>" : it->second;
}

class RentCastProviderTest : public RentCastFixture {
 protected:
  // A radius around kAustin holding between 10 and 2000 records of `kind`, and that count.
  std::pair<double, size_t> UsableRadius(FakeKind kind, int max_days = 1 << 30) {
    for (double r : {0.5, 1.0, 2.0, 5.0, 10.0}) {
      fake::SearchQuery q{.kind = kind,
                          .lat = kAustin.lat,
                          .lng = kAustin.lng,
                          .radius_miles = r,
                          .max_days = max_days};
      size_t n = server_->world()->Count(q);
      if (n >= 10 && n <= 2000) return {r, n};
    }
    ADD_FAILURE() << "no usable radius";
    return {1, 0};
  }
};

TEST_F(RentCastProviderTest, ActiveListingsReturnEveryRecordInTheRadius) {
  auto [radius, expected] = UsableRadius(FakeKind::kListing);
  auto provider = Provider();
  auto got = provider->ActiveListings({kAustin, radius, "78701"});
  ASSERT_TRUE(got) << got.error().ToString();
  EXPECT_EQ(got->size(), expected);
  std::set<std::string> ids;
  for (const PropertyRecord& r : *got) {
    ids.insert(r.source_id);
    ASSERT_TRUE(r.location);
    EXPECT_LE(fake::HaversineMiles(kAustin.lat, kAustin.lng, r.location->lat, r.location->lng),
              radius + 0.001);
    ASSERT_TRUE(r.price);
    EXPECT_GT(*r.price, 0);
    EXPECT_EQ(r.event_date.size(), 10u);
    EXPECT_TRUE(r.days_on_market);
    EXPECT_FALSE(r.formatted_address.empty());
  }
  EXPECT_EQ(ids.size(), got->size());

  auto log = RequestsTo("/listings/sale");
  ASSERT_EQ(log.size(), 1u);
  EXPECT_EQ(log[0].path, "/v1/listings/sale");
  EXPECT_EQ(Param(log[0], "status"), "Active");
  EXPECT_EQ(Param(log[0], "latitude"), "30.267200");
  EXPECT_EQ(Param(log[0], "longitude"), "-97.743100");
  EXPECT_EQ(std::stod(Param(log[0], "radius")), radius);
  EXPECT_EQ(Param(log[0], "limit"), "500");
  EXPECT_EQ(Param(log[0], "offset"), "0");
  EXPECT_EQ(log[0].status, 200);
}

TEST_F(RentCastProviderTest, RecentSalesAskForTheWindowAndKeepUnpricedSales) {
  auto [radius, expected] = UsableRadius(FakeKind::kSale, 90);
  auto got = Provider()->RecentSales({kAustin, radius, "78701"}, 90);
  ASSERT_TRUE(got) << got.error().ToString();
  EXPECT_EQ(got->size(), expected);
  int unpriced = 0;
  for (const PropertyRecord& r : *got) {
    if (!r.price) ++unpriced;
    if (r.price) {
      EXPECT_GT(*r.price, 0);
    }
    EXPECT_GE(r.event_date, "2025-06-17");  // within 90 days of kTestToday
    EXPECT_LE(r.event_date, kTestToday);
    EXPECT_EQ(r.days_on_market, std::nullopt);
  }
  EXPECT_GT(unpriced, 0);
  EXPECT_LT(unpriced, static_cast<int>(got->size()));
  auto log = RequestsTo("/properties");
  ASSERT_EQ(log.size(), 1u);
  EXPECT_EQ(Param(log[0], "saleDateRange"), "*:90");
}

TEST_F(RentCastProviderTest, PaginatesUntilAShortPage) {
  server_->SetFixedCount(1200);
  auto got = Provider()->ActiveListings({kAustin, 3, ""});
  ASSERT_TRUE(got) << got.error().ToString();
  EXPECT_EQ(got->size(), 1200u);
  auto log = RequestsTo("/listings/sale");
  ASSERT_EQ(log.size(), 3u);
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(Param(log[i], "limit"), "500");
    EXPECT_EQ(Param(log[i], "offset"), std::to_string(500 * i));
  }
}

TEST_F(RentCastProviderTest, AnExactMultipleEndsOnAnEmptyPageEitherWay) {
  server_->SetFixedCount(1000);
  for (bool as_404 : {true, false}) {
    server_->SetEmptyAs404(as_404);
    server_->ClearRequests();
    auto got = Provider()->RecentSales({kAustin, 3, ""}, 90);
    ASSERT_TRUE(got) << got.error().ToString();
    EXPECT_EQ(got->size(), 1000u);
    auto log = RequestsTo("/properties");
    ASSERT_EQ(log.size(), 3u);
    EXPECT_EQ(log[2].status, as_404 ? 404 : 200);
  }
}

TEST_F(RentCastProviderTest, PageSizeIsConfigurableAndPagesAreCapped) {
  server_->SetFixedCount(250);
  auto o = Options();
  o.page_size = 100;
  auto got = Provider(o)->ActiveListings({kAustin, 3, ""});
  ASSERT_TRUE(got);
  EXPECT_EQ(got->size(), 250u);
  EXPECT_EQ(RequestsTo("/listings/sale").size(), 3u);

  server_->SetFixedCount(1200);
  server_->ClearRequests();
  o.max_pages = 5;
  got = Provider(o)->ActiveListings({kAustin, 3, ""});
  ASSERT_TRUE(got);
  EXPECT_EQ(got->size(), 500u);  // 5 pages of 100, then the cap
  EXPECT_EQ(RequestsTo("/listings/sale").size(), 5u);
}

TEST_F(RentCastProviderTest, NotFoundAndEmptyArrayBothMeanNoResults) {
  server_->SetFixedCount(0);
  for (bool as_404 : {true, false}) {
    server_->SetEmptyAs404(as_404);
    server_->ClearRequests();
    auto listings = Provider()->ActiveListings({kAustin, 1, ""});
    ASSERT_TRUE(listings) << listings.error().ToString();
    EXPECT_TRUE(listings->empty());
    auto sales = Provider()->RecentSales({kAustin, 1, ""}, 90);
    ASSERT_TRUE(sales) << sales.error().ToString();
    EXPECT_TRUE(sales->empty());
    auto log = server_->Requests();
    ASSERT_EQ(log.size(), 2u);  // no retries for "no results"
    EXPECT_EQ(log[0].status, as_404 ? 404 : 200);
  }
}

TEST_F(RentCastProviderTest, OddRecordsAreSkippedOrTrimmedAndCounted) {
  server_->SetCanned("/listings/sale", 200, R"([
    {"id":"good","formattedAddress":"1 A St, X, TX 78701","price":100000,
     "listedDate":"2025-09-01T00:00:00.000Z","daysOnMarket":14,"latitude":30.2,"longitude":-97.7},
    null,
    17,
    {"price":5,"city":"nowhere"},
    {"formattedAddress":"2 B St, X, TX 78701","price":"250000","bedrooms":"3","latitude":null,
     "longitude":-97.7,"listedDate":12345},
    {"id":"zero","price":0,"bathrooms":"two","squareFootage":{"v":1}}
  ])");
  auto provider = Provider();
  auto got = provider->ActiveListings({kAustin, 1, ""});
  ASSERT_TRUE(got) << got.error().ToString();
  ASSERT_EQ(got->size(), 3u);
  EXPECT_EQ((*got)[0].source_id, "good");
  EXPECT_EQ((*got)[0].price, 100000);
  EXPECT_EQ((*got)[0].event_date, "2025-09-01");
  EXPECT_EQ((*got)[1].source_id, "2 B St, X, TX 78701");
  EXPECT_EQ((*got)[1].price, std::nullopt);
  EXPECT_EQ((*got)[1].bedrooms, std::nullopt);
  EXPECT_EQ((*got)[1].location, std::nullopt);
  EXPECT_EQ((*got)[1].event_date, "");
  EXPECT_EQ((*got)[2].source_id, "zero");
  EXPECT_EQ((*got)[2].price, std::nullopt);  // 0 is not a price
  RentCastStats s = provider->stats();
  EXPECT_EQ(s.records_decoded, 3u);
  EXPECT_EQ(s.records_skipped, 3u);  // null, 17, no id/address
  // price, bedrooms, half a location, listedDate; price 0, bathrooms, squareFootage.
  EXPECT_EQ(s.fields_skipped, 7u);
}

TEST_F(RentCastProviderTest, GeneratedOddRecordsNeverBreakDecoding) {
  auto http = NewCurlHttpClient();
  auto admin = http->Send(
      HttpRequest{.method = "POST",
                  .url = "http://127.0.0.1:" + std::to_string(server_->port()) + "/__admin/config",
                  .body = R"({"odd_fraction":0.5,"fixed_count":400})"});
  ASSERT_TRUE(admin);
  ASSERT_EQ(admin->status, 200) << admin->body;
  auto provider = Provider();
  auto got = provider->RecentSales({kAustin, 2, ""}, 90);
  ASSERT_TRUE(got) << got.error().ToString();
  RentCastStats s = provider->stats();
  EXPECT_EQ(s.records_decoded + s.records_skipped, 400u);
  EXPECT_GT(s.records_skipped, 10u);
  EXPECT_GT(s.fields_skipped, 50u);
  EXPECT_EQ(got->size(), s.records_decoded);
  for (const PropertyRecord& r : *got) {
    EXPECT_FALSE(r.source_id.empty());
    if (r.price) {
      EXPECT_GT(*r.price, 0);
    }
  }
}

// --- faults -------------------------------------------------------------------------

struct FaultCase {
  std::string kind;
  ErrorCode exhausted;  // the error once retries run out
  std::string message_start;
};
void PrintTo(const FaultCase& c, std::ostream* os) { *os << c.kind; }

class RentCastFaultTest : public RentCastProviderTest,
                          public ::testing::WithParamInterface<FaultCase> {
 protected:
  FakeFault Fault(int count) const {
    FakeFault f{.kind = GetParam().kind, .count = count};
    if (f.kind == "latency") f.latency_ms = 1200;  // longer than the request timeout below
    return f;
  }
  RentCastOptions FaultOptions() const {
    auto o = Options();
    o.request_timeout = 300ms;
    return o;
  }
};

TEST_P(RentCastFaultTest, RetriesThenSucceeds) {
  server_->SetFixedCount(20);
  server_->AddFault(Fault(2));
  auto provider = Provider(FaultOptions());
  auto got = provider->ActiveListings({kAustin, 1, ""});
  ASSERT_TRUE(got) << got.error().ToString();
  EXPECT_EQ(got->size(), 20u);
  EXPECT_EQ(RequestsTo("/listings/sale").size(), 3u);
  EXPECT_EQ(provider->stats().retries, 2u);
}

TEST_P(RentCastFaultTest, GivesUpAfterMaxAttemptsWithTheRightCode) {
  server_->SetFixedCount(20);
  server_->AddFault(Fault(-1));
  auto got = Provider(FaultOptions())->ActiveListings({kAustin, 1, ""});
  ASSERT_FALSE(got);
  EXPECT_EQ(got.error().code, GetParam().exhausted) << got.error().ToString();
  EXPECT_TRUE(got.error().message.starts_with(GetParam().message_start)) << got.error().message;
  EXPECT_TRUE(got.error().message.ends_with("(after 3 attempts)")) << got.error().message;
  EXPECT_TRUE(got.error().Retryable());
  EXPECT_EQ(RequestsTo("/listings/sale").size(), 3u);
}

INSTANTIATE_TEST_SUITE_P(
    Kinds, RentCastFaultTest,
    ::testing::Values(
        FaultCase{"429", ErrorCode::kResourceExhausted,
                  "RentCast rate limit exceeded (429 auth/rate-limit-exceeded): Injected fault"},
        FaultCase{"500", ErrorCode::kUnavailable,
                  "RentCast server error (500 server/internal-error): Injected fault 500"},
        FaultCase{"502", ErrorCode::kUnavailable, "RentCast server error (502"},
        FaultCase{"503", ErrorCode::kUnavailable, "RentCast server error (503"},
        FaultCase{"504", ErrorCode::kUnavailable,
                  "RentCast server error (504 server/timeout): Injected fault 504"},
        FaultCase{"malformed", ErrorCode::kUnavailable, "RentCast returned malformed JSON ("},
        FaultCase{"latency", ErrorCode::kDeadlineExceeded, "RentCast request failed: GET http"}),
    [](const auto& param_info) { return "k" + param_info.param.kind; });

// --- retry waits, on a ManualTicker with scripted jitter -----------------------------

// The waits slept between requests: the ticker's successive SleepUntil targets as durations,
// without the rate limiter's zero-length ones (at 1000/s its slot is free at once).
std::vector<Ticker::Duration> Waits(const ManualTicker& ticker) {
  std::vector<Ticker::Duration> out;
  Ticker::Duration at{0};
  for (const Ticker::Duration target : ticker.Sleeps()) {
    if (target > at) out.push_back(target - at);
    at = std::max(at, target);
  }
  return out;
}

using Durations = std::vector<Ticker::Duration>;

TEST_F(RentCastProviderTest, RetryWaitsAreTheBackoffJitteredByTheInjectedRandom) {
  server_->SetFixedCount(5);
  server_->AddFault({.kind = "500", .count = 4});
  auto o = Options();
  o.max_attempts = 5;
  o.backoff_initial = 100ms;
  o.backoff_max = 300ms;
  ManualTicker ticker;
  ScriptedRandom random({0, 0.5, 0.25, 0.75});  // jitter 0.5 + u/2 of 100, 200, 300, 300 ms
  auto got = Provider(o, ticker, random)->ActiveListings({kAustin, 1, ""});
  ASSERT_TRUE(got) << got.error().ToString();
  EXPECT_EQ(got->size(), 5u);
  EXPECT_EQ(Waits(ticker), (Durations{50ms, 150ms, 187500us, 262500us}));
  EXPECT_EQ(RequestsTo("/listings/sale").size(), 5u);
}

TEST_F(RentCastProviderTest, RetryAfterIsHonoured) {
  server_->SetFixedCount(5);
  server_->AddFault({.kind = "429", .count = 1, .retry_after = 1});
  ManualTicker ticker;
  ScriptedRandom random;
  auto got = Provider(Options(), ticker, random)->ActiveListings({kAustin, 1, ""});
  ASSERT_TRUE(got) << got.error().ToString();
  EXPECT_EQ(Waits(ticker), Durations{1s});  // the limiter's pause, not a jittered backoff
  auto log = server_->Requests();
  ASSERT_EQ(log.size(), 2u);
  EXPECT_EQ(log[0].status, 429);
  EXPECT_EQ(log[1].status, 200);
}

TEST_F(RentCastProviderTest, DeadlineStopsRetries) {
  server_->AddFault({.kind = "500", .count = -1});
  auto o = Options();
  o.max_attempts = 100;
  o.backoff_initial = 4s;
  o.backoff_max = 4s;
  o.deadline = 10s;
  ManualTicker ticker;
  ScriptedRandom random({0});  // every wait 2 s
  auto got = Provider(o, ticker, random)->ActiveListings({kAustin, 1, ""});
  ASSERT_FALSE(got);
  EXPECT_EQ(got.error().code, ErrorCode::kDeadlineExceeded);
  EXPECT_TRUE(got.error().message.starts_with("RentCast GET /listings/sale?status=Active&"))
      << got.error().message;
  // Attempts at 0, 2, 4, 6 and 8 s; a sixth after 2 s more would start too close to the
  // deadline (less than 100 ms left), so the call fails at 8 s without waiting.
  EXPECT_NE(got.error().message.find("did not succeed within the 10 s deadline (5 attempts; "),
            std::string::npos)
      << got.error().message;
  EXPECT_TRUE(got.error().message.ends_with(
      "last error: UNAVAILABLE: RentCast server error (500 server/internal-error): Injected "
      "fault 500)"))
      << got.error().message;
  EXPECT_EQ(Waits(ticker), (Durations{2s, 2s, 2s, 2s}));
  EXPECT_EQ(ticker.Elapsed(), 8s);
  EXPECT_EQ(server_->Requests().size(), 5u);
}

TEST_F(RentCastProviderTest, RetryAfterBeyondTheDeadlineFailsAtOnce) {
  server_->AddFault({.kind = "429", .count = -1, .retry_after = 30});
  auto o = Options();
  o.deadline = 2s;
  ManualTicker ticker;
  ScriptedRandom random;
  auto got = Provider(o, ticker, random)->RecentSales({kAustin, 1, ""}, 90);
  ASSERT_FALSE(got);
  EXPECT_EQ(got.error().code, ErrorCode::kDeadlineExceeded);
  EXPECT_NE(got.error().message.find("last error: RESOURCE_EXHAUSTED"), std::string::npos)
      << got.error().message;
  EXPECT_EQ(ticker.Elapsed(), 0s);
  EXPECT_EQ(server_->Requests().size(), 1u);
}

// Forwards to libcurl and records each request's timeout.
class TimeoutRecorder final : public HttpClient {
 public:
  Result<HttpResponse> Send(const HttpRequest& request) override {
    {
      std::lock_guard lock(mu_);
      timeouts_.push_back(request.timeout);
    }
    return inner_->Send(request);
  }
  std::vector<std::chrono::milliseconds> timeouts() {
    std::lock_guard lock(mu_);
    return timeouts_;
  }

 private:
  const HttpClientPtr inner_ = NewCurlHttpClient();
  std::mutex mu_;
  std::vector<std::chrono::milliseconds> timeouts_;  // guarded by mu_
};

// Real time: the server really is slow. The request's own timeout is cut to what is left of
// the call's deadline, so the 30 s request timeout never applies.
TEST_F(RentCastProviderTest, ASlowServerRunsIntoTheDeadlineNotTheRequestTimeout) {
  server_->AddFault({.kind = "latency", .count = -1, .latency_ms = 1500});
  auto o = Options();
  o.request_timeout = 30s;
  o.deadline = 500ms;
  auto http = std::make_shared<TimeoutRecorder>();
  SteadyTicker ticker;
  ScriptedRandom random;
  auto got = Provider(o, ticker, random, http)->Market("78701");
  ASSERT_FALSE(got);
  EXPECT_EQ(got.error().code, ErrorCode::kDeadlineExceeded) << got.error().ToString();
  const auto timeouts = http->timeouts();
  ASSERT_EQ(timeouts.size(), 1u) << got.error().ToString();
  EXPECT_GT(timeouts[0], 0ms);
  EXPECT_LE(timeouts[0], 500ms);
}

TEST_F(RentCastProviderTest, ConnectionRefusedIsUnavailableAfterRetries) {
  int closed_port;
  {
    fake::FakeRentCastServer other;
    auto port = other.Start();
    ASSERT_TRUE(port);
    closed_port = *port;
  }
  auto o = Options();
  o.base_url = "http://127.0.0.1:" + std::to_string(closed_port) + "/v1";
  auto got = Provider(o)->ActiveListings({kAustin, 1, ""});
  ASSERT_FALSE(got);
  EXPECT_EQ(got.error().code, ErrorCode::kUnavailable) << got.error().ToString();
  EXPECT_TRUE(got.error().message.starts_with("RentCast request failed: GET http://127.0.0.1:"))
      << got.error().message;
  EXPECT_TRUE(got.error().message.ends_with("(after 3 attempts)")) << got.error().message;
}

// --- permanent errors ---------------------------------------------------------------

TEST_F(RentCastProviderTest, RejectedKeyIsPermissionDeniedWithoutTheKey) {
  auto o = Options();
  o.api_key = "wrong-key-123456";
  auto provider = Provider(o);
  for (auto got :
       {provider->ActiveListings({kAustin, 1, ""}), provider->RecentSales({kAustin, 1, ""}, 90)}) {
    ASSERT_FALSE(got);
    EXPECT_EQ(got.error().code, ErrorCode::kPermissionDenied);
    EXPECT_EQ(got.error().message,
              "RentCast rejected the API key (401 auth/api-key-invalid): Invalid API key");
    EXPECT_FALSE(got.error().Retryable());
  }
  auto market = provider->Market("78701");
  ASSERT_FALSE(market);
  EXPECT_EQ(market.error().code, ErrorCode::kPermissionDenied);
  EXPECT_EQ(server_->Requests().size(), 3u);  // never retried
}

TEST_F(RentCastProviderTest, BadRequestIsInvalidArgumentWithTheApisMessage) {
  auto o = Options();
  o.market_history_months = 0;  // the API accepts 1..
  auto got = Provider(o)->Market("78701");
  ASSERT_FALSE(got);
  EXPECT_EQ(got.error().code, ErrorCode::kInvalidArgument);
  EXPECT_EQ(got.error().message,
            "RentCast rejected the request (400 resource/bad-request): Invalid historyRange "
            "parameter '0': must be an integer between 1 and 120");
  EXPECT_EQ(server_->Requests().size(), 1u);

  server_->AddFault({.kind = "400", .count = 1});
  auto listings = Provider()->ActiveListings({kAustin, 1, ""});
  ASSERT_FALSE(listings);
  EXPECT_EQ(listings.error().code, ErrorCode::kInvalidArgument);
  EXPECT_EQ(listings.error().message,
            "RentCast rejected the request (400 resource/bad-request): Injected fault 400");
}

TEST_F(RentCastProviderTest, ServerTextEchoingTheKeyIsRedacted) {
  server_->SetCanned(
      "/properties", 400,
      std::string(R"({"status":400,"error":"resource/bad-request","message":"bad key )") +
          kTestApiKey + R"( in query"})");
  auto got = Provider()->RecentSales({kAustin, 1, ""}, 90);
  ASSERT_FALSE(got);
  EXPECT_EQ(
      got.error().message,
      "RentCast rejected the request (400 resource/bad-request): bad key [redacted] in query");
}

// The "error" field too, and a key that a cut at the excerpt's length would split.
TEST_F(RentCastProviderTest, TheKeyIsRedactedFromEveryFieldBeforeTheTextIsCutShort) {
  server_->SetCanned("/properties", 401,
                     std::string(R"({"status":401,"error":"key )") + kTestApiKey +
                         R"( is invalid","message":")" + std::string(290, 'x') + kTestApiKey +
                         R"("})");
  auto got = Provider()->RecentSales({kAustin, 1, ""}, 90);
  ASSERT_FALSE(got);
  EXPECT_EQ(got.error().code, ErrorCode::kPermissionDenied);
  const std::string key(kTestApiKey);
  EXPECT_EQ(got.error().message.find(key.substr(0, 6)), std::string::npos) << got.error().message;
  EXPECT_NE(got.error().message.find("key [redacted] is invalid"), std::string::npos)
      << got.error().message;
  // Not JSON: the body's excerpt.
  server_->SetCanned("/properties", 500, std::string(195, 'y') + kTestApiKey);
  auto plain = Provider()->RecentSales({kAustin, 1, ""}, 90);
  ASSERT_FALSE(plain);
  EXPECT_EQ(plain.error().message.find(key.substr(0, 4)), std::string::npos)
      << plain.error().message;
}

TEST_F(RentCastProviderTest, InvalidAreasAreRejectedWithoutARequest) {
  auto provider = Provider();
  auto far = provider->ActiveListings({kAustin, 150, ""});
  ASSERT_FALSE(far);
  EXPECT_EQ(far.error().code, ErrorCode::kInvalidArgument);
  EXPECT_EQ(far.error().message, "search radius 150 miles is outside (0, 100]");
  auto nowhere = provider->RecentSales({{91, 0}, 1, ""}, 90);
  ASSERT_FALSE(nowhere);
  EXPECT_EQ(nowhere.error().code, ErrorCode::kInvalidArgument);
  auto days = provider->RecentSales({kAustin, 1, ""}, 0);
  ASSERT_FALSE(days);
  EXPECT_EQ(days.error().message, "recent-sales window of 0 days is outside [1, 3650]");
  EXPECT_TRUE(server_->Requests().empty());
}

}  // namespace
}  // namespace dripr
