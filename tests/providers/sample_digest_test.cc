// The sample provider answers the same bytes as before its second performance pass
// (docs/decisions/performance.md, "Sample provider, second pass"): a digest of every field of
// 3,120 searches and 167k records and markets (centres across the US and a few far-off places,
// radii 0.3-8 miles widening and narrowing, both kinds, sales windows 1-3650 days, four days, with
// and without the centroid table, sparse zips, bad input), pinned with main's code before the
// pass. Any change to what the provider returns changes the digest.
#include "providers/sample_digest.h"

#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <sstream>

#include "dripr/providers/sample/cell_cache.h"
#include "dripr/providers/sample/day_hashes.h"
#include "dripr/providers/sample/geography.h"

namespace dripr {
namespace {

// Recorded on main at 54203bf (before the pass).
constexpr uint64_t kSearches = 3120;
constexpr uint64_t kRecords = 166913;
constexpr uint64_t kDigest = 0x126d185300390a9ULL;

TEST(SampleProviderDigest, AnswersMatchTheRecordedDigest) {
  std::ifstream f(std::string(DRIPR_SOURCE_DIR) + "/data/zip_codes.csv");
  std::stringstream text;
  text << f.rdbuf();
  auto zips = ZipCentroids::FromCsv(text.str(), "zip_codes.csv");
  ASSERT_TRUE(zips) << zips.error().message;
  ASSERT_GT(zips->size(), 30'000u);
  sample_digest::Digest d;
  sample_digest::Sweep(std::make_shared<const ZipCentroids>(std::move(*zips)), 24,
                       /*wide=*/false, d);
  EXPECT_EQ(d.searches, kSearches);
  EXPECT_EQ(d.records, kRecords);
  EXPECT_EQ(d.h, kDigest) << std::hex << d.h;
}

// The shortcuts the digest relies on, each against its exact form.

TEST(SampleDayHashes, EveryLaneHasHashMoresBits) {
  for (int64_t today : {int64_t{20'421}, int64_t{3}, int64_t{-7}, int64_t{2'900'000}}) {
    for (uint64_t cell_hash : {sample::Hash({1, 2}), sample::Hash({-4250, 9000}), ~uint64_t{0}}) {
      const size_t n = 3656;  // the longest window, padded to eight days
      std::vector<uint64_t> vec(n), scalar(n);
      sample::DayHashes(cell_hash, today, n, vec.data());
      sample::DayHashes(cell_hash, today, n, scalar.data(), /*vector=*/false);
      for (size_t i = 0; i < n; ++i) {
        ASSERT_EQ(vec[i], sample::HashMore(cell_hash, {today - static_cast<int64_t>(i)})) << i;
        ASSERT_EQ(scalar[i], vec[i]) << i;
      }
      for (int64_t salt : {0x4c49, 0x5341}) {
        // A threshold that about one day in four exceeds, as in a city cell.
        const uint64_t none = (uint64_t{3} << 51);
        std::vector<uint64_t> out(n), out_scalar(n), above(58), above_scalar(58, ~0ULL);
        sample::SaltedHashes(vec.data(), salt, none, n, out.data(), above.data());
        sample::SaltedHashes(vec.data(), salt, none, n, out_scalar.data(), above_scalar.data(),
                             /*vector=*/false);
        int days_above = 0;
        for (size_t i = 0; i < n; ++i) {
          ASSERT_EQ(out[i], sample::HashMore(vec[i], {salt})) << i;
          ASSERT_EQ(out_scalar[i], out[i]) << i;
          const bool bit = (above[i / 64] >> (i % 64)) & 1;
          ASSERT_EQ(bit, (out[i] >> 11) > none) << i;
          days_above += bit;
        }
        EXPECT_EQ(above, above_scalar);
        EXPECT_GT(days_above, 500);
        EXPECT_LT(days_above, 1500);
      }
    }
  }
}

TEST(SamplePriceLevelRange, BracketsTheExactLevelWithinCents) {
  int narrowed = 0;
  for (double lat = -60; lat <= 84; lat += 0.377) {
    for (double lng = -179.9; lng <= 180; lng += 0.613) {
      const GeoPoint p{lat, lng};
      const double exact = sample::PriceLevel(p);
      const sample::LevelRange range = sample::PriceLevelRange(p);
      ASSERT_LE(range.lo, exact) << lat << "," << lng;
      ASSERT_GE(range.hi, exact) << lat << "," << lng;
      ASSERT_LT(range.hi - range.lo, 0.2) << lat << "," << lng;
      narrowed += range.lo < range.hi;
    }
  }
  EXPECT_GT(narrowed, 10'000);  // the shortcut was taken, not only the exact path
}

TEST(SampleCellGeneration, FindsWhatItHoldsAndKeepsReplacedCells) {
  const sample::CellHome home{{42.01, -71.03}, std::cos(42.01 * M_PI / 180), 20'000, 0};
  sample::CellGeneration g(4);
  EXPECT_EQ(g.Find(1, 2, 20'000).cell, nullptr);
  const sample::Cell* first =
      g.Put(1, 2, 20'000, sample::CellPtr(sample::Cell::Make(0.5, 90, {&home, 1}, {})));
  const sample::Cell* other_day =
      g.Put(1, 2, 20'001, sample::CellPtr(sample::Cell::Make(0.5, 90, {}, {&home, 1})));
  sample::CellRef ref = g.Find(1, 2, 20'000);
  EXPECT_EQ(ref.cell, first);
  EXPECT_EQ(ref.n_listings, 1u);
  EXPECT_EQ(ref.n_sales, 0u);
  EXPECT_EQ(ref.sale_days, 90);
  EXPECT_EQ(ref.cell->listings()[0].p, home.p);
  EXPECT_EQ(g.Find(1, 2, 20'001).cell, other_day);
  EXPECT_EQ(g.Find(1, 2, 20'001).n_sales, 1u);
  EXPECT_EQ(g.Find(2, 1, 20'000).cell, nullptr);
  EXPECT_EQ(g.Find(-1, -2, 20'000).cell, nullptr);
  // More sale days under the same key: the slot moves on, the old cell stays readable.
  const sample::Cell* longer =
      g.Put(1, 2, 20'000, sample::CellPtr(sample::Cell::Make(0.5, 365, {&home, 1}, {&home, 1})));
  EXPECT_EQ(g.Find(1, 2, 20'000).cell, longer);
  EXPECT_EQ(g.Find(1, 2, 20'000).sale_days, 365);
  EXPECT_EQ(first->sale_days(), 90);
  EXPECT_FALSE(g.full());
  g.Put(-5, 7, 20'000, sample::CellPtr(sample::Cell::Make(0, 90, {}, {})));
  g.Put(-5, 8, 20'000, sample::CellPtr(sample::Cell::Make(0, 90, {}, {})));
  EXPECT_TRUE(g.full());  // four keys
  sample::CellPtr copy(sample::Cell::Copy(*longer));
  EXPECT_EQ(copy->sales().size(), 1u);
  EXPECT_EQ(copy->sales()[0].day, 20'000);
}

}  // namespace
}  // namespace dripr
