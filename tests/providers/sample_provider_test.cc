#include "dripr/providers/sample/sample_provider.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <map>
#include <set>
#include <thread>
#include <vector>

#include "dripr/core/cpus.h"
#include "dripr/core/time.h"
#include "dripr/domain/scoring.h"
#include "dripr/providers/sample/geography.h"

namespace dripr {
namespace sample_provider_test {

using std::chrono::days;

const SysTime kNow = *ParseIso8601("2026-11-29T12:00:00Z");
const GeoPoint kCambridge{42.3736, -71.1097};      // 02139, dense and expensive
const GeoPoint kNebraska{41.5, -99.5};             // open country, far from any metro
const GeoPoint kSanFrancisco{37.7599, -122.4148};  // 94110

SearchArea Area(GeoPoint p, double miles, std::string zip) {
  return SearchArea{p, miles, std::move(zip)};
}

std::map<std::string, PropertyRecord> ById(const std::vector<PropertyRecord>& rs) {
  std::map<std::string, PropertyRecord> m;
  for (const auto& r : rs) m[r.source_id] = r;
  return m;
}

int64_t Median(std::vector<int64_t> v) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0 : v[v.size() / 2];
}

std::vector<int64_t> Prices(const std::vector<PropertyRecord>& rs) {
  std::vector<int64_t> out;
  for (const auto& r : rs) {
    if (r.price) out.push_back(*r.price);
  }
  return out;
}

class SampleProviderTest : public ::testing::Test {
 protected:
  ManualClock clock_{kNow};
  SampleProvider provider_{clock_, SampleProviderOptions{}};
};

// Its calls cost only CPU (the part handlers may batch them) unless it sleeps a latency; a
// metered one says what its inner one says.
TEST_F(SampleProviderTest, CallsCostOnlyCpuUnlessItSleepsALatency) {
  EXPECT_TRUE(provider_.CallsAreCpuOnly());
  SampleProviderOptions slow;
  slow.latency = std::chrono::milliseconds(200);
  EXPECT_FALSE(SampleProvider(clock_, slow).CallsAreCpuOnly());
  Metrics metrics;
  ManualTicker ticker;
  EXPECT_TRUE(WithMetering(std::make_unique<SampleProvider>(clock_, SampleProviderOptions{}),
                           metrics, ticker)
                  ->CallsAreCpuOnly());
  EXPECT_FALSE(WithMetering(std::make_unique<SampleProvider>(clock_, slow), metrics, ticker)
                   ->CallsAreCpuOnly());
}

TEST_F(SampleProviderTest, IsDeterministicAcrossCallsAndInstances) {
  SampleProvider other(clock_, SampleProviderOptions{});
  auto a = provider_.ActiveListings(Area(kCambridge, 2, "02139"));
  auto b = other.ActiveListings(Area(kCambridge, 2, "02139"));
  ASSERT_TRUE(a && b);
  ASSERT_FALSE(a->empty());
  EXPECT_EQ(*a, *b);
  EXPECT_EQ(*a, *provider_.ActiveListings(Area(kCambridge, 2, "02139")));
  auto s1 = provider_.RecentSales(Area(kNebraska, 8, "68862"), 90);
  auto s2 = other.RecentSales(Area(kNebraska, 8, "68862"), 90);
  ASSERT_TRUE(s1 && s2);
  EXPECT_EQ(*s1, *s2);
  EXPECT_EQ(*provider_.Market("02139"), *other.Market("02139"));
}

// At most max_concurrent_searches searches are computed at once, whatever the callers; the
// answers are those of one caller alone. The default leaves a core to the rest of the process.
TEST_F(SampleProviderTest, RunsAtMostTheAllowedSearchesAtOnceWithTheSameAnswers) {
  SampleProviderOptions options;
  options.max_concurrent_searches = 2;
  SampleProvider gated(clock_, options);
  EXPECT_EQ(gated.max_concurrent_searches(), 2);
  const std::vector<PropertyRecord> listings =
      *provider_.ActiveListings(Area(kCambridge, 4, "02139"));
  const std::vector<PropertyRecord> sales =
      *provider_.RecentSales(Area(kCambridge, 4, "02139"), 90);
  std::atomic<int> wrong{0};
  std::vector<std::thread> callers;
  for (int t = 0; t < 8; ++t) {
    callers.emplace_back([&] {
      for (int i = 0; i < 20; ++i) {
        auto l = gated.ActiveListings(Area(kCambridge, 4, "02139"));
        auto s = gated.RecentSales(Area(kCambridge, 4, "02139"), 90);
        if (!l || !s || *l != listings || *s != sales) ++wrong;
      }
    });
  }
  for (auto& c : callers) c.join();
  EXPECT_EQ(wrong.load(), 0);
  EXPECT_GE(gated.peak_concurrent_searches(), 1);
  EXPECT_LE(gated.peak_concurrent_searches(), 2);

  const int cores = static_cast<int>(UsableCores());
  EXPECT_EQ(provider_.max_concurrent_searches(), std::max(1, cores - 1));
  options.max_concurrent_searches = -3;  // nonsense: the default
  EXPECT_EQ(SampleProvider(clock_, options).max_concurrent_searches(), std::max(1, cores - 1));
}

TEST_F(SampleProviderTest, OpenCountryNeedsWideningAndReachesTenAtEightMiles) {
  size_t previous = 0;
  std::map<std::string, PropertyRecord> smaller;
  for (double r : {1.0, 2.0, 4.0, 8.0}) {
    auto listings = provider_.ActiveListings(Area(kNebraska, r, "68862"));
    ASSERT_TRUE(listings) << listings.error().message;
    EXPECT_GE(listings->size(), previous) << r;
    // Every home found at a smaller radius is found again, identical.
    auto now = ById(*listings);
    for (const auto& [id, rec] : smaller) {
      ASSERT_TRUE(now.count(id)) << id << " vanished at radius " << r;
      EXPECT_EQ(now[id], rec);
    }
    for (const auto& rec : *listings) {
      ASSERT_TRUE(rec.location);
      EXPECT_LE(DistanceMiles(kNebraska, *rec.location), r);
    }
    previous = listings->size();
    smaller = std::move(now);
    if (r == 1.0) {
      EXPECT_LT(listings->size(), 10u) << "open country should need widening";
    }
  }
  EXPECT_GE(previous, 10u);
  auto sales1 = provider_.RecentSales(Area(kNebraska, 1, "68862"), 90);
  auto sales8 = provider_.RecentSales(Area(kNebraska, 8, "68862"), 90);
  EXPECT_LT(sales1->size(), 10u);
  EXPECT_GE(sales8->size(), 10u);
}

TEST_F(SampleProviderTest, CityCentreHasTenWithinOneMile) {
  EXPECT_GE(provider_.ActiveListings(Area(kCambridge, 1, "02139"))->size(), 10u);
  EXPECT_GE(provider_.RecentSales(Area(kCambridge, 1, "02139"), 90)->size(), 10u);
}

TEST_F(SampleProviderTest, SameHomeWhateverTheSearchCentre) {
  // A home found from two different centres is the same record (no zip table: the zip is
  // the searched area's, so search both with the same zip).
  auto a = ById(*provider_.ActiveListings(Area(kCambridge, 2, "02139")));
  GeoPoint east{kCambridge.lat, kCambridge.lng + 0.02};
  auto b = ById(*provider_.ActiveListings(Area(east, 2, "02139")));
  int shared = 0;
  for (const auto& [id, rec] : a) {
    if (b.count(id)) {
      ++shared;
      EXPECT_EQ(b[id], rec);
    }
  }
  EXPECT_GT(shared, 10);
}

TEST_F(SampleProviderTest, ReturnsNearestFirstAndAtMostTheCap) {
  auto rs = provider_.ActiveListings(Area(kCambridge, 8, "02139"));
  ASSERT_TRUE(rs);
  EXPECT_EQ(rs->size(), SampleProvider::kMaxResults);
  for (size_t i = 1; i < rs->size(); ++i) {
    EXPECT_LE(DistanceMiles(kCambridge, *(*rs)[i - 1].location),
              DistanceMiles(kCambridge, *(*rs)[i].location));
  }
  std::set<std::string> ids;
  for (const auto& r : *rs) ids.insert(r.source_id);
  EXPECT_EQ(ids.size(), rs->size());
}

TEST_F(SampleProviderTest, ListingsLookLikeListings) {
  auto rs = provider_.ActiveListings(Area(kCambridge, 3, "02139"));
  ASSERT_TRUE(rs);
  const std::set<std::string> types = {"Single Family", "Condo", "Townhouse", "Multi-Family",
                                       "Manufactured"};
  for (const auto& r : *rs) {
    SCOPED_TRACE(r.source_id);
    ASSERT_TRUE(r.price && r.bedrooms && r.bathrooms && r.square_footage && r.days_on_market);
    EXPECT_GE(*r.price, 50'000);
    EXPECT_LE(*r.price, 8'000'000);
    EXPECT_EQ(*r.price % 1000, 0);
    EXPECT_GE(*r.bedrooms, 1);
    EXPECT_LE(*r.bedrooms, 8);
    EXPECT_GE(*r.bathrooms, 1);
    EXPECT_GE(*r.square_footage, 400);
    EXPECT_TRUE(types.count(r.property_type)) << r.property_type;
    // Listed within the last 120 days, and days on market agrees with the date.
    auto listed = ParseIso8601(r.event_date + "T00:00:00Z");
    ASSERT_TRUE(listed) << r.event_date;
    EXPECT_EQ(*r.days_on_market, std::chrono::floor<days>(kNow - *listed).count());
    EXPECT_GE(*r.days_on_market, 0);
    EXPECT_LT(*r.days_on_market, 120);
    EXPECT_EQ(r.zip_code, "02139");
    EXPECT_EQ(r.state, "MA");
    EXPECT_EQ(r.formatted_address, r.address_line1 + ", " + r.city + ", MA 02139");
  }
}

TEST_F(SampleProviderTest, SomeSalesHaveNoDisclosedPrice) {
  auto rs = provider_.RecentSales(Area(kCambridge, 4, "02139"), 90);
  ASSERT_TRUE(rs);
  ASSERT_GE(rs->size(), 300u);
  size_t unpriced = 0;
  for (const auto& r : *rs) {
    if (!r.price) ++unpriced;
    EXPECT_FALSE(r.days_on_market);
    auto sold = ParseIso8601(r.event_date + "T00:00:00Z");
    ASSERT_TRUE(sold);
    auto age = std::chrono::floor<days>(kNow - *sold).count();
    EXPECT_GE(age, 0);
    EXPECT_LT(age, 90);
  }
  double share = double(unpriced) / double(rs->size());
  EXPECT_GT(share, 0.08);
  EXPECT_LT(share, 0.22);
}

TEST_F(SampleProviderTest, SalesWindowFollowsDays) {
  auto d30 = ById(*provider_.RecentSales(Area(kNebraska, 20, "68862"), 30));
  auto d90 = ById(*provider_.RecentSales(Area(kNebraska, 20, "68862"), 90));
  EXPECT_LT(d30.size(), d90.size());
  for (const auto& [id, rec] : d30) {
    ASSERT_TRUE(d90.count(id));
    EXPECT_EQ(d90[id], rec);
  }
}

TEST_F(SampleProviderTest, TheWorldStaysPutAsTheClockMoves) {
  auto before = ById(*provider_.RecentSales(Area(kCambridge, 1, "02139"), 90));
  auto listed_before = ById(*provider_.ActiveListings(Area(kCambridge, 1, "02139")));
  clock_.Advance(days(1));
  auto after = ById(*provider_.RecentSales(Area(kCambridge, 1, "02139"), 90));
  auto listed_after = ById(*provider_.ActiveListings(Area(kCambridge, 1, "02139")));
  int kept = 0;
  for (const auto& [id, rec] : before) {
    if (after.count(id)) {
      ++kept;
      EXPECT_EQ(after[id], rec);  // same sale, same date
    }
  }
  EXPECT_GE(kept, int(before.size()) - 3);
  for (const auto& [id, rec] : listed_before) {
    if (!listed_after.count(id)) continue;
    EXPECT_EQ(listed_after[id].event_date, rec.event_date);
    EXPECT_EQ(*listed_after[id].days_on_market, *rec.days_on_market + 1);
    EXPECT_EQ(listed_after[id].price, rec.price);
  }
}

TEST_F(SampleProviderTest, PricesFollowTheArea) {
  auto sf = Median(Prices(*provider_.RecentSales(Area(kSanFrancisco, 2, "94110"), 90)));
  auto cam = Median(Prices(*provider_.RecentSales(Area(kCambridge, 2, "02139"), 90)));
  auto neb = Median(Prices(*provider_.RecentSales(Area(kNebraska, 10, "68862"), 90)));
  EXPECT_GT(sf, 900'000);
  EXPECT_LT(sf, 2'500'000);
  EXPECT_GT(cam, 600'000);
  EXPECT_GT(neb, 100'000);
  EXPECT_LT(neb, 400'000);
  EXPECT_GT(sf, cam);
  EXPECT_GT(cam, 2 * neb);
}

TEST(SampleHash, HashMoreContinuesAHash) {
  EXPECT_EQ(sample::HashMore(sample::Hash({3, -4}), {20000, 7, 0x4c49, 1}),
            sample::Hash({3, -4, 20000, 7, 0x4c49, 1}));
  EXPECT_NE(sample::HashMore(sample::Hash({3, -4}), {1}), sample::Hash({3, -4}));
}

TEST(SampleGeography, PriceLevelStaysInRangeEverywhere) {
  for (double lat = 19; lat <= 65; lat += 0.73) {
    for (double lng = -160; lng <= -66; lng += 0.91) {
      double level = sample::PriceLevel({lat, lng});
      ASSERT_GE(level, 120'000);
      ASSERT_LE(level, 2'500'000);
      double u = sample::Urbanness({lat, lng});
      ASSERT_GE(u, 0);
      ASSERT_LE(u, 1);
    }
  }
  EXPECT_GT(sample::Urbanness(kCambridge), 0.9);
  EXPECT_LT(sample::Urbanness(kNebraska), 0.05);
}

TEST(SampleGeography, StatesAndCitiesFromZip) {
  EXPECT_EQ(sample::StateForZip("02139"), "MA");
  EXPECT_EQ(sample::StateForZip("10036"), "NY");
  EXPECT_EQ(sample::StateForZip("94110"), "CA");
  EXPECT_EQ(sample::StateForZip("73301"), "TX");
  EXPECT_EQ(sample::StateForZip("20500"), "DC");
  EXPECT_EQ(sample::StateForZip("99501"), "AK");
  EXPECT_EQ(sample::StateForZip("00601"), "PR");
  EXPECT_EQ(sample::StateForZip("00001"), "");
  EXPECT_EQ(sample::CityForZip("94110"), "San Francisco");
  EXPECT_EQ(sample::CityForZip("10036"), "New York");
  EXPECT_EQ(sample::CityForZip("68862"), sample::CityForZip("68862"));
  EXPECT_FALSE(sample::CityForZip("68862").empty());
}

TEST_F(SampleProviderTest, RejectsBadSearches) {
  auto bad = [&](SearchArea a, const std::string& message) {
    auto r = provider_.ActiveListings(a);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, ErrorCode::kInvalidArgument);
    EXPECT_EQ(r.error().message, message);
  };
  bad(Area(kCambridge, 0, "02139"),
      "sample provider: radius must be in (0, 100] miles, got 0.000000");
  bad(Area(kCambridge, -1, "02139"),
      "sample provider: radius must be in (0, 100] miles, got -1.000000");
  bad(Area(kCambridge, 101, "02139"),
      "sample provider: radius must be in (0, 100] miles, got 101.000000");
  bad(Area(kCambridge, std::nan(""), "02139"),
      "sample provider: radius must be in (0, 100] miles, got nan");
  bad(Area({91, 0}, 1, "02139"), "sample provider: search centre is not on the globe");
  bad(Area({0, std::nan("")}, 1, "02139"), "sample provider: search centre is not on the globe");
  auto days0 = provider_.RecentSales(Area(kCambridge, 1, "02139"), 0);
  ASSERT_FALSE(days0);
  EXPECT_EQ(days0.error().message, "sample provider: days must be 1..3650, got 0");
  EXPECT_TRUE(provider_.ActiveListings(Area({89.5, 10}, 100, "99999"))->empty());
}

TEST_F(SampleProviderTest, WidestSearchIsStillQuick) {
  // Not a benchmark: guards against an accidental blow-up in the cell enumeration.
  auto start = std::chrono::steady_clock::now();
  auto rs = provider_.ActiveListings(Area(kCambridge, 100, "02139"));
  ASSERT_TRUE(rs);
  EXPECT_EQ(rs->size(), SampleProvider::kMaxResults);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(20));
}

TEST(SampleProviderSparse, SparseZipsNeverReachTenAtAnyRadius) {
  ManualClock clock(kNow);
  SampleProviderOptions o;
  o.sparse_zip_prefixes = {"02139", "59"};
  SampleProvider p(clock, o);
  for (double r : {1.0, 2.0, 4.0, 8.0, 16.0, 100.0}) {
    auto l = p.ActiveListings(Area(kCambridge, r, "02139"));
    auto s = p.RecentSales(Area(kCambridge, r, "02139"), 90);
    ASSERT_TRUE(l && s);
    EXPECT_LE(l->size(), SampleProvider::kSparseMaxResults);
    EXPECT_LE(s->size(), SampleProvider::kSparseMaxResults);
    EXPECT_LE(p.ActiveListings(Area(kNebraska, r, "59001"))->size(),
              SampleProvider::kSparseMaxResults);
  }
  // The sparse answer is the nearest few of the normal answer; other zips are untouched.
  SampleProvider normal(clock, SampleProviderOptions{});
  auto all = *normal.ActiveListings(Area(kCambridge, 8, "02139"));
  auto few = *p.ActiveListings(Area(kCambridge, 8, "02139"));
  ASSERT_EQ(few.size(), SampleProvider::kSparseMaxResults);
  EXPECT_TRUE(std::equal(few.begin(), few.end(), all.begin()));
  EXPECT_EQ(*p.ActiveListings(Area(kCambridge, 8, "02138")),
            *normal.ActiveListings(Area(kCambridge, 8, "02138")));
}

TEST_F(SampleProviderTest, MarketDataIsPlausibleAndConsistentOverTime) {
  auto m = provider_.Market("02139-4307");
  ASSERT_TRUE(m) << m.error().message;
  EXPECT_EQ(m->zip_code, "02139");
  EXPECT_EQ(m->current.month, "2026-11");
  EXPECT_EQ(m->previous.month, "2026-08");
  EXPECT_EQ(m->created_at, kNow);
  for (const MarketMonth* mm : {&m->current, &m->previous}) {
    ASSERT_TRUE(mm->average_price && mm->average_price_per_sqft && mm->average_days_on_market &&
                mm->total_listings);
    EXPECT_GT(*mm->average_price, 600'000);
    EXPECT_LT(*mm->average_price, 2'000'000);
    EXPECT_GT(*mm->average_price_per_sqft, 300);
    EXPECT_LT(*mm->average_price_per_sqft, 2000);
    EXPECT_GT(*mm->average_days_on_market, 10);
    EXPECT_LT(*mm->average_days_on_market, 120);
    EXPECT_GT(*mm->total_listings, 3);
  }
  // Three months later, today's month is the previous one, unchanged.
  clock_.Set(*ParseIso8601("2027-02-10T08:00:00Z"));
  auto later = provider_.Market("02139");
  ASSERT_TRUE(later);
  EXPECT_EQ(later->current.month, "2027-02");
  EXPECT_EQ(later->previous, m->current);
  // The country is cheaper and slower than a city (no zip table: a metro's main prefix
  // sits at its centre; others are country zips).
  auto rural = provider_.Market("68862");
  auto sf = provider_.Market("94110");
  ASSERT_TRUE(rural && sf);
  EXPECT_LT(*rural->current.average_price, 400'000);
  EXPECT_GT(*sf->current.average_price, 1'000'000);
  EXPECT_GT(*rural->current.average_days_on_market, *sf->current.average_days_on_market);
}

TEST_F(SampleProviderTest, MarketRejectsMalformedZip) {
  auto r = provider_.Market("2139");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::kInvalidArgument);
  EXPECT_EQ(r.error().message,
            "sample provider: zip: must be 5 digits or ZIP+4 (12345-6789), got \"2139\"");
}

TEST(SampleProviderZips, HomesTakeTheNearestZipAndMarketsTheirLocation) {
  ManualClock clock(kNow);
  SampleProviderOptions o;
  o.zips = std::make_shared<const ZipCentroids>(ZipCentroids::FromList({
      {"02139", {42.3647, -71.1042}},
      {"02138", {42.3800, -71.1350}},
      {"02141", {42.3706, -71.0826}},
      {"68862", {41.5, -99.5}},
  }));
  SampleProvider p(clock, o);
  auto rs = p.ActiveListings(Area(kCambridge, 2, "02139"));
  ASSERT_TRUE(rs);
  std::set<std::string> zips;
  for (const auto& r : *rs) {
    zips.insert(r.zip_code);
    std::string nearest = *o.zips->Nearest(*r.location);
    EXPECT_EQ(r.zip_code, nearest);
    EXPECT_EQ(r.formatted_address.substr(r.formatted_address.size() - 5), r.zip_code);
  }
  EXPECT_EQ(zips, (std::set<std::string>{"02138", "02139", "02141"}));
  // 68862 is now known to be in the country: a low price level.
  EXPECT_LT(*p.Market("68862")->current.average_price, 400'000);
}

TEST(SampleProviderZips, LatencyOptionDelaysEveryCallOnTheTicker) {
  using std::chrono::milliseconds;
  ManualClock clock(kNow);
  ManualTicker ticker;  // the sleeps move it; nothing waits for real
  SampleProviderOptions o;
  o.latency = milliseconds(30);
  SampleProvider p(clock, o, &ticker);
  ASSERT_TRUE(p.Market("02139"));
  ASSERT_TRUE(p.ActiveListings(Area(kCambridge, 1, "02139")));
  ASSERT_TRUE(p.RecentSales(Area(kCambridge, 1, "02139"), 90));
  EXPECT_EQ(ticker.Sleeps(),
            (std::vector<Ticker::Duration>{milliseconds(30), milliseconds(60), milliseconds(90)}));

  ManualTicker none;
  SampleProvider instant(clock, SampleProviderOptions{}, &none);  // latency 0: no sleep at all
  ASSERT_TRUE(instant.Market("02139"));
  EXPECT_TRUE(none.Sleeps().empty());
}

}  // namespace sample_provider_test
}  // namespace dripr
