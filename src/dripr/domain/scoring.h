#pragma once
// One scorer for listings and sales (docs/reference/rentcast-api.md, "How dripr selects").

#include <optional>
#include <string>
#include <vector>

#include "dripr/core/clock.h"
#include "dripr/domain/types.h"

namespace dripr {

struct ScoringWeights {
  double distance_per_mile = 10;      // subtracted per mile from the subject
  double price_known_bonus = 20;      // price disclosed
  double price_missing_penalty = 20;  // price undisclosed
  double price_similarity = 30;       // times (1 - |price - value| / value), clamped at 0
  double same_zip_bonus = 15;
  double recency_per_day = 0.2;  // subtracted per day since listed / sold
};

struct ScoringContext {
  GeoPoint subject;
  std::string zip_code;
  std::optional<int64_t> subject_value;  // current value of the property, if known
  SysTime now{};
};

// Great-circle distance in miles.
double DistanceMiles(GeoPoint a, GeoPoint b);
// cos(latitude) as DistanceMiles computes it, for callers that measure many distances from
// one point: DistanceMilesCos(a, CosLat(a.lat), b, CosLat(b.lat)) has exactly the bits of
// DistanceMiles(a, b) (same operations in the same order, the cosines merely computed once).
double CosLat(double lat_degrees);
double DistanceMilesCos(GeoPoint a, double cos_a, GeoPoint b, double cos_b);
// A great-circle distance can only be larger than its chord: a cheap lower bound (no
// trigonometry per pair) for skipping points that are clearly far. `v` is the unit vector.
struct UnitVector {
  double x, y, z;
};
UnitVector ToUnitVector(GeoPoint p);
double ChordMiles(const UnitVector& a, const UnitVector& b);

// Score of one record (higher is better). Records without a location count as far away.
double Score(const PropertyRecord& r, const ScoringContext& ctx, const ScoringWeights& w);

// Ranks records best first (ties broken by source_id for determinism), keeps `limit`.
std::vector<RankedRecord> Rank(const std::vector<PropertyRecord>& records,
                               const ScoringContext& ctx, const ScoringWeights& w, size_t limit);

}  // namespace dripr
