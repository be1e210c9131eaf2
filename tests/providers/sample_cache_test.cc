// The sample provider's caches (cells, recent searches) change no output: whatever was
// searched before, in whatever order, a search returns the same records as on a fresh
// provider, and the records over a grid of US searches hash to the value recorded before the
// caches existed (docs/decisions/domain.md, "Sample provider cache").
#include <gtest/gtest.h>

#include <cinttypes>
#include <cstdio>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "dripr/core/time.h"
#include "dripr/providers/sample/sample_provider.h"

namespace dripr {
namespace {

const SysTime kNow = *ParseIso8601("2026-11-29T12:00:00Z");

struct Place {
  GeoPoint p;
  const char* zip;
};
// A city centre (dozens of homes within a mile), suburbs and open country (widening to 8).
const Place kPlaces[] = {
    {{42.3736, -71.1097}, "02139"},  {{41.5, -99.5}, "68862"},
    {{37.7599, -122.4148}, "94110"}, {{40.5521, -74.4382}, "08816"},
    {{47.6101, -122.2015}, "98006"}, {{33.8366, -117.9143}, "92860"},
    {{44.97, -103.77}, "57717"},     {{30.2672, -97.7431}, "78701"},
};

std::shared_ptr<const ZipCentroids> RepoZips() {
  std::ifstream f(std::string(DRIPR_SOURCE_DIR) + "/data/zip_codes.csv");
  std::stringstream text;
  text << f.rdbuf();
  auto z = ZipCentroids::FromCsv(text.str(), "zip_codes.csv");
  EXPECT_TRUE(z) << z.error().message;
  return std::make_shared<const ZipCentroids>(z ? std::move(*z) : ZipCentroids{});
}

SampleProviderOptions WithZips(std::shared_ptr<const ZipCentroids> zips) {
  SampleProviderOptions o;
  o.zips = std::move(zips);
  return o;
}

using Records = std::vector<PropertyRecord>;

constexpr size_t kFingerprintRecords = 16997;
constexpr uint64_t kFingerprint = 3256873739415615001ULL;

Records Listings(SampleProvider& p, const Place& at, double miles) {
  auto r = p.ActiveListings({at.p, miles, at.zip});
  EXPECT_TRUE(r) << r.error().message;
  return r ? *r : Records{};
}

Records Sales(SampleProvider& p, const Place& at, double miles, int days) {
  auto r = p.RecentSales({at.p, miles, at.zip}, days);
  EXPECT_TRUE(r) << r.error().message;
  return r ? *r : Records{};
}

TEST(SampleProviderCache, WideningDirectAndColdSearchesAgree) {
  ManualClock clock(kNow);
  auto zips = RepoZips();
  for (bool with_zips : {true, false}) {
    auto options = with_zips ? WithZips(zips) : SampleProviderOptions{};
    SampleProvider widening(clock, options), direct(clock, options);
    for (const Place& at : kPlaces) {
      SCOPED_TRACE(std::string(at.zip) + (with_zips ? " with zips" : " without zips"));
      // `widening` searches 1 → 2 → 4 → 8 miles, listings before sales, like the handlers;
      // `direct` goes straight to 8 miles, sales before listings, then narrows; every search
      // is also made on a fresh provider (cold caches).
      std::vector<Records> w_listings, w_sales;
      for (double miles : {1.0, 2.0, 4.0, 8.0}) {
        w_listings.push_back(Listings(widening, at, miles));
        w_sales.push_back(Sales(widening, at, miles, 90));
      }
      for (int i = 3; i >= 0; --i) {
        const double miles = 1 << i;
        EXPECT_EQ(Sales(direct, at, miles, 90), w_sales[i]) << miles << " mi";
        EXPECT_EQ(Listings(direct, at, miles), w_listings[i]) << miles << " mi";
        SampleProvider cold(clock, options);
        EXPECT_EQ(Listings(cold, at, miles), w_listings[i]) << miles << " mi";
        SampleProvider cold_sales(clock, options);
        EXPECT_EQ(Sales(cold_sales, at, miles, 90), w_sales[i]) << miles << " mi";
      }
      // A longer sales window than the cells were built with, then a shorter one.
      SampleProvider cold(clock, options);
      auto year = Sales(cold, at, 4, 365);
      EXPECT_EQ(Sales(widening, at, 4, 365), year);
      EXPECT_GT(year.size(), w_sales[2].size());
      SampleProvider cold_week(clock, options);
      EXPECT_EQ(Sales(widening, at, 4, 7), Sales(cold_week, at, 4, 7));
    }
    // The comparisons above were of real results: the city has dozens within a mile.
    EXPECT_GE(Listings(widening, kPlaces[0], 1).size(), 10u);
  }
}

// FNV-1a over every field of every record (doubles by their bits).
struct Fingerprint {
  uint64_t h = 0xcbf29ce484222325ULL;
  size_t records = 0;
  void Add(const std::string& s) {
    for (unsigned char c : s + '|') h = (h ^ c) * 0x100000001b3ULL;
  }
  void Add(double d) {
    char buf[40];
    std::snprintf(buf, sizeof buf, "%a", d);
    Add(std::string(buf));
  }
  template <class T>
  void Add(const std::optional<T>& v) {
    if (v) {
      Add(*v);
    } else {
      Add(std::string("-"));
    }
  }
  void Add(int64_t v) { Add(std::to_string(v)); }
  void Add(int v) { Add(std::to_string(v)); }
  void Add(const PropertyRecord& r) {
    ++records;
    for (const std::string* s : {&r.source_id, &r.formatted_address, &r.address_line1, &r.city,
                                 &r.state, &r.zip_code, &r.property_type, &r.event_date}) {
      Add(*s);
    }
    Add(r.location ? r.location->lat : -999.0);
    Add(r.location ? r.location->lng : -999.0);
    Add(r.bedrooms);
    Add(r.bathrooms);
    Add(r.square_footage);
    Add(r.price);
    Add(r.days_on_market);
  }
};

TEST(SampleProviderCache, OutputMatchesTheRecordedFingerprint) {
  // Recorded with the provider before its caches and shortcuts (main at 0c9a074): a change
  // here changes every demo and e2e comparison, which the determinism contract forbids.
  ManualClock clock(kNow);
  auto zips = RepoZips();
  SampleProvider with_zips(clock, WithZips(zips)), without(clock, SampleProviderOptions{});
  Fingerprint f;
  for (size_t i = 0; i < zips->size(); i += 997) {
    auto [zip, at] = zips->At(i);
    SampleProvider& p = i % 2 ? with_zips : without;
    for (double miles : {1.0, 2.0, 4.0, 8.0}) {
      auto listings = p.ActiveListings({at, miles, zip});
      auto sales = p.RecentSales({at, miles, zip}, i % 3 ? 90 : 180);
      ASSERT_TRUE(listings && sales);
      for (const auto& r : *listings) f.Add(r);
      for (const auto& r : *sales) f.Add(r);
    }
    auto m = p.Market(zip);
    ASSERT_TRUE(m);
    for (const MarketMonth* month : {&m->current, &m->previous}) {
      f.Add(month->month);
      f.Add(month->average_price);
      f.Add(month->average_price_per_sqft);
      f.Add(month->average_days_on_market);
      f.Add(month->total_listings);
    }
  }
  EXPECT_EQ(f.records, kFingerprintRecords);
  EXPECT_EQ(f.h, kFingerprint) << std::hex << f.h;
}

}  // namespace
}  // namespace dripr
