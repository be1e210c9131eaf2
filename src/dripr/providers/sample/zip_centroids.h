#pragma once
// ZIP code centroids (data/zip_codes.csv: zip_code,latitude,longitude) with a nearest-zip
// lookup, so the sample provider can give each synthetic property the zip it would really
// have and place a zip's market on the map. Immutable after construction; thread-safe.

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "dripr/core/error.h"
#include "dripr/domain/types.h"

namespace dripr {

class ZipCentroids {
 public:
  ZipCentroids() = default;
  // `origin` names the text in errors. A malformed row is kInvalidArgument naming its line.
  static Result<ZipCentroids> FromCsv(std::string_view text, std::string_view origin);
  // kNotFound when the file does not exist or cannot be read.
  static Result<ZipCentroids> LoadFile(const std::string& path);
  static ZipCentroids FromList(const std::vector<std::pair<std::string, GeoPoint>>& zips);

  size_t size() const { return zips_.size(); }
  // The i-th zip in the order loaded (file order); i < size().
  std::pair<std::string, GeoPoint> At(size_t i) const { return {zips_[i].zip, zips_[i].point}; }
  std::optional<GeoPoint> Find(std::string_view zip) const;
  // The zip whose centroid is closest to `p`, searching about 1.5 degrees around it;
  // nullopt when there is none that close (open sea, empty table).
  std::optional<std::string> Nearest(GeoPoint p) const;

 private:
  void Add(std::string zip, GeoPoint p);
  struct Entry {
    std::string zip;
    GeoPoint point;
  };
  std::vector<Entry> zips_;
  std::map<std::string, size_t, std::less<>> by_zip_;
  // 0.25-degree cells (BucketKey of row and column) → indexes in load order; hashed, as
  // Nearest() looks up about ten of them for every synthetic home.
  std::unordered_map<int64_t, std::vector<size_t>> buckets_;
};

}  // namespace dripr
