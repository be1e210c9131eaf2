#include "support/fake_rentcast_data.h"

#include <fmt/format.h>

#include <array>
#include <chrono>
#include <cmath>
#include <fstream>
#include <sstream>

namespace dripr::fake {
namespace {

using nlohmann::json;

constexpr double kCell = 0.01;    // degrees per grid cell
constexpr double kRegion = 0.25;  // degrees per density region
constexpr double kMilesPerDegLat = 69.0;
constexpr int kSaleHistoryDays = 180;  // sales are generated over the last 180 days
constexpr double kPi = 3.14159265358979323846;

uint64_t Mix(uint64_t x) {  // splitmix64 finaliser
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

template <class... T>
uint64_t Hash(uint64_t seed, T... parts) {
  uint64_t h = Mix(seed);
  ((h = Mix(h ^ static_cast<uint64_t>(parts))), ...);
  return h;
}

// A tiny deterministic stream of numbers from one hash.
class Rng {
 public:
  explicit Rng(uint64_t h) : s_(h) {}
  uint64_t Next() { return s_ = Mix(s_); }
  double Unit() { return static_cast<double>(Next() >> 11) * 0x1.0p-53; }
  int Range(int lo, int hi) {
    return lo + static_cast<int>(Next() % static_cast<uint64_t>(hi - lo + 1));
  }

 private:
  uint64_t s_;
};

int64_t Floor(double v, double step) { return static_cast<int64_t>(std::floor(v / step)); }

constexpr std::array<double, 4> kListingDensity = {0.5, 4, 15, 40};
constexpr std::array<double, 4> kSaleDensity90 = {0.8, 6, 20, 50};
constexpr std::array<const char*, 24> kStreets = {
    "Oak",      "Maple",    "Cedar",    "Pine",    "Elm",   "Willow",    "Hargis", "Grand Lake",
    "Lakeview", "Sunset",   "Highland", "Meadow",  "River", "Hillcrest", "Park",   "Chestnut",
    "Walnut",   "Magnolia", "Spruce",   "Juniper", "Aspen", "Birch",     "Laurel", "Sycamore"};
constexpr std::array<const char*, 8> kSuffixes = {"St", "Ave", "Dr",  "Ln",
                                                  "Ct", "Rd",  "Way", "Blvd"};
constexpr std::array<const char*, 16> kCities = {
    "Springfield", "Riverton",   "Fairview", "Georgetown", "Franklin", "Clinton",
    "Greenville",  "Madison",    "Salem",    "Ashland",    "Milton",   "Oxford",
    "Arlington",   "Burlington", "Dayton",   "Lexington"};
constexpr std::array<const char*, 12> kStates = {"TX", "CA", "FL", "GA", "NC", "OH",
                                                 "SC", "TN", "AZ", "CO", "WA", "VA"};

std::string DateString(int days_since_epoch) {
  std::chrono::year_month_day ymd{std::chrono::sys_days{std::chrono::days{days_since_epoch}}};
  return fmt::format("{:04d}-{:02d}-{:02d}", static_cast<int>(ymd.year()),
                     static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()));
}

int TodayDays(const std::string& today) {
  using namespace std::chrono;
  if (today.size() == 10) {
    int y = std::atoi(today.substr(0, 4).c_str());
    unsigned m = static_cast<unsigned>(std::atoi(today.substr(5, 2).c_str()));
    unsigned d = static_cast<unsigned>(std::atoi(today.substr(8, 2).c_str()));
    year_month_day ymd{year{y}, month{m}, day{d}};
    if (ymd.ok()) return static_cast<int>(sys_days{ymd}.time_since_epoch().count());
  }
  return static_cast<int>(floor<days>(system_clock::now()).time_since_epoch().count());
}

double CellAreaSqMiles(double lat) {
  double cos_lat = std::max(std::cos(lat * kPi / 180), 0.01);
  return (kCell * kMilesPerDegLat) * (kCell * kMilesPerDegLat * cos_lat);
}

}  // namespace

double HaversineMiles(double lat1, double lng1, double lat2, double lng2) {
  constexpr double kEarthMiles = 3958.8;
  double p1 = lat1 * kPi / 180, p2 = lat2 * kPi / 180;
  double dp = p2 - p1, dl = (lng2 - lng1) * kPi / 180;
  double a = std::sin(dp / 2) * std::sin(dp / 2) +
             std::cos(p1) * std::cos(p2) * std::sin(dl / 2) * std::sin(dl / 2);
  return 2 * kEarthMiles * std::asin(std::min(1.0, std::sqrt(a)));
}

Result<std::shared_ptr<const ZipTable>> ZipTable::Load(const std::string& path) {
  std::ifstream in(path);
  if (!in) return Fail(ErrorCode::kInvalidArgument, "cannot read zip centroids " + path);
  auto table = std::make_shared<ZipTable>();
  std::string line;
  std::getline(in, line);  // header
  while (std::getline(in, line)) {
    std::stringstream ss(line);
    std::string zip, lat, lng;
    if (!std::getline(ss, zip, ',') || !std::getline(ss, lat, ',') || !std::getline(ss, lng)) {
      continue;
    }
    Entry e{zip, std::atof(lat.c_str()), std::atof(lng.c_str())};
    ++table->region_counts_[{Floor(e.lat, kRegion), Floor(e.lng, kRegion)}];
    table->buckets_[{static_cast<int>(std::floor(e.lat)), static_cast<int>(std::floor(e.lng))}]
        .push_back(e);
    ++table->count_;
  }
  return std::shared_ptr<const ZipTable>(std::move(table));
}

int ZipTable::CountInRegion(double lat, double lng) const {
  auto it = region_counts_.find({Floor(lat, kRegion), Floor(lng, kRegion)});
  return it == region_counts_.end() ? 0 : it->second;
}

std::string ZipTable::Nearest(double lat, double lng) const {
  int bi = static_cast<int>(std::floor(lat)), bj = static_cast<int>(std::floor(lng));
  const Entry* best = nullptr;
  double best_d = 1e18;
  for (int di = -1; di <= 1; ++di) {
    for (int dj = -1; dj <= 1; ++dj) {
      auto it = buckets_.find({bi + di, bj + dj});
      if (it == buckets_.end()) continue;
      for (const Entry& e : it->second) {
        double dlat = e.lat - lat, dlng = (e.lng - lng) * std::cos(lat * kPi / 180);
        double d = dlat * dlat + dlng * dlng;
        if (d < best_d) {
          best_d = d;
          best = &e;
        }
      }
    }
  }
  return best ? best->zip : "";
}

FakeWorld::FakeWorld(FakeWorldOptions options, std::shared_ptr<const ZipTable> zips)
    : options_(std::move(options)),
      zips_(std::move(zips)),
      today_days_(TodayDays(options_.today)) {}

int FakeWorld::RegionClass(double lat, double lng) const {
  if (zips_) {
    int n = zips_->CountInRegion(lat, lng);
    return n <= 2 ? 0 : n <= 5 ? 1 : n <= 11 ? 2 : 3;
  }
  uint64_t h = Hash(0x7e610, Floor(lat, kRegion), Floor(lng, kRegion));
  int p = static_cast<int>(h % 100);
  return p < 35 ? 0 : p < 70 ? 1 : p < 92 ? 2 : 3;
}

double FakeWorld::DensityPerSqMile(FakeKind kind, double lat, double lng) const {
  int c = RegionClass(lat, lng);
  return kind == FakeKind::kListing ? kListingDensity[c] : kSaleDensity90[c];
}

// Calls visit(h, lat, lng, days) for each matching record in a stable order until it
// returns false. `days` is days on market (listings) or days since the sale (sales).
template <class Visit>
void FakeWorld::Scan(const SearchQuery& q, Visit&& visit) const {
  const uint64_t kind_tag = q.kind == FakeKind::kListing ? 1 : 2;
  const int lo_days = std::max(q.min_days, 0);
  const int hi_days = std::min(q.max_days, kSaleHistoryDays - 1);
  if (q.kind == FakeKind::kSale && lo_days > hi_days) return;

  if (options_.fixed_count >= 0) {
    const int64_t ci = std::llround(q.lat * 1e4), cj = std::llround(q.lng * 1e4);
    for (int k = 0; k < options_.fixed_count; ++k) {
      uint64_t h = Hash(options_.seed, kind_tag, 0xF1, ci, cj, k);
      Rng rng(h);
      double r = q.radius_miles * 0.98 * std::sqrt(rng.Unit());
      double theta = 2 * kPi * rng.Unit();
      double lat = q.lat + r * std::cos(theta) / kMilesPerDegLat;
      double lng = q.lng + r * std::sin(theta) /
                               (kMilesPerDegLat * std::max(std::cos(q.lat * kPi / 180), 0.01));
      int days = q.kind == FakeKind::kListing ? rng.Range(0, 149) : rng.Range(lo_days, hi_days);
      if (!visit(h, lat, lng, days)) return;
    }
    return;
  }

  double dlat = q.radius_miles / kMilesPerDegLat;
  double dlng = q.radius_miles / (kMilesPerDegLat * std::max(std::cos(q.lat * kPi / 180), 0.01));
  int64_t i0 = Floor(q.lat - dlat, kCell), i1 = Floor(q.lat + dlat, kCell);
  int64_t j0 = Floor(q.lng - dlng, kCell), j1 = Floor(q.lng + dlng, kCell);
  for (int64_t i = i0; i <= i1; ++i) {
    double cell_lat = (static_cast<double>(i) + 0.5) * kCell;
    double area = CellAreaSqMiles(cell_lat);
    for (int64_t j = j0; j <= j1; ++j) {
      double cell_lng = (static_cast<double>(j) + 0.5) * kCell;
      double density = DensityPerSqMile(q.kind, cell_lat, cell_lng);
      if (q.kind == FakeKind::kSale) density *= kSaleHistoryDays / 90.0;
      double lambda = density * area;
      Rng cell(Hash(options_.seed, kind_tag, i, j));
      int n = static_cast<int>(lambda) + (cell.Unit() < lambda - std::floor(lambda) ? 1 : 0);
      for (int k = 0; k < n; ++k) {
        uint64_t h = Hash(options_.seed, kind_tag, i, j, k);
        Rng rng(h);
        double lat = (static_cast<double>(i) + rng.Unit()) * kCell;
        double lng = (static_cast<double>(j) + rng.Unit()) * kCell;
        int days =
            q.kind == FakeKind::kListing ? rng.Range(0, 149) : rng.Range(0, kSaleHistoryDays - 1);
        if (q.kind == FakeKind::kSale && (days < lo_days || days > hi_days)) continue;
        if (HaversineMiles(q.lat, q.lng, lat, lng) > q.radius_miles) continue;
        if (!visit(h, lat, lng, days)) return;
      }
    }
  }
}

std::vector<json> FakeWorld::Search(const SearchQuery& q) const {
  std::vector<json> out;
  size_t index = 0;
  Scan(q, [&](uint64_t h, double lat, double lng, int days) {
    if (index++ < q.offset) return true;
    out.push_back(Build(q.kind, h, lat, lng, days));
    return out.size() < q.limit;
  });
  return out;
}

size_t FakeWorld::Count(SearchQuery q) const {
  size_t n = 0;
  Scan(q, [&](uint64_t, double, double, int) {
    ++n;
    return true;
  });
  return n;
}

json FakeWorld::Build(FakeKind kind, uint64_t h, double lat, double lng, int days) const {
  Rng rng(Mix(h ^ 0xB01D));
  const uint64_t region = Hash(0x7e611, Floor(lat, kRegion), Floor(lng, kRegion));
  const std::string city = kCities[region % kCities.size()];
  const std::string state = kStates[(region >> 8) % kStates.size()];
  std::string zip = zips_ ? zips_->Nearest(lat, lng) : "";
  if (zip.empty()) zip = fmt::format("{:05d}", (region >> 16) % 90000 + 10000);
  const int number = rng.Range(100, 9999);
  const std::string street = fmt::format("{} {}", kStreets[rng.Next() % kStreets.size()],
                                         kSuffixes[rng.Next() % kSuffixes.size()]);
  std::string line1 = fmt::format("{} {}", number, street);
  std::string formatted = fmt::format("{}, {}, {} {}", line1, city, state, zip);
  std::string id = formatted;
  for (char& c : id) {
    if (c == ' ') c = '-';
  }

  double type_roll = rng.Unit();
  const char* type = type_roll < 0.70   ? "Single Family"
                     : type_roll < 0.85 ? "Condo"
                     : type_roll < 0.95 ? "Townhouse"
                                        : "Multi-Family";
  int beds = rng.Range(1, 6);
  double baths = std::max(1.0, beds - 1 + 0.5 * rng.Range(0, 2));
  int sqft = 500 + beds * 350 + rng.Range(0, 600);
  double ppsf = 80 + static_cast<double>((region >> 24) % 370);
  int64_t price =
      static_cast<int64_t>(std::llround(sqft * ppsf * (0.8 + 0.4 * rng.Unit()) / 1000)) * 1000;
  std::string date = DateString(today_days_ - days) + "T00:00:00.000Z";

  json r = {{"id", id},
            {"formattedAddress", formatted},
            {"addressLine1", line1},
            {"addressLine2", nullptr},
            {"city", city},
            {"state", state},
            {"zipCode", zip},
            {"county", "Fake"},
            {"latitude", std::round(lat * 1e6) / 1e6},
            {"longitude", std::round(lng * 1e6) / 1e6},
            {"propertyType", type},
            {"bedrooms", beds},
            {"bathrooms", baths},
            {"squareFootage", sqft},
            {"lotSize", rng.Range(1500, 12000)},
            {"yearBuilt", rng.Range(1900, 2023)}};
  if (kind == FakeKind::kListing) {
    r["status"] = "Active";
    r["price"] = price;
    r["listingType"] = "Standard";
    r["listedDate"] = date;
    r["removedDate"] = nullptr;
    r["createdDate"] = date;
    r["lastSeenDate"] = DateString(today_days_) + "T08:00:00.000Z";
    r["daysOnMarket"] = days;
    r["mlsName"] = "FakeMLS";
    r["mlsNumber"] = std::to_string(h % 10000000);
    r["history"] = {{date.substr(0, 10),
                     {{"event", "Sale Listing"}, {"price", price}, {"daysOnMarket", days}}}};
  } else {
    r["lastSaleDate"] = date;
    double disclosure = rng.Unit();
    if (disclosure < 0.075) {
      // non-disclosure: field missing
    } else if (disclosure < 0.15) {
      r["lastSalePrice"] = nullptr;
    } else {
      r["lastSalePrice"] = price;
    }
    r["history"] = {{date.substr(0, 10),
                     {{"event", "Sale"},
                      {"date", date},
                      {"price", r.contains("lastSalePrice") ? r["lastSalePrice"] : json()}}}};
  }

  if (rng.Unit() < options_.odd_fraction) {
    const char* price_key = kind == FakeKind::kListing ? "price" : "lastSalePrice";
    switch (rng.Next() % 7) {
      case 0:
        r[price_key] = std::to_string(price);
        break;  // number as a string
      case 1:
        r["latitude"] = nullptr;
        break;
      case 2:
        r["bedrooms"] = std::to_string(beds);
        r["bathrooms"] = nullptr;
        r["squareFootage"] = json::array({sqft});
        break;
      case 3:
        r.erase("id");
        break;  // the address still identifies it
      case 4:   // nothing identifies it: clients must skip it
        r.erase("id");
        r.erase("formattedAddress");
        r.erase("addressLine1");
        break;
      case 5:
        r[kind == FakeKind::kListing ? "listedDate" : "lastSaleDate"] = 12345;
        break;
      default:
        r = nullptr;
        break;  // a bare null array element
    }
  }
  return r;
}

bool FakeWorld::HasMarketData(const std::string& zip) const {
  return Hash(options_.seed, 0x3a7, std::atoll(zip.c_str())) % 40 != 7;
}

std::optional<json> FakeWorld::Market(const std::string& zip, int history_months,
                                      const std::string& data_type) const {
  if (!HasMarketData(zip)) return std::nullopt;
  const uint64_t h = Hash(options_.seed, 0x3a8, std::atoll(zip.c_str()));
  const double base_price = 150000 + static_cast<double>(h % 750) * 1000;
  const double trend = (static_cast<double>((h >> 10) % 41) - 20) / 1000;  // per month
  const double base_ppsf = 100 + static_cast<double>((h >> 20) % 400);
  const double base_dom = 20 + static_cast<double>((h >> 30) % 80);
  const int base_listings = 20 + static_cast<int>((h >> 40) % 400);
  const bool gap = (h >> 50) % 5 == 0;  // no statistics three months back: clients fall back

  std::chrono::year_month_day today{std::chrono::sys_days{std::chrono::days{today_days_}}};
  std::chrono::year_month newest{today.year(), today.month()};
  const std::string updated = DateString(today_days_) + "T00:00:00.000Z";

  json history = json::object();
  json latest;
  for (int t = 0; t < std::max(history_months, 1); ++t) {
    std::chrono::year_month ym = newest - std::chrono::months{t};
    if (gap && t == 3) continue;
    Rng rng(Hash(h, t));
    double factor = std::pow(1 + trend, -t) * (0.98 + 0.04 * rng.Unit());
    std::string key = fmt::format("{:04d}-{:02d}", static_cast<int>(ym.year()),
                                  static_cast<unsigned>(ym.month()));
    json m = {{"date", key + "-01T00:00:00.000Z"},
              {"averagePrice", std::round(base_price * factor)},
              {"medianPrice", std::round(base_price * factor * 0.9)},
              {"averagePricePerSquareFoot", std::round(base_ppsf * factor * 100) / 100},
              {"averageDaysOnMarket", std::round(base_dom * (2 - factor) * 10) / 10},
              {"newListings", base_listings / 5 + t},
              {"totalListings", base_listings + rng.Range(-10, 10)}};
    if (t == 0) latest = m;
    history[key] = m;
  }
  json sale = {{"lastUpdatedDate", updated},
               {"averagePrice", latest["averagePrice"]},
               {"medianPrice", latest["medianPrice"]},
               {"averagePricePerSquareFoot", latest["averagePricePerSquareFoot"]},
               {"averageDaysOnMarket", latest["averageDaysOnMarket"]},
               {"newListings", latest["newListings"]},
               {"totalListings", latest["totalListings"]},
               {"history", history}};
  json rental = {{"lastUpdatedDate", updated},
                 {"averageRent", std::round(base_price / 200)},
                 {"history", json::object()}};
  json out = {{"id", zip}, {"zipCode", zip}};
  if (data_type != "Rental") out["saleData"] = sale;
  if (data_type != "Sale") out["rentalData"] = rental;
  return out;
}

}  // namespace dripr::fake
