#include "dripr/providers/sample/geography.h"

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <limits>
#include <optional>

#include "dripr/domain/scoring.h"

namespace dripr::sample {
namespace {

struct Metro {
  const char* city;
  const char* prefix;  // main 3-digit zip prefix of the city itself ("" = none)
  double lat, lng;
  double price;        // typical home value near the centre
  double scale_miles;  // how far the dense urban area reaches
};

// Rough public figures (typical home values, 2024-2025), rounded; plausibility, not data.
constexpr std::array<Metro, 31> kMetros = {{
    {"New York", "100", 40.7128, -74.0060, 900'000, 20},
    {"Los Angeles", "900", 34.0522, -118.2437, 950'000, 25},
    {"Chicago", "606", 41.8781, -87.6298, 340'000, 18},
    {"Houston", "770", 29.7604, -95.3698, 320'000, 20},
    {"Phoenix", "850", 33.4484, -112.0740, 440'000, 18},
    {"Philadelphia", "191", 39.9526, -75.1652, 300'000, 14},
    {"San Antonio", "782", 29.4241, -98.4936, 280'000, 14},
    {"San Diego", "921", 32.7157, -117.1611, 950'000, 15},
    {"Dallas", "752", 32.7767, -96.7970, 400'000, 20},
    {"San Jose", "951", 37.3382, -121.8863, 1'500'000, 12},
    {"Austin", "787", 30.2672, -97.7431, 550'000, 14},
    {"San Francisco", "941", 37.7749, -122.4194, 1'400'000, 15},
    {"Seattle", "981", 47.6062, -122.3321, 850'000, 15},
    {"Denver", "802", 39.7392, -104.9903, 600'000, 15},
    {"Washington", "200", 38.9072, -77.0369, 700'000, 15},
    {"Boston", "021", 42.3601, -71.0589, 850'000, 14},
    {"Nashville", "372", 36.1627, -86.7816, 450'000, 12},
    {"Portland", "972", 45.5152, -122.6784, 550'000, 12},
    {"Las Vegas", "891", 36.1699, -115.1398, 420'000, 12},
    {"Detroit", "482", 42.3314, -83.0458, 230'000, 15},
    {"Atlanta", "303", 33.7490, -84.3880, 400'000, 18},
    {"Miami", "331", 25.7617, -80.1918, 600'000, 15},
    {"Minneapolis", "554", 44.9778, -93.2650, 340'000, 14},
    {"Charlotte", "282", 35.2271, -80.8431, 390'000, 12},
    {"Orlando", "328", 28.5383, -81.3792, 400'000, 12},
    {"Tampa", "336", 27.9506, -82.4572, 400'000, 12},
    {"St. Louis", "631", 38.6270, -90.1994, 240'000, 12},
    {"Baltimore", "212", 39.2904, -76.6122, 320'000, 10},
    {"Salt Lake City", "841", 40.7608, -111.8910, 550'000, 10},
    {"Honolulu", "968", 21.3069, -157.8583, 1'000'000, 8},
    {"Cambridge", "", 42.3736, -71.1097, 1'000'000, 4},  // pricier than Boston's average
}};

constexpr double kTownCellDegrees = 0.25;

// Bit-exact shortcuts (the output must not change; see docs/decisions/performance.md).
// Urbanness: exp(-d^2 / (2 s^2)) is exactly 0 once d^2 / (2 s^2) > ~745.2, i.e. d > 38.61 s;
// the chord is a lower bound of d, and 39.5 leaves a wide margin for rounding.
constexpr double kUrbanReach = 39.5;
// PriceLevel: the pull (price - level) * exp(-d / (2.5 s)) is below 2.5e6 * exp(-44) ~ 2e-13
// once d > 110 s, under half an ulp of any level >= 150k (the country floor; 1.5e-11), so
// level + pull == level.
constexpr double kPriceReach = 110;

// PriceLevelRange leaves out the metros whose pull is surely below this many dollars.
constexpr double kNegligiblePull = 1e-3;
// The country floor of PriceLevel's `level`, which its metro loop only raises.
constexpr double kCountryFloor = 150'000;

// What every distance to a metro needs of it, computed once per process.
struct MetroGeometry {
  double cos_lat;
  UnitVector v;
  // Beyond this chord its pull on any level (>= the country floor) is below kNegligiblePull:
  // (price - floor) * exp(-chord / (2.5 s)) < kNegligiblePull, with a margin far above the
  // rounding of log, exp and the chord (which is at most the distance).
  double negligible_reach;
};

const std::array<MetroGeometry, kMetros.size()>& Geometry() {
  static const std::array<MetroGeometry, kMetros.size()> geometry = [] {
    std::array<MetroGeometry, kMetros.size()> g{};
    for (size_t i = 0; i < kMetros.size(); ++i) {
      GeoPoint c{kMetros[i].lat, kMetros[i].lng};
      const double pull = kMetros[i].price - kCountryFloor;
      g[i] = {CosLat(c.lat), ToUnitVector(c),
              2.5 * kMetros[i].scale_miles * std::log(pull / kNegligiblePull) * (1 + 1e-6)};
    }
    return g;
  }();
  return geometry;
}

// Prefix ranges (inclusive) → state, from the USPS 3-digit assignments, simplified.
struct StateRange {
  int lo, hi;
  const char* state;
};
constexpr StateRange kStates[] = {
    {5, 5, "NY"},     {6, 7, "PR"},     {8, 8, "VI"},     {9, 9, "PR"},     {10, 27, "MA"},
    {28, 29, "RI"},   {30, 38, "NH"},   {39, 49, "ME"},   {50, 54, "VT"},   {55, 55, "MA"},
    {56, 59, "VT"},   {60, 69, "CT"},   {70, 89, "NJ"},   {90, 99, "AE"},   {100, 149, "NY"},
    {150, 196, "PA"}, {197, 199, "DE"}, {200, 200, "DC"}, {201, 201, "VA"}, {202, 205, "DC"},
    {206, 219, "MD"}, {220, 246, "VA"}, {247, 268, "WV"}, {270, 289, "NC"}, {290, 299, "SC"},
    {300, 319, "GA"}, {320, 339, "FL"}, {340, 340, "AA"}, {341, 349, "FL"}, {350, 369, "AL"},
    {370, 385, "TN"}, {386, 397, "MS"}, {398, 399, "GA"}, {400, 427, "KY"}, {430, 459, "OH"},
    {460, 479, "IN"}, {480, 499, "MI"}, {500, 528, "IA"}, {530, 549, "WI"}, {550, 567, "MN"},
    {569, 569, "DC"}, {570, 577, "SD"}, {580, 588, "ND"}, {590, 599, "MT"}, {600, 629, "IL"},
    {630, 658, "MO"}, {660, 679, "KS"}, {680, 693, "NE"}, {700, 714, "LA"}, {716, 729, "AR"},
    {730, 732, "OK"}, {733, 733, "TX"}, {734, 749, "OK"}, {750, 799, "TX"}, {800, 816, "CO"},
    {820, 831, "WY"}, {832, 838, "ID"}, {840, 847, "UT"}, {850, 865, "AZ"}, {870, 884, "NM"},
    {885, 885, "TX"}, {889, 898, "NV"}, {900, 961, "CA"}, {962, 966, "AP"}, {967, 968, "HI"},
    {969, 969, "GU"}, {970, 979, "OR"}, {980, 994, "WA"}, {995, 999, "AK"},
};

constexpr const char* kTowns[] = {
    "Springfield", "Franklin",   "Greenville", "Clinton",   "Fairview",     "Salem",
    "Madison",     "Georgetown", "Arlington",  "Ashland",   "Burlington",   "Manchester",
    "Milton",      "Newport",    "Oxford",     "Riverside", "Centerville",  "Dover",
    "Hudson",      "Kingston",   "Marion",     "Lebanon",   "Auburn",       "Jackson",
    "Bristol",     "Clayton",    "Dayton",     "Lexington", "Mount Vernon", "Winchester",
    "Chester",     "Hanover",    "Lancaster",  "Monroe",    "Plymouth",     "Troy",
};

constexpr const char* kStreets[] = {
    "Maple",  "Oak",     "Pine",      "Cedar",    "Elm",     "Washington", "Lake",     "Hill",
    "Park",   "Main",    "Church",    "High",     "Walnut",  "Chestnut",   "Spring",   "Highland",
    "Sunset", "Lincoln", "Jefferson", "Franklin", "Meadow",  "Forest",     "River",    "Willow",
    "Ridge",  "Center",  "Prospect",  "Adams",    "Madison", "Mill",       "Summit",   "Valley",
    "Cherry", "Birch",   "Hawthorne", "Orchard",  "Spruce",  "Woodland",   "Magnolia", "Dogwood",
};
constexpr const char* kSuffixes[] = {"St", "Ave", "Rd", "Dr",   "Ln",
                                     "Ct", "Way", "Pl", "Blvd", "Ter"};

int PrefixNumber(std::string_view zip) {
  if (zip.size() < 3) return -1;
  int v = 0;
  for (int i = 0; i < 3; ++i) {
    if (zip[i] < '0' || zip[i] > '9') return -1;
    v = v * 10 + (zip[i] - '0');
  }
  return v;
}

// Small towns: a few 0.25-degree cells get a modest urban core at their centre.
double TownUrbanness(GeoPoint p) {
  int64_t ci = static_cast<int64_t>(std::floor(p.lat / kTownCellDegrees));
  int64_t cj = static_cast<int64_t>(std::floor(p.lng / kTownCellDegrees));
  double strength = Unit(Hash({ci, cj, 7001}));
  if (strength < 0.7) return 0;  // most cells have no town
  GeoPoint center{(ci + 0.5) * kTownCellDegrees, (cj + 0.5) * kTownCellDegrees};
  double d = DistanceMiles(p, center);
  return 0.35 * (strength - 0.7) / 0.3 * std::exp(-(d * d) / (2.5 * 2.5));
}

}  // namespace

uint64_t HashString(std::string_view s) {
  uint64_t h = 0xcbf29ce484222325ULL;  // FNV-1a, then mixed
  for (unsigned char c : s) h = (h ^ c) * 0x100000001b3ULL;
  return Mix(h);
}

double Urbanness(GeoPoint p) {
  const std::array<MetroGeometry, kMetros.size()>& metros = Geometry();
  const double cos_p = CosLat(p.lat);
  const UnitVector v = ToUnitVector(p);
  double u = TownUrbanness(p);  // >= 0, so max(u, 0) is u
  // u is the max of the metros' terms exp(-d^2 / (2 s^2)), whatever their order. The chord is
  // at most d, so chord^2 / (2 s^2) bounds each exponent from below: taking the metros by
  // that bound, once it exceeds -log(u) (plus a margin far above the rounding of exp, log and
  // the distances) no remaining term can reach u, and the max is final.
  struct Near {
    double x_lb;
    size_t i;
  };
  std::array<Near, kMetros.size()> near;
  size_t n = 0;
  for (size_t i = 0; i < kMetros.size(); ++i) {
    const Metro& m = kMetros[i];
    const double chord = ChordMiles(v, metros[i].v);
    // exp(-x) is exactly 0 beyond x ~ 745: skip metros whose term would be 0.
    if (chord > kUrbanReach * m.scale_miles) continue;
    near[n++] = {chord * chord / (2 * m.scale_miles * m.scale_miles), i};
  }
  std::sort(near.begin(), near.begin() + n,
            [](const Near& a, const Near& b) { return a.x_lb < b.x_lb; });
  double neg_log_u = u > 0 ? -std::log(u) : std::numeric_limits<double>::infinity();
  for (size_t k = 0; k < n; ++k) {
    if (near[k].x_lb > neg_log_u + 1e-6) break;
    const Metro& m = kMetros[near[k].i];
    double d = DistanceMilesCos(p, cos_p, {m.lat, m.lng}, metros[near[k].i].cos_lat);
    const double term = std::exp(-(d * d) / (2 * m.scale_miles * m.scale_miles));
    if (term > u) {
      u = term;
      neg_log_u = -std::log(u);
    }
  }
  return std::clamp(u, 0.0, 1.0);
}

namespace {

// PriceLevel with `negligible` 0; else the metros farther than their negligible reach are left
// out, and `*left_out` counts them.
double PriceLevelImpl(GeoPoint p, bool negligible, int* left_out) {
  // Country level varies by region (1-degree cells) between ~150k and ~260k.
  int64_t ri = static_cast<int64_t>(std::floor(p.lat));
  int64_t rj = static_cast<int64_t>(std::floor(p.lng));
  double level = kCountryFloor + 110'000 * Unit(Hash({ri, rj, 7002}));
  // Metros pull prices up (or down) over a wider area than their dense core.
  const std::array<MetroGeometry, kMetros.size()>& metros = Geometry();
  const double cos_p = CosLat(p.lat);
  const UnitVector v = ToUnitVector(p);
  for (size_t i = 0; i < kMetros.size(); ++i) {
    const Metro& m = kMetros[i];
    // No pull up from a cheaper metro (the max keeps `level`), nor from one so far that its
    // pull is below half an ulp of `level` (level + pull rounds back to level).
    if (m.price <= level) continue;
    const double chord = ChordMiles(v, metros[i].v);
    if (chord > kPriceReach * m.scale_miles) continue;
    if (negligible && chord > metros[i].negligible_reach) {
      ++*left_out;
      continue;
    }
    double d = DistanceMilesCos(p, cos_p, {m.lat, m.lng}, metros[i].cos_lat);
    double w = std::exp(-d / (2.5 * m.scale_miles));
    level = std::max(level, level + (m.price - level) * w);
  }
  // Neighbourhoods (0.05-degree cells) differ by -15% .. +20%.
  int64_t ni = static_cast<int64_t>(std::floor(p.lat / 0.05));
  int64_t nj = static_cast<int64_t>(std::floor(p.lng / 0.05));
  level *= 0.85 + 0.35 * Unit(Hash({ni, nj, 7003}));
  return std::clamp(level, 120'000.0, 2'500'000.0);
}

}  // namespace

double PriceLevel(GeoPoint p) { return PriceLevelImpl(p, false, nullptr); }

LevelRange PriceLevelRange(GeoPoint p) {
  int left_out = 0;
  const double level = PriceLevelImpl(p, true, &left_out);
  if (left_out == 0) return {level, level};
  // Each step of the metro loop, level' = max(level, level + (price - level) w), moves by at
  // most as much as `level` moved before it (plus a few ulps of rounding: 1-Lipschitz), so
  // leaving a metro out moves the loop's result by at most its pull (< kNegligiblePull) plus
  // rounding, and the whole loop by the sum: left_out * kNegligiblePull + 31 * 4 ulps of at
  // most 2.5M (1.2e-7). Doubled, then times the neighbourhood factor (< 1.2); the final
  // multiply and clamp are monotonic, so the exact value lies between these bounds.
  const double k = 2 * (left_out * kNegligiblePull + 1e-6) * 1.2;
  return {level - k, level + k};
}

double TypicalSquareFeet(double urbanness) { return 1950 - 750 * urbanness; }

std::optional<GeoPoint> MetroCenterForZip(std::string_view zip) {
  for (const Metro& m : kMetros) {
    if (zip.size() >= 3 && zip.substr(0, 3) == m.prefix) return GeoPoint{m.lat, m.lng};
  }
  return std::nullopt;
}

std::string StateForZip(std::string_view zip) {
  int n = PrefixNumber(zip);
  for (const StateRange& r : kStates) {
    if (n >= r.lo && n <= r.hi) return r.state;
  }
  return "";
}

std::string CityForZip(std::string_view zip) {
  for (const Metro& m : kMetros) {
    if (zip.size() >= 3 && zip.substr(0, 3) == m.prefix) return m.city;
  }
  return kTowns[HashString(zip) % std::size(kTowns)];
}

std::string StreetAddress(Rng& rng) {
  int number = rng.Uniform() < 0.7 ? rng.Int(1, 999) : rng.Int(1000, 9999);
  std::string_view street = kStreets[rng.Next() % std::size(kStreets)];
  std::string_view suffix = kSuffixes[rng.Next() % std::size(kSuffixes)];
  char digits[8];
  auto [end, ec] = std::to_chars(digits, digits + sizeof digits, number);
  std::string line;  // what to_string(number) + " " + street + " " + suffix gave
  line.reserve(static_cast<size_t>(end - digits) + street.size() + suffix.size() + 2);
  line.append(digits, end).append(" ").append(street).append(" ").append(suffix);
  return line;
}

}  // namespace dripr::sample
