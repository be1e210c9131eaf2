#pragma once
// The synthetic world behind the fake RentCast server (fake_rentcast.h): deterministic,
// realistic-looking listings, sales and zip market statistics, generated on the fly from
// hashes of grid cells, so the same query always returns the same records with the same
// ids, and a wider radius returns a superset.
//
// Density varies by region (0.25° squares: rural, suburban, urban, dense; see
// DensityPerSqMile; with zip centroids loaded, the number of zips in the square decides,
// so cities are dense and the countryside sparse), so a 1-mile search finds a handful of records in
// some places and hundreds in others. A share of records (odd_fraction) is deliberately odd: nulls,
// wrong types, missing ids, or a bare `null` array element. About 15% of sales have no
// lastSalePrice (missing or null), like non-disclosure states.

#include <cstdint>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "dripr/core/error.h"

namespace dripr::fake {

enum class FakeKind { kListing, kSale };

struct FakeWorldOptions {
  std::string today;           // "YYYY-MM-DD" the data is relative to; "" = today (UTC)
  double odd_fraction = 0.03;  // share of odd records
  int fixed_count = -1;        // >= 0: every search matches exactly this many records
  uint64_t seed = 0x5eed;
};

// Zip centroids (data/zip_codes.csv) for giving records the nearest real zip code.
class ZipTable {
 public:
  // CSV with header `zip_code,latitude,longitude`. kInvalidArgument when unreadable.
  static Result<std::shared_ptr<const ZipTable>> Load(const std::string& path);
  // The nearest zip within ~1° or "".
  std::string Nearest(double lat, double lng) const;
  // Zip centroids in the 0.25° square holding the point (an urbanisation proxy).
  int CountInRegion(double lat, double lng) const;
  size_t size() const { return count_; }

 private:
  struct Entry {
    std::string zip;
    double lat, lng;
  };
  std::map<std::pair<int, int>, std::vector<Entry>> buckets_;  // by whole degrees
  std::map<std::pair<int64_t, int64_t>, int> region_counts_;   // by 0.25° squares
  size_t count_ = 0;
};

struct SearchQuery {
  FakeKind kind = FakeKind::kListing;
  double lat = 0, lng = 0, radius_miles = 5;
  int min_days = 0, max_days = 1 << 30;  // sales: days since the sale (saleDateRange)
  size_t offset = 0, limit = 50;
};

class FakeWorld {
 public:
  FakeWorld(FakeWorldOptions options, std::shared_ptr<const ZipTable> zips);

  // Records [offset, offset + limit) of the query's matches in a stable order.
  std::vector<nlohmann::json> Search(const SearchQuery& q) const;
  // How many records the query matches in total (offset/limit ignored).
  size_t Count(SearchQuery q) const;
  // The /markets response for a zip, or nullopt when the zip has no data (about 1 in 40
  // zips; HasMarketData tells which). `data_type` is All, Sale or Rental.
  std::optional<nlohmann::json> Market(const std::string& zip, int history_months,
                                       const std::string& data_type) const;
  bool HasMarketData(const std::string& zip) const;

  // Expected records per square mile around a point (sales: sold in the last 90 days):
  // rural 0.5/0.8, suburban 4/6, urban 15/20, dense 40/50 (listings/sales).
  double DensityPerSqMile(FakeKind kind, double lat, double lng) const;

  const FakeWorldOptions& options() const { return options_; }

 private:
  template <class Visit>
  void Scan(const SearchQuery& q, Visit&& visit) const;
  int RegionClass(double lat, double lng) const;  // 0 rural .. 3 dense
  nlohmann::json Build(FakeKind kind, uint64_t h, double lat, double lng, int days) const;

  FakeWorldOptions options_;
  std::shared_ptr<const ZipTable> zips_;
  int today_days_ = 0;  // days since 1970-01-01
};

// Great-circle distance in miles.
double HaversineMiles(double lat1, double lng1, double lat2, double lng2);

}  // namespace dripr::fake
