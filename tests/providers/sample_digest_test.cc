// The sample provider answers the same bytes as before its second performance pass
// (docs/decisions/performance.md, "Sample provider, second pass"): a digest of every field of
// 3,120 searches and 167k records and markets (centres across the US and a few far-off places,
// radii 0.3-8 miles widening and narrowing, both kinds, sales windows 1-3650 days, four days, with
// and without the centroid table, sparse zips, bad input), pinned with main's code before the
// pass. Any change to what the provider returns changes the digest.
#include "providers/sample_digest.h"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

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

}  // namespace
}  // namespace dripr
