#include "dripr/providers/sample/sample_provider.h"

#include <algorithm>
#include <bit>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <tuple>
#include <utility>

#include "dripr/core/cpus.h"
#include "dripr/core/log.h"
#include "dripr/domain/event.h"
#include "dripr/domain/scoring.h"
#include "dripr/providers/sample/day_hashes.h"
#include "dripr/providers/sample/geography.h"

namespace dripr {
namespace {

using sample::CellHome;
using sample::Hash;
using sample::HashMore;
using sample::HashString;
using sample::Rng;
using sample::Unit;

constexpr double kCellDegrees = 0.02;
constexpr double kMaxAbsLatitude = 85;
constexpr double kMilesPerDegreeLat = 69.09;
constexpr double kEarthRadiusMiles = 3958.7613;  // DistanceMiles' (domain/scoring.cc)
constexpr double kRadiansPerDegree = 3.14159265358979323846 / 180;
// Listings stay on the market 7..120 days; on average 63.5 of the last 120 listing days'
// homes are still active, which turns a wanted density of active listings into a daily rate.
constexpr int kMinListingDays = 7;
constexpr int kMaxListingDays = 120;
constexpr double kMeanActiveDays = (kMinListingDays + kMaxListingDays) / 2.0;
constexpr double kUndisclosedSaleShare = 0.15;
// Salts keep the listing world and the sales world independent.
constexpr int64_t kListingSalt = 0x4c49;
constexpr int64_t kSaleSalt = 0x5341;

// Homes per square mile: active listings now, or sales in 90 days.
double Density(double urbanness) { return 0.2 + 9.0 * urbanness; }

double CellAreaSqMiles(double lat) {
  double side = kCellDegrees * kMilesPerDegreeLat;
  return side * side * std::max(0.01, std::cos(lat * 3.14159265358979 / 180));
}

// Poisson(lambda) from one uniform draw (inverse CDF; lambda is small here); p0 is
// exp(-lambda), computed once per cell by the caller.
int Poisson(double lambda, double p0, double u) {
  double p = p0, cdf = p;
  int k = 0;
  while (u > cdf && k < 64) {
    ++k;
    p *= lambda / k;
    cdf += p;
  }
  return k;
}

// "YYYY-MM-DD" (what "%04d-%02u-%02u" prints), without printf's cost for years 0..9999.
std::string DateOf(int64_t day) {
  std::chrono::year_month_day ymd{std::chrono::sys_days(std::chrono::days(day))};
  const int year = int(ymd.year());
  const unsigned month = unsigned(ymd.month()), mday = unsigned(ymd.day());
  if (year < 0 || year > 9999) {
    char buf[24];
    std::snprintf(buf, sizeof buf, "%04d-%02u-%02u", year, month, mday);
    return buf;
  }
  std::string s = "0000-00-00";
  for (int i = 3, y = year; i >= 0; --i, y /= 10) s[i] = char('0' + y % 10);
  s[5] = char('0' + month / 10);
  s[6] = char('0' + month % 10);
  s[8] = char('0' + mday / 10);
  s[9] = char('0' + mday % 10);
  return s;
}

void AppendInt(std::string& s, int64_t v) {
  char buf[24];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
  s.append(buf, end);
}

// "sample-L-<ci>_<cj>-<day>-<k>" (S for a sale): the home's identity.
std::string SourceId(bool listing, int64_t ci, int64_t cj, int64_t day, int k) {
  std::string id = listing ? "sample-L-" : "sample-S-";
  AppendInt(id, ci);
  id += '_';
  AppendInt(id, cj);
  id += '-';
  AppendInt(id, day);
  id += '-';
  AppendInt(id, k);
  return id;
}

int64_t DayOf(SysTime t) {
  return std::chrono::floor<std::chrono::days>(t).time_since_epoch().count();
}

// A home found by the geometric pass; details are generated only for the ones kept.
struct Candidate {
  int64_t ci, cj, day;
  int k;
  GeoPoint p;
  double miles;
  double urbanness;  // of its cell
  auto Key() const { return std::tie(miles, ci, cj, day, k); }
};

struct HomeShape {
  const char* type;
  int beds;
  double baths;
  int sqft;
  double price_factor;
};

HomeShape ShapeFor(Rng& rng, double u) {
  double condo = 0.05 + 0.45 * u, town = 0.07 + 0.10 * u, multi = 0.05 + 0.07 * u;
  double manufactured = 0.05 * (1 - u);
  double x = rng.Uniform();
  HomeShape s;
  if ((x -= condo) < 0) {
    s = {"Condo", rng.Int(1, 3), 1, 0, 0.9};
    s.baths = s.beds == 1 ? 1 : (rng.Uniform() < 0.5 ? 1.5 : 2);
    s.sqft = 400 + 350 * s.beds + rng.Int(-100, 250);
  } else if ((x -= town) < 0) {
    s = {"Townhouse", rng.Int(2, 4), 0, 0, 0.95};
    s.baths = s.beds - 0.5 + (rng.Uniform() < 0.4 ? 0.5 : 0);
    s.sqft = 500 + 380 * s.beds + rng.Int(-150, 300);
  } else if ((x -= multi) < 0) {
    s = {"Multi-Family", rng.Int(4, 8), 0, 0, 1.05};
    s.baths = s.beds / 2.0 + (rng.Uniform() < 0.5 ? 0 : 1);
    s.sqft = 500 + 330 * s.beds + rng.Int(-200, 400);
  } else if ((x -= manufactured) < 0) {
    s = {"Manufactured", rng.Int(2, 3), 0, 0, 0.45};
    s.baths = s.beds == 2 ? 1 : 2;
    s.sqft = 700 + 250 * s.beds + rng.Int(-100, 200);
  } else {
    s = {"Single Family", rng.Int(2, 5), 0, 0, 1.0};
    s.baths = std::max(1.0, s.beds - 1 + 0.5 * rng.Int(0, 2));
    s.sqft = 600 + 420 * s.beds + rng.Int(-250, 500);
  }
  return s;
}

int ResolveMaxSearches(int asked, int bound) {
  if (asked <= 0) asked = static_cast<int>(UsableCores()) - 1;
  return std::clamp(asked, 1, bound);
}

}  // namespace

SampleProvider::SampleProvider(const Clock& clock, SampleProviderOptions options, Ticker* ticker)
    : clock_(clock),
      options_(std::move(options)),
      ticker_(OrRealTicker(ticker)),
      max_searches_(ResolveMaxSearches(options_.max_concurrent_searches, kMaxSearchesBound)),
      searches_(max_searches_) {}

Result<std::vector<PropertyRecord>> SampleProvider::GatedSearch(const SearchArea& area, Kind kind,
                                                                int days) const {
  searches_.acquire();
  struct Release {
    const SampleProvider& p;
    ~Release() {
      p.running_searches_.fetch_sub(1);
      p.searches_.release();
    }
  } release{*this};
  const int now = running_searches_.fetch_add(1) + 1;
  int peak = peak_searches_.load();
  while (now > peak && !peak_searches_.compare_exchange_weak(peak, now)) {
  }
  return Search(area, kind, days);
}

void SampleProvider::Delay() const {
  if (options_.latency.count() > 0) ticker_.SleepFor(options_.latency);
}

bool SampleProvider::IsSparse(const std::string& zip) const {
  for (const auto& prefix : options_.sparse_zip_prefixes) {
    if (zip.compare(0, prefix.size(), prefix) == 0) return true;
  }
  return false;
}

Result<std::vector<PropertyRecord>> SampleProvider::ActiveListings(const SearchArea& area) {
  Delay();
  return GatedSearch(area, Kind::kListing, kMaxListingDays);
}

Result<std::vector<PropertyRecord>> SampleProvider::RecentSales(const SearchArea& area, int days) {
  Delay();
  if (days < 1 || days > kMaxSaleDays) {
    return Fail(ErrorCode::kInvalidArgument, "sample provider: days must be 1.." +
                                                 std::to_string(kMaxSaleDays) + ", got " +
                                                 std::to_string(days));
  }
  return GatedSearch(area, Kind::kSale, days);
}

Result<std::vector<PropertyRecord>> SampleProvider::Search(const SearchArea& area, Kind kind,
                                                           int window_days) const {
  const GeoPoint c = area.center;
  if (!std::isfinite(c.lat) || !std::isfinite(c.lng) || std::abs(c.lat) > 90 ||
      std::abs(c.lng) > 180) {
    return Fail(ErrorCode::kInvalidArgument, "sample provider: search centre is not on the globe");
  }
  const double r = area.radius_miles;
  if (!(r > 0 && r <= kMaxRadiusMiles)) {
    return Fail(ErrorCode::kInvalidArgument,
                "sample provider: radius must be in (0, 100] miles, got " + std::to_string(r));
  }
  // Nobody sells homes at the poles, and the cells there would be countless.
  if (std::abs(c.lat) > kMaxAbsLatitude) return std::vector<PropertyRecord>{};
  const bool listing = kind == Kind::kListing;
  const int64_t salt = listing ? kListingSalt : kSaleSalt;
  const int64_t today = DayOf(clock_.Now());

  // Geometric pass: every home of every cell near the circle, kept when inside it.
  const double dlat = r / kMilesPerDegreeLat;
  const double coslat = std::max(0.01, std::cos((std::abs(c.lat) + dlat) * 3.14159265358979 / 180));
  const double dlng = std::min(180.0, r / (kMilesPerDegreeLat * coslat));
  const auto i0 = static_cast<int64_t>(std::floor((c.lat - dlat) / kCellDegrees));
  const auto i1 = static_cast<int64_t>(std::floor((c.lat + dlat) / kCellDegrees));
  const auto j0 = static_cast<int64_t>(std::floor((c.lng - dlng) / kCellDegrees));
  const auto j1 = static_cast<int64_t>(std::floor((c.lng + dlng) / kCellDegrees));
  // A home is at most half the cell's diagonal from the cell's centre: 0.01 degree each way,
  // at most sqrt(2) * 0.691 = 0.977 miles (the haversine of these offsets is below their
  // flat diagonal); 1 mile leaves a margin for curvature and rounding. A cell farther than
  // r + cell_reach has no home within r.
  const double cell_reach = 1.0;
  // A row's cells within that reach form one run of columns: with the longitude difference
  // within 180 degrees (the box spans at most that), the haversine grows with it, so
  // d(centre) <= R is |dlng| <= 2 asin(sqrt((sin^2(R / 2E) - sin^2(dlat / 2)) / (cos cos'))),
  // solved once per row instead of a distance per cell. The run is widened by a billionth
  // (far above the rounding here) and R's mile of margin is 0.023 above the half diagonal,
  // so every cell that can hold a home within r is visited; visiting one more cell than
  // needed changes no output (its homes are filtered by their own distance below).
  const double cos_c = CosLat(c.lat);
  const double reach_s = std::sin((r + cell_reach) / (2 * kEarthRadiusMiles));
  const double reach_h = reach_s * reach_s;
  std::vector<NearCell> near;
  for (int64_t ci = i0; ci <= i1; ++ci) {
    const double row_lat = (ci + 0.5) * kCellDegrees;
    if (std::abs(row_lat) > 90) continue;
    const double s_lat = std::sin((row_lat - c.lat) * kRadiansPerDegree / 2);
    const double q = (reach_h - s_lat * s_lat) / (cos_c * CosLat(row_lat));
    if (q < -1e-9) continue;  // the row is beyond the reach
    int64_t lo = j0, hi = j1;
    if (q < 1) {
      const double half = 2 * std::asin(std::sqrt(std::max(q, 0.0))) / kRadiansPerDegree;
      const double slack = half * 1e-9 + 1e-9;
      lo = std::max(j0,
                    static_cast<int64_t>(std::ceil((c.lng - half - slack) / kCellDegrees - 0.5)));
      hi = std::min(j1,
                    static_cast<int64_t>(std::floor((c.lng + half + slack) / kCellDegrees - 0.5)));
    }
    for (int64_t cj = lo; cj <= hi; ++cj) near.push_back({ci, cj, {}});
  }
  // A listing search fills cells with the sales window last asked for too (both kinds come
  // from one pass over the days), so that the campaign's sales search finds them ready.
  if (!listing) sale_days_hint_.store(window_days, std::memory_order_relaxed);
  sample::CellLease lease;
  FindCells(near, today, listing ? 0 : window_days,
            listing ? sale_days_hint_.load(std::memory_order_relaxed) : window_days, lease);
  std::vector<Candidate> found;
  for (size_t i = 0; i < near.size(); ++i) {
    const NearCell& n = near[i];
    if (i + 4 < near.size()) __builtin_prefetch(near[i + 4].ref.cell);
    if ((listing ? n.ref.n_listings : n.ref.n_sales) == 0) continue;  // the cell is not read
    for (const CellHome& h : listing ? n.ref.cell->listings() : n.ref.cell->sales()) {
      if (!listing && today - h.day >= window_days) continue;  // older than the window
      // The great-circle distance is at least the latitude difference's arc: homes clearly
      // outside the circle skip the trigonometry (the margin covers rounding).
      if (std::abs(h.p.lat - c.lat) * kMilesPerDegreeLat > r * 1.001 + 1e-6) continue;
      double miles = DistanceMilesCos(c, cos_c, h.p, h.cos_lat);
      if (miles > r) continue;
      found.push_back({n.ci, n.cj, h.day, h.k, h.p, miles, n.ref.cell->urbanness()});
    }
  }
  std::sort(found.begin(), found.end(),
            [](const Candidate& a, const Candidate& b) { return a.Key() < b.Key(); });
  const size_t cap = IsSparse(area.zip_code) ? kSparseMaxResults : kMaxResults;
  if (found.size() > cap) found.resize(cap);

  // Details: a function of the home alone (never of the search), except the zip when no
  // centroid table is configured. A wider search around the same centre returns the narrower
  // one's homes first (same distances, same order), so their records are copied from it.
  const RecentKey key{c, listing, window_days, today, area.zip_code};
  auto recent = std::make_shared<Recent>();
  recent->key = key;
  std::vector<PropertyRecord>& out = recent->records;
  out.reserve(found.size());
  if (auto before = FindRecent(key)) {
    for (size_t i = 0; i < found.size() && i < before->ids.size(); ++i) {
      const Candidate& h = found[i];
      if (before->ids[i] != HomeId{h.ci, h.cj, h.day, h.k}) break;
      out.push_back(before->records[i]);
    }
  }
  for (const Candidate& h : found) recent->ids.push_back({h.ci, h.cj, h.day, h.k});
  for (size_t i = out.size(); i < found.size(); ++i) {
    const Candidate& h = found[i];
    Rng rng(Hash({h.ci, h.cj, h.day, h.k, salt, 2}));
    PropertyRecord rec;
    rec.source_id = SourceId(listing, h.ci, h.cj, h.day, h.k);
    rec.location = h.p;
    std::optional<std::string> zip;
    if (options_.zips) zip = options_.zips->Nearest(h.p);
    rec.zip_code = zip.value_or(area.zip_code);
    rec.address_line1 = sample::StreetAddress(rng);
    rec.city = sample::CityForZip(rec.zip_code);
    rec.state = sample::StateForZip(rec.zip_code);
    std::string& address = rec.formatted_address;  // "line1, city, state zip", one allocation
    address.reserve(rec.address_line1.size() + rec.city.size() + rec.state.size() +
                    rec.zip_code.size() + 5);
    address.append(rec.address_line1).append(", ").append(rec.city).append(", ");
    address.append(rec.state).append(" ").append(rec.zip_code);
    HomeShape s = ShapeFor(rng, h.urbanness);
    rec.property_type = s.type;
    rec.bedrooms = s.beds;
    rec.bathrooms = s.baths;
    rec.square_footage = s.sqft;
    const double size = s.sqft / sample::TypicalSquareFeet(h.urbanness);
    const double size_factor = std::pow(size, 0.85), luck = rng.Uniform(0.8, 1.25);
    // The price from the level, to the nearest $1,000 ($500 for a sale): a monotonic function
    // of the level (products of positive factors, a clamp, a rounding).
    const double step = listing ? 1000 : 500;
    auto price_at = [&](double level) {
      double price = level * size_factor * s.price_factor * luck;
      price = std::clamp(price, 50'000.0, 8'000'000.0);
      return static_cast<int64_t>(std::round(price / step) * step);
    };
    // The price level's bounds give one price but in about one home in a thousand, where only
    // the exact level tells (sample::PriceLevelRange). Undisclosed sales need neither.
    auto price = [&] {
      const sample::LevelRange range = sample::PriceLevelRange(h.p);
      const int64_t lo = price_at(range.lo);
      return lo == price_at(range.hi) ? lo : price_at(sample::PriceLevel(h.p));
    };
    rec.event_date = DateOf(h.day);
    if (listing) {
      rec.price = price();
      rec.days_on_market = static_cast<int>(today - h.day);
    } else if (rng.Uniform() >= kUndisclosedSaleShare) {
      rec.price = price();
    }
    out.push_back(std::move(rec));
  }
  DRIPR_LOG_DEBUG("[sample] {} {} within {:.1f} mi of ({:.4f},{:.4f}) zip {}", out.size(),
                  listing ? "listings" : "sales", r, c.lat, c.lng, area.zip_code);
  // Remembered for a wider search around the same centre: the handlers widen while fewer
  // than DRIPR_MIN_RESULTS (10 by default) came back. A larger answer is rarely widened, and
  // copying it for that would cost more than regenerating its records then; it is returned as
  // it is.
  if (out.size() > kRememberMaxRecords) return std::move(out);
  std::vector<PropertyRecord> result = out;
  Remember(std::move(recent));
  return result;
}

std::shared_ptr<const SampleProvider::Recent> SampleProvider::FindRecent(
    const RecentKey& key) const {
  std::lock_guard lock(recent_mu_);
  for (const auto& r : recent_) {
    if (r && r->key == key) return r;
  }
  return nullptr;
}

void SampleProvider::Remember(std::shared_ptr<const Recent> search) const {
  std::shared_ptr<const Recent> dropped;  // freed after the lock is released
  std::lock_guard lock(recent_mu_);
  for (auto& r : recent_) {
    if (r && r->key == search->key) {
      dropped = std::exchange(r, std::move(search));
      return;
    }
  }
  dropped = std::exchange(recent_[recent_next_], std::move(search));
  recent_next_ = (recent_next_ + 1) % recent_.size();
}

void SampleProvider::FindCells(std::vector<NearCell>& cells, int64_t today, int sale_days,
                               int make_sale_days, sample::CellLease& lease) const {
  std::vector<size_t> missing;
  std::vector<const sample::Cell*> stale;                        // cached with fewer sale days
  std::vector<std::shared_ptr<sample::CellGeneration>> dropped;  // freed after the lock
  // Makes room in the current generation: when it is full it becomes the previous one.
  auto room = [&] {
    if (cells_ && !cells_->full()) return;
    dropped.push_back(std::exchange(previous_cells_, std::move(cells_)));
    cells_ = std::make_shared<sample::CellGeneration>(kCellsPerGeneration);
    lease.Hold(cells_);
  };
  {
    std::lock_guard lock(cache_mu_);
    lease.Hold(cells_);
    lease.Hold(previous_cells_);
    constexpr size_t kAhead = 8;
    for (size_t i = 0; i < cells.size(); ++i) {
      NearCell& n = cells[i];
      if (cells_ && i + kAhead < cells.size()) {
        cells_->Prefetch(cells[i + kAhead].ci, cells[i + kAhead].cj, today);
      }
      sample::CellRef ref = cells_ ? cells_->Find(n.ci, n.cj, today) : sample::CellRef{};
      if (ref.cell == nullptr && previous_cells_) {
        ref = previous_cells_->Find(n.ci, n.cj, today);
        if (ref.cell != nullptr) {  // back into the current generation (a copy: it owns its cells)
          room();
          cells_->Put(n.ci, n.cj, today, sample::CellPtr(sample::Cell::Copy(*ref.cell)));
          ref = cells_->Find(n.ci, n.cj, today);
        }
      }
      if (ref.cell != nullptr && ref.sale_days >= sale_days) {
        n.ref = ref;
      } else {
        missing.push_back(i);
        stale.push_back(ref.cell);
      }
    }
  }
  if (missing.empty()) return;
  // Computed outside the lock: two threads may both compute a cell; both get the same homes.
  std::vector<sample::CellPtr> made;
  made.reserve(missing.size());
  for (size_t m = 0; m < missing.size(); ++m) {
    const NearCell& n = cells[missing[m]];
    made.push_back(MakeCell(n.ci, n.cj, today, std::max(sale_days, make_sale_days), stale[m]));
  }
  std::lock_guard lock(cache_mu_);
  for (size_t m = 0; m < missing.size(); ++m) {
    NearCell& n = cells[missing[m]];
    room();
    cells_->Put(n.ci, n.cj, today, std::move(made[m]));
    n.ref = cells_->Find(n.ci, n.cj, today);
  }
}

sample::CellPtr SampleProvider::MakeCell(int64_t ci, int64_t cj, int64_t today, int sale_days,
                                         const sample::Cell* had) {
  // The homes are gathered here, then copied into the cell's one allocation.
  thread_local std::vector<CellHome> listings, sales;
  listings.clear();
  sales.clear();
  const int cell_sale_days = std::max(sale_days, had ? had->sale_days() : 0);
  GeoPoint center{(ci + 0.5) * kCellDegrees, (cj + 0.5) * kCellDegrees};
  const bool with_listings = had == nullptr;
  const double urbanness = had ? had->urbanness() : sample::Urbanness(center);
  const double area = Density(urbanness) * CellAreaSqMiles(center.lat);
  const double listing_rate = area / kMeanActiveDays, sale_rate = area / 90.0;
  const double listing_p0 = std::exp(-listing_rate), sale_p0 = std::exp(-sale_rate);
  const uint64_t cell_hash = Hash({ci, cj});  // the common prefix of the hashes below
  // Most days of most cells have no home: Poisson() is 0 unless Unit(h) > p0, i.e. unless
  // h >> 11 exceeds p0 * 2^53 (exact: a power-of-two scaling) rounded down.
  const auto listing_none = static_cast<uint64_t>(listing_p0 * 0x1.0p53);
  const auto sale_none = static_cast<uint64_t>(sale_p0 * 0x1.0p53);
  // The homes of a day with some (rare in most cells): h is the day's draw for the kind.
  auto add_listings = [&](int age, int64_t day, uint64_t day_hash, uint64_t h) {
    const int n = Poisson(listing_rate, listing_p0, Unit(h));
    for (int k = 0; k < n; ++k) {
      Rng rng(HashMore(day_hash, {k, kListingSalt, 1}));
      if (age >= rng.Int(kMinListingDays, kMaxListingDays)) continue;  // sold
      GeoPoint p{(ci + rng.Uniform()) * kCellDegrees, (cj + rng.Uniform()) * kCellDegrees};
      listings.push_back({p, CosLat(p.lat), static_cast<int32_t>(day), k});
    }
  };
  auto add_sales = [&](int64_t day, uint64_t day_hash, uint64_t h) {
    const int n = Poisson(sale_rate, sale_p0, Unit(h));
    for (int k = 0; k < n; ++k) {
      Rng rng(HashMore(day_hash, {k, kSaleSalt, 1}));
      GeoPoint p{(ci + rng.Uniform()) * kCellDegrees, (cj + rng.Uniform()) * kCellDegrees};
      sales.push_back({p, CosLat(p.lat), static_cast<int32_t>(day), k});
    }
  };
  // Every day's hashes first, eight days at a time (sample/day_hashes.h, HashMore's bits):
  // the day's HashMore(cell_hash, {day}), then HashMore of that with each kind's salt, and
  // which days have homes. The days with homes are then taken in the same order as ever, so
  // the homes are too.
  const int listing_days = with_listings ? kMaxListingDays : 0;
  auto padded = [](int days) {
    return (static_cast<size_t>(days) + sample::kDayBatch - 1) / sample::kDayBatch *
           sample::kDayBatch;
  };
  const size_t days = padded(std::max(listing_days, cell_sale_days));
  thread_local std::vector<uint64_t> day_hashes, hashes, above;
  day_hashes.resize(days);
  hashes.resize(days);
  above.resize((days + 63) / 64);
  sample::DayHashes(cell_hash, today, days, day_hashes.data());
  // Calls add(age) for every age < n whose hash exceeds the kind's no-home threshold.
  auto each_day_with_homes = [&](int64_t salt, uint64_t none, int n, auto add) {
    sample::SaltedHashes(day_hashes.data(), salt, none, padded(n), hashes.data(), above.data());
    for (size_t w = 0; w * 64 < static_cast<size_t>(n); ++w) {
      for (uint64_t bits = above[w]; bits != 0; bits &= bits - 1) {
        const int age = static_cast<int>(w * 64) + std::countr_zero(bits);
        if (age < n) add(age);
      }
    }
  };
  each_day_with_homes(kListingSalt, listing_none, listing_days, [&](int age) {
    add_listings(age, today - age, day_hashes[age], hashes[age]);
  });
  each_day_with_homes(kSaleSalt, sale_none, cell_sale_days,
                      [&](int age) { add_sales(today - age, day_hashes[age], hashes[age]); });
  return sample::CellPtr(
      sample::Cell::Make(urbanness, cell_sale_days, had ? had->listings() : listings, sales));
}

Result<MarketData> SampleProvider::Market(const std::string& zip_in) {
  Delay();
  auto zip = NormalizeZip(zip_in);
  if (!zip) return Fail(zip.error().Wrap("sample provider: zip"));
  std::optional<GeoPoint> where;
  if (options_.zips) where = options_.zips->Find(*zip);
  if (!where) where = sample::MetroCenterForZip(*zip);
  const uint64_t zh = HashString(*zip);
  const double level = where ? sample::PriceLevel(*where) : 150'000 + 110'000 * Unit(zh);
  const double u = where ? sample::Urbanness(*where) : 0.05;

  const SysTime now = clock_.Now();
  std::chrono::year_month_day ymd{std::chrono::floor<std::chrono::days>(now)};
  const int month_index = int(ymd.year()) * 12 + int(unsigned(ymd.month())) - 1;

  // One month's statistics are a function of (zip, month) only, so the "previous" month of
  // today's answer equals the "current" month of the answer three months ago.
  auto month = [&](int idx) {
    const auto z = static_cast<int64_t>(zh);
    const int year = idx / 12, month0 = idx % 12;
    const double kTwoPi = 2 * 3.14159265358979;
    const double growth = 1.02 + 0.05 * Unit(Hash({z, 1}));  // yearly appreciation
    const double years = (idx - 2025 * 12) / 12.0;
    const double season = 1 + 0.025 * std::sin(kTwoPi * (month0 - 2) / 12.0);  // spring peak
    const double noise = 0.98 + 0.04 * Unit(Hash({z, idx, 2}));
    const double avg_price = level * std::pow(growth, years) * season * noise;
    const double avg_sqft = sample::TypicalSquareFeet(u) * (0.95 + 0.1 * Unit(Hash({z, 3})));
    const double dom = (22 + 55 * (1 - u)) * (1 + 0.15 * std::cos(kTwoPi * month0 / 12.0)) *
                       (0.9 + 0.2 * Unit(Hash({z, idx, 4})));
    const double listings = (12 + 110 * u) * (0.85 + 0.3 * Unit(Hash({z, idx, 5})));
    char name[16];
    std::snprintf(name, sizeof name, "%04d-%02d", year, month0 + 1);
    MarketMonth m;
    m.month = name;
    m.average_price = std::round(avg_price);
    m.average_price_per_sqft = std::round(avg_price / avg_sqft * 100) / 100;
    m.average_days_on_market = std::round(dom * 10) / 10;
    m.total_listings = std::max<int64_t>(3, std::llround(listings));
    return m;
  };
  MarketData d;
  d.zip_code = *zip;
  d.current = month(month_index);
  d.previous = month(month_index - 3);
  d.created_at = now;
  return d;
}

}  // namespace dripr
