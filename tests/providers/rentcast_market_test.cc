// RentCastProvider::Market against the fake server: month selection, no data, single flight.

#include <gtest/gtest.h>

#include <thread>

#include "providers/rentcast_fixture.h"
#include "support/poll.h"

namespace dripr {
namespace {

using namespace std::chrono_literals;

class RentCastMarketTest : public RentCastFixture {
 protected:
  // The first zip from 10001 up whose fake market data satisfies `pred`.
  template <class Pred>
  std::string FindZip(Pred pred) {
    auto world = server_->world();
    for (int z = 10001; z < 99999; ++z) {
      std::string zip = std::to_string(z);
      auto m = world->Market(zip, 6, "Sale");
      if (pred(zip, m)) return zip;
    }
    ADD_FAILURE() << "no such zip";
    return "";
  }
  // Calls provider.Market(zip) from `n` threads at once while the server holds the first
  // request, and releases it once that request is at the server and the n-1 others joined
  // it (or after 10 s). Returns each call's result; the joins seen before the release go
  // to *joins.
  std::vector<Result<MarketData>> MarketCallsInOneFlight(RentCastProvider& provider,
                                                         const std::string& zip, int n,
                                                         uint64_t* joins) {
    server_->Hold();
    std::vector<Result<MarketData>> results(n, Fail(ErrorCode::kInternal, "not run"));
    std::vector<std::thread> threads;
    for (int i = 0; i < n; ++i) {
      threads.emplace_back([&, i] { results[i] = provider.Market(zip); });
    }
    const auto want = static_cast<uint64_t>(n - 1);
    testing::Eventually(
        [&] { return server_->InFlight() >= 1 && provider.stats().market_flight_joins >= want; });
    *joins = provider.stats().market_flight_joins;
    server_->Release();
    for (auto& t : threads) t.join();
    return results;
  }
  static MarketMonth FromJson(const nlohmann::json& h, const std::string& month) {
    const auto& m = h.at(month);
    return MarketMonth{
        month, m.at("averagePrice").get<double>(), m.at("averagePricePerSquareFoot").get<double>(),
        m.at("averageDaysOnMarket").get<double>(), m.at("totalListings").get<int64_t>()};
  }
};

TEST_F(RentCastMarketTest, NewestMonthAgainstThreeMonthsEarlier) {
  std::string zip = FindZip([](const std::string&, const auto& m) {
    return m && (*m)["saleData"]["history"].contains("2025-06");
  });
  const nlohmann::json history = (*server_->world()->Market(zip, 6, "Sale"))["saleData"]["history"];
  ManualClock clock(SysTime(std::chrono::seconds(1'700'000'000)));
  auto o = Options();
  RentCastProvider provider(o, NewCurlHttpClient(),
                            std::make_shared<RateLimiter>(RateLimiterOptions{.max_rps = 100},
                                                          std::make_shared<SteadyTicker>()),
                            clock);
  auto m = provider.Market(zip);
  ASSERT_TRUE(m) << m.error().ToString();
  EXPECT_EQ(m->zip_code, zip);
  EXPECT_EQ(m->current, FromJson(history, "2025-09"));
  EXPECT_EQ(m->previous, FromJson(history, "2025-06"));
  EXPECT_EQ(m->created_at, clock.Now());

  auto log = server_->Requests();
  ASSERT_EQ(log.size(), 1u);
  EXPECT_EQ(log[0].path, "/v1/markets");
  EXPECT_EQ(log[0].query, "zipCode=" + zip + "&dataType=Sale&historyRange=6");
}

TEST_F(RentCastMarketTest, MissingComparisonMonthFallsBackToTheClosestEarlierMonth) {
  std::string zip = FindZip([](const std::string&, const auto& m) {
    return m && !(*m)["saleData"]["history"].contains("2025-06");
  });
  auto m = Provider()->Market(zip);
  ASSERT_TRUE(m) << m.error().ToString();
  EXPECT_EQ(m->current.month, "2025-09");
  EXPECT_EQ(m->previous.month, "2025-05");  // 2025-05 and 2025-07 tie; the older wins
}

TEST_F(RentCastMarketTest, ZipWithoutDataIsNotFound) {
  std::string zip = FindZip([](const std::string&, const auto& m) { return !m; });
  auto m = Provider()->Market(zip);
  ASSERT_FALSE(m);
  EXPECT_EQ(m.error().code, ErrorCode::kNotFound);
  EXPECT_EQ(m.error().message, "RentCast has no market data for zip " + zip + " (404)");
  EXPECT_EQ(server_->Requests().size(), 1u);
}

TEST_F(RentCastMarketTest, ResponseWithoutSaleDataIsNotFound) {
  server_->SetCanned("/markets", 200, R"({"id":"78701","zipCode":"78701","rentalData":{}})");
  auto m = Provider()->Market("78701");
  ASSERT_FALSE(m);
  EXPECT_EQ(m.error().code, ErrorCode::kNotFound);
  EXPECT_EQ(m.error().message, "RentCast has no sale market data for zip 78701 (no saleData)");
}

TEST_F(RentCastMarketTest, ArrayInsteadOfObjectIsRetriedAsMalformed) {
  server_->SetCanned("/markets", 200, "[]");
  auto m = Provider()->Market("78701");
  ASSERT_FALSE(m);
  EXPECT_EQ(m.error().code, ErrorCode::kUnavailable);
  EXPECT_EQ(m.error().message,
            "RentCast returned a JSON array where an object was expected (after 3 attempts)");
}

TEST_F(RentCastMarketTest, BadZipIsRejectedWithoutARequest) {
  auto m = Provider()->Market("7870");
  ASSERT_FALSE(m);
  EXPECT_EQ(m.error().code, ErrorCode::kInvalidArgument);
  EXPECT_EQ(m.error().message, "zip code '7870' is not 5 digits");
  EXPECT_TRUE(server_->Requests().empty());
}

TEST_F(RentCastMarketTest, TransientFailureIsRetried) {
  server_->AddFault({.kind = "503", .count = 1, .retry_after = 0});
  auto m = Provider()->Market("78701");
  ASSERT_TRUE(m) << m.error().ToString();
  EXPECT_EQ(server_->Requests().size(), 2u);
}

TEST_F(RentCastMarketTest, ConcurrentCallsForOneZipShareOneRequest) {
  auto provider = Provider();
  uint64_t joins = 0;
  auto results = MarketCallsInOneFlight(*provider, "78701", 10, &joins);
  EXPECT_EQ(joins, 9u);
  EXPECT_EQ(RequestsTo("/markets").size(), 1u);
  ASSERT_TRUE(results[0]) << results[0].error().ToString();
  for (const auto& r : results) {
    ASSERT_TRUE(r);
    EXPECT_EQ(*r, *results[0]);
  }
  // The flight is over: the next call asks again (30-day reuse is the store's job).
  ASSERT_TRUE(provider->Market("78701"));
  EXPECT_EQ(RequestsTo("/markets").size(), 2u);
}

TEST_F(RentCastMarketTest, ConcurrentCallsForDifferentZipsDoNotWaitForEachOther) {
  auto provider = Provider();
  std::vector<std::thread> threads;
  std::vector<Result<MarketData>> results(4, Fail(ErrorCode::kInternal, "not run"));
  const char* zips[] = {"78701", "78702", "78703", "78704"};
  for (int i = 0; i < 4; ++i) {
    threads.emplace_back([&, i] { results[i] = provider->Market(zips[i]); });
  }
  for (auto& t : threads) t.join();
  for (int i = 0; i < 4; ++i) {
    const auto& r = results[i];
    EXPECT_TRUE(r.has_value() || r.error().code == ErrorCode::kNotFound)
        << zips[i] << ": " << r.error().ToString();
  }
  EXPECT_EQ(RequestsTo("/markets").size(), 4u);
  EXPECT_EQ(provider->stats().market_flight_joins, 0u);
}

TEST_F(RentCastMarketTest, FollowersGetTheLeadersErrorToo) {
  auto o = Options();
  o.api_key = "wrong";
  auto provider = Provider(o);
  uint64_t joins = 0;
  auto results = MarketCallsInOneFlight(*provider, "78701", 5, &joins);
  for (const auto& r : results) {
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, ErrorCode::kPermissionDenied);
  }
  EXPECT_EQ(server_->Requests().size(), 1u);
}

}  // namespace
}  // namespace dripr
