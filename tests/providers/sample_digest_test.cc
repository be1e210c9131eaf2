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

TEST(SampleMixXorAll, EveryLaneHasMixsBits) {
  std::vector<uint64_t> in(8 * 40), vec(in.size()), scalar(in.size());
  for (size_t i = 0; i < in.size(); ++i) in[i] = sample::Mix(i) ^ (i << 60);
  for (uint64_t x : {0ULL, 0x9e3779b97f4a7c15ULL, ~0ULL, 0x4c49ULL}) {
    sample::MixXorAll(in.data(), x, vec.data(), in.size());
    sample::MixXorAllScalar(in.data(), x, scalar.data(), in.size());
    for (size_t i = 0; i < in.size(); ++i) {
      ASSERT_EQ(vec[i], sample::Mix(in[i] ^ x)) << i;
      ASSERT_EQ(scalar[i], vec[i]) << i;
    }
  }
  // In place, as MakeCell calls it.
  std::vector<uint64_t> same = in;
  sample::MixXorAll(same.data(), 7, same.data(), same.size());
  for (size_t i = 0; i < in.size(); ++i) ASSERT_EQ(same[i], sample::Mix(in[i] ^ 7));
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
