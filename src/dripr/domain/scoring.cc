#include "dripr/domain/scoring.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <limits>
#include <numeric>

#include "dripr/core/log.h"

namespace dripr {
namespace {

constexpr double kEarthRadiusMiles = 3958.7613;  // mean radius (IUGG)
constexpr double kPi = 3.14159265358979323846;
double Radians(double degrees) { return degrees * kPi / 180; }
// A record without a usable location is scored as if it were this far away.
constexpr double kUnknownDistanceMiles = 50;
// A record without a usable date (and, for listings, without days on market) is scored as
// if it were this old: the end of the usual 90-day sales window.
constexpr double kUnknownAgeDays = 90;

bool Usable(const GeoPoint& p) {
  return std::isfinite(p.lat) && std::isfinite(p.lng) && std::abs(p.lat) <= 90 &&
         std::abs(p.lng) <= 180;
}
bool Usable(const std::optional<GeoPoint>& p) { return p && Usable(*p); }

// "YYYY-MM-DD", optionally followed by a time ("2026-11-01T00:00:00.000Z" from RentCast).
std::optional<SysTime> ParseDate(std::string_view s) {
  if (s.size() < 10 || s[4] != '-' || s[7] != '-') return std::nullopt;
  int v[3] = {0, 0, 0};
  const int starts[3] = {0, 5, 8}, widths[3] = {4, 2, 2};
  for (int f = 0; f < 3; ++f) {
    for (int i = 0; i < widths[f]; ++i) {
      char c = s[starts[f] + i];
      if (c < '0' || c > '9') return std::nullopt;
      v[f] = v[f] * 10 + (c - '0');
    }
  }
  std::chrono::year_month_day ymd{std::chrono::year{v[0]}, std::chrono::month(unsigned(v[1])),
                                  std::chrono::day(unsigned(v[2]))};
  if (!ymd.ok() || v[0] < 1900 || v[0] > 2200) return std::nullopt;
  return std::chrono::sys_days(ymd);
}

struct Breakdown {
  double miles = 0;  // kUnknownDistanceMiles when the location is unknown
  bool located = false;
  double distance = 0, price = 0, similarity = 0, zip = 0, recency = 0;
  double age_days = 0;
  double Total() const { return distance + price + similarity + zip + recency; }
};

Breakdown Compute(const PropertyRecord& r, const ScoringContext& ctx, const ScoringWeights& w) {
  Breakdown b;
  b.located = Usable(r.location) && Usable(ctx.subject);
  b.miles = b.located ? DistanceMiles(ctx.subject, *r.location) : kUnknownDistanceMiles;
  b.distance = -w.distance_per_mile * b.miles;

  const bool priced = r.price && *r.price > 0;
  b.price = priced ? w.price_known_bonus : -w.price_missing_penalty;
  if (priced && ctx.subject_value && *ctx.subject_value > 0) {
    double v = static_cast<double>(*ctx.subject_value);
    double closeness = 1 - std::abs(static_cast<double>(*r.price) - v) / v;
    b.similarity = w.price_similarity * std::max(0.0, closeness);
  }

  if (r.zip_code.size() >= 5 && ctx.zip_code.size() >= 5 &&
      r.zip_code.compare(0, 5, ctx.zip_code, 0, 5) == 0) {
    b.zip = w.same_zip_bonus;
  }

  if (auto date = ParseDate(r.event_date)) {
    // Whole calendar days (UTC): event dates carry no time of day, and a score that does not
    // drift during the day ranks the same candidates the same way in every run that day.
    using std::chrono::days;
    days age = std::chrono::floor<days>(ctx.now).time_since_epoch() -
               std::chrono::floor<days>(*date).time_since_epoch();
    b.age_days = static_cast<double>(age.count());
  } else if (r.days_on_market) {
    b.age_days = *r.days_on_market;
  } else {
    b.age_days = kUnknownAgeDays;
  }
  b.age_days = std::max(0.0, b.age_days);  // a date after `now` counts as today
  b.recency = -w.recency_per_day * b.age_days;
  return b;
}

// NaN (possible only with non-finite weights) sorts last instead of breaking the ordering.
double Sortable(double score) {
  return std::isnan(score) ? -std::numeric_limits<double>::infinity() : score;
}

}  // namespace

double CosLat(double lat_degrees) { return std::cos(Radians(lat_degrees)); }

double DistanceMilesCos(GeoPoint a, double cos_a, GeoPoint b, double cos_b) {
  double dlat = Radians(b.lat - a.lat);
  double dlng = Radians(b.lng - a.lng);
  double s_lat = std::sin(dlat / 2), s_lng = std::sin(dlng / 2);
  double h = s_lat * s_lat + cos_a * cos_b * s_lng * s_lng;
  h = std::clamp(h, 0.0, 1.0);  // rounding can push it a hair past 1 for antipodes
  return 2 * kEarthRadiusMiles * std::asin(std::sqrt(h));
}

double DistanceMiles(GeoPoint a, GeoPoint b) {
  return DistanceMilesCos(a, CosLat(a.lat), b, CosLat(b.lat));
}

UnitVector ToUnitVector(GeoPoint p) {
  double lat = Radians(p.lat), lng = Radians(p.lng);
  return {std::cos(lat) * std::cos(lng), std::cos(lat) * std::sin(lng), std::sin(lat)};
}

double ChordMiles(const UnitVector& a, const UnitVector& b) {
  double dx = a.x - b.x, dy = a.y - b.y, dz = a.z - b.z;
  return kEarthRadiusMiles * std::sqrt(dx * dx + dy * dy + dz * dz);
}

double Score(const PropertyRecord& r, const ScoringContext& ctx, const ScoringWeights& w) {
  return Compute(r, ctx, w).Total();
}

std::vector<RankedRecord> Rank(const std::vector<PropertyRecord>& records,
                               const ScoringContext& ctx, const ScoringWeights& w, size_t limit) {
  std::vector<Breakdown> parts;
  parts.reserve(records.size());
  for (const auto& r : records) parts.push_back(Compute(r, ctx, w));

  std::vector<size_t> order(records.size());
  std::iota(order.begin(), order.end(), size_t{0});
  std::sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    double sa = Sortable(parts[a].Total()), sb = Sortable(parts[b].Total());
    if (sa != sb) return sa > sb;
    if (records[a].source_id != records[b].source_id) {
      return records[a].source_id < records[b].source_id;
    }
    return a < b;  // identical ids: keep input order
  });
  if (order.size() > limit) order.resize(limit);

  std::vector<RankedRecord> out;
  out.reserve(order.size());
  for (size_t i = 0; i < order.size(); ++i) {
    const Breakdown& b = parts[order[i]];
    RankedRecord rr;
    rr.record = records[order[i]];
    rr.rank = static_cast<int>(i + 1);
    rr.score = b.Total();
    rr.distance_miles = b.located ? b.miles : -1;
    DRIPR_LOG_DEBUG(
        "[scoring] zip {} rank {} score {:.2f} id {}: {:.2f} mi ({:+.2f}), price {} ({:+.2f}, "
        "similarity {:+.2f}), same zip {:+.2f}, {:.0f} days old ({:+.2f})",
        ctx.zip_code, rr.rank, rr.score, rr.record.source_id, b.miles, b.distance,
        rr.record.price ? std::to_string(*rr.record.price) : "undisclosed", b.price, b.similarity,
        b.zip, b.age_days, b.recency);
    out.push_back(std::move(rr));
  }
  return out;
}

}  // namespace dripr
