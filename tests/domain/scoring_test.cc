#include "dripr/domain/scoring.h"

#include <gtest/gtest.h>

#include <cmath>

#include "dripr/core/time.h"

namespace dripr {
namespace {

const GeoPoint kCambridge{42.3736, -71.1097};  // 02139
const SysTime kNow = *ParseIso8601("2026-11-29T12:00:00Z");

ScoringContext Ctx(std::optional<int64_t> value = 800'000) {
  return ScoringContext{kCambridge, "02139", value, kNow};
}

// A record `miles` due north of the subject (1 degree of latitude ≈ 69.09 miles).
PropertyRecord Rec(std::string id, double miles, std::optional<int64_t> price,
                   std::string zip = "02139", std::string date = "2026-11-29") {
  PropertyRecord r;
  r.source_id = std::move(id);
  r.zip_code = std::move(zip);
  r.location = GeoPoint{kCambridge.lat + miles / 69.0933, kCambridge.lng};
  r.price = price;
  r.event_date = std::move(date);
  return r;
}

TEST(DistanceMiles, MatchesKnownDistances) {
  // Exact on a sphere: a quarter of a great circle.
  const double quarter = 3958.7613 * 3.14159265358979 / 2;
  EXPECT_NEAR(DistanceMiles({0, 0}, {0, 90}), quarter, 0.01);
  EXPECT_NEAR(DistanceMiles({0, 0}, {90, 0}), quarter, 0.01);
  EXPECT_NEAR(DistanceMiles({45, -100}, {-45, 80}), 2 * quarter, 0.01);  // antipodes
  // JFK to LAX is 2475 miles on the ellipsoid; a sphere is within 0.5%.
  EXPECT_NEAR(DistanceMiles({40.6413, -73.7781}, {33.9416, -118.4085}), 2475, 12);
  EXPECT_DOUBLE_EQ(DistanceMiles({1, 2}, {3, 4}), DistanceMiles({3, 4}, {1, 2}));
  EXPECT_DOUBLE_EQ(DistanceMiles(kCambridge, kCambridge), 0);
  EXPECT_NEAR(DistanceMiles({0, 0}, {1, 0}), 69.09, 0.01);
  EXPECT_NEAR(DistanceMiles({0, 0}, {0, 180}), 3958.7613 * 3.14159265358979, 0.01);
}

// The sample provider relies on both: same bits with cosines computed once, and a chord
// that is never longer than the arc.
TEST(DistanceMiles, WithCosinesGivenIsBitIdenticalAndTheChordIsALowerBound) {
  int checked = 0;
  for (double lat = -89.5; lat < 90; lat += 7.3) {
    for (double lng = -179.9; lng < 180; lng += 11.7) {
      const GeoPoint a{lat, lng}, b{lat * 0.93 + 0.31, lng * 1.01 - 0.77};
      const double d = DistanceMiles(a, b);
      ASSERT_EQ(DistanceMilesCos(a, CosLat(a.lat), b, CosLat(b.lat)), d) << lat << "," << lng;
      ASSERT_LE(ChordMiles(ToUnitVector(a), ToUnitVector(b)), d * (1 + 1e-12) + 1e-9);
      ++checked;
    }
  }
  EXPECT_GT(checked, 700);
}

TEST(Score, AddsEveryTermAsDocumented) {
  ScoringWeights w;
  // 1 mile, price equal to the value, same zip, 10 whole days old (10.5 days ago).
  PropertyRecord r = Rec("a", 1.0, 800'000, "02139", "2026-11-19");
  EXPECT_NEAR(Score(r, Ctx(), w), -10 + 20 + 30 + 15 - 2.0, 0.01);
  // Price 25% above the value: similarity 0.75.
  r.price = 1'000'000;
  EXPECT_NEAR(Score(r, Ctx(), w), -10 + 20 + 22.5 + 15 - 2.0, 0.01);
  // More than double the value: similarity clamps at 0.
  r.price = 2'000'000;
  EXPECT_NEAR(Score(r, Ctx(), w), -10 + 20 + 0 + 15 - 2.0, 0.01);
  // Undisclosed: penalty, no similarity.
  r.price.reset();
  EXPECT_NEAR(Score(r, Ctx(), w), -10 - 20 + 15 - 2.0, 0.01);
  // Known price but no subject value: bonus only.
  r.price = 800'000;
  EXPECT_NEAR(Score(r, Ctx(std::nullopt), w), -10 + 20 + 15 - 2.0, 0.01);
  // Other zip; ZIP+4 in the record still matches.
  r.zip_code = "02140";
  EXPECT_NEAR(Score(r, Ctx(), w), -10 + 20 + 30 - 2.0, 0.01);
  r.zip_code = "02139-4307";
  EXPECT_NEAR(Score(r, Ctx(), w), -10 + 20 + 30 + 15 - 2.0, 0.01);
}

TEST(Score, RecencyFromDateThenDaysOnMarketThenAssumedOld) {
  ScoringWeights w;
  w.distance_per_mile = w.price_known_bonus = w.price_similarity = w.same_zip_bonus = 0;
  w.recency_per_day = 1;
  PropertyRecord r = Rec("a", 0, 1, "02139", "2026-10-30");
  // 30 days and 12 hours: whole calendar days count, so the score is the same all day long.
  EXPECT_NEAR(Score(r, Ctx(), w), -30, 1e-9);
  r.event_date = "2026-10-30T00:00:00.000Z";  // RentCast's form
  EXPECT_NEAR(Score(r, Ctx(), w), -30, 1e-9);
  r.event_date = "";
  r.days_on_market = 12;
  EXPECT_NEAR(Score(r, Ctx(), w), -12, 1e-9);
  r.days_on_market.reset();
  EXPECT_NEAR(Score(r, Ctx(), w), -90, 1e-9);
  r.event_date = "2026-13-45";  // unparseable counts as unknown
  EXPECT_NEAR(Score(r, Ctx(), w), -90, 1e-9);
  r.event_date = "2026-12-25";  // future dates count as today
  EXPECT_NEAR(Score(r, Ctx(), w), 0, 1e-9);
}

TEST(Score, UnknownOrBrokenLocationCountsAsFarAway) {
  ScoringWeights w;
  PropertyRecord near = Rec("near", 3, std::nullopt);
  PropertyRecord nowhere = Rec("nowhere", 0, std::nullopt);
  nowhere.location.reset();
  PropertyRecord nan = Rec("nan", 0, std::nullopt);
  nan.location->lat = std::nan("");
  EXPECT_GT(Score(near, Ctx(), w), Score(nowhere, Ctx(), w));
  EXPECT_DOUBLE_EQ(Score(nowhere, Ctx(), w), Score(nan, Ctx(), w));
  EXPECT_NEAR(Score(nowhere, Ctx(), w) - Score(Rec("z", 0, std::nullopt), Ctx(), w), -500, 0.01);
}

TEST(Rank, PricedCloseSameZipRecentOutranksFarUnpriced) {
  std::vector<PropertyRecord> records = {
      Rec("far-unpriced", 6.0, std::nullopt, "02144", "2026-09-10"),
      Rec("good", 0.4, 790'000, "02139", "2026-11-20"),
  };
  auto ranked = Rank(records, Ctx(), ScoringWeights{}, 10);
  ASSERT_EQ(ranked.size(), 2u);
  EXPECT_EQ(ranked[0].record.source_id, "good");
  EXPECT_EQ(ranked[0].rank, 1);
  EXPECT_EQ(ranked[1].record.source_id, "far-unpriced");
  EXPECT_EQ(ranked[1].rank, 2);
  EXPECT_GT(ranked[0].score, ranked[1].score);
  EXPECT_NEAR(ranked[0].distance_miles, 0.4, 0.01);
  EXPECT_NEAR(ranked[1].distance_miles, 6.0, 0.01);
  EXPECT_DOUBLE_EQ(ranked[0].score, Score(records[1], Ctx(), ScoringWeights{}));
}

TEST(Rank, EachFactorAloneDecidesWhenOthersAreEqual) {
  auto first = [](std::vector<PropertyRecord> rs) {
    return Rank(rs, Ctx(), ScoringWeights{}, 10).front().record.source_id;
  };
  EXPECT_EQ(first({Rec("b-far", 2, 800'000), Rec("a-close", 1, 800'000)}), "a-close");
  EXPECT_EQ(first({Rec("a-unpriced", 1, std::nullopt), Rec("b-priced", 1, 800'000)}), "b-priced");
  EXPECT_EQ(first({Rec("a-pricey", 1, 1'500'000), Rec("b-similar", 1, 820'000)}), "b-similar");
  EXPECT_EQ(first({Rec("a-other", 1, 800'000, "02140"), Rec("b-same", 1, 800'000)}), "b-same");
  EXPECT_EQ(first({Rec("a-old", 1, 800'000, "02139", "2026-09-01"), Rec("b-new", 1, 800'000)}),
            "b-new");
}

TEST(Rank, BreaksTiesBySourceIdAndKeepsLimit) {
  std::vector<PropertyRecord> records;
  for (const char* id : {"d", "b", "e", "a", "c"}) records.push_back(Rec(id, 1, 500'000));
  auto ranked = Rank(records, Ctx(), ScoringWeights{}, 3);
  ASSERT_EQ(ranked.size(), 3u);
  EXPECT_EQ(ranked[0].record.source_id, "a");
  EXPECT_EQ(ranked[1].record.source_id, "b");
  EXPECT_EQ(ranked[2].record.source_id, "c");
  for (int i = 0; i < 3; ++i) EXPECT_EQ(ranked[i].rank, i + 1);
  EXPECT_TRUE(Rank(records, Ctx(), ScoringWeights{}, 0).empty());
  EXPECT_TRUE(Rank({}, Ctx(), ScoringWeights{}, 10).empty());
}

TEST(Rank, MarksUnknownDistanceAndSurvivesNanWeights) {
  PropertyRecord nowhere = Rec("x", 0, 1);
  nowhere.location.reset();
  auto ranked = Rank({nowhere}, Ctx(), ScoringWeights{}, 10);
  ASSERT_EQ(ranked.size(), 1u);
  EXPECT_EQ(ranked[0].distance_miles, -1);

  ScoringWeights nan_weights;
  nan_weights.distance_per_mile = std::nan("");
  std::vector<PropertyRecord> many;
  for (int i = 0; i < 100; ++i) many.push_back(Rec("r" + std::to_string(i), i * 0.1, 1));
  EXPECT_EQ(Rank(many, Ctx(), nan_weights, 100).size(), 100u);
}

}  // namespace
}  // namespace dripr
