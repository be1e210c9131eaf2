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

// Score of one record (higher is better). Records without a location count as far away.
double Score(const PropertyRecord& r, const ScoringContext& ctx, const ScoringWeights& w);

// Ranks records best first (ties broken by source_id for determinism), keeps `limit`.
std::vector<RankedRecord> Rank(const std::vector<PropertyRecord>& records,
                               const ScoringContext& ctx, const ScoringWeights& w, size_t limit);

}  // namespace dripr
