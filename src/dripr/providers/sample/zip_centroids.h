#pragma once
// ZIP code centroids (data/zip_codes.csv: zip_code,latitude,longitude) with a nearest-zip
// lookup, so the sample provider can give each synthetic property the zip it would really
// have and place a zip's market on the map. Immutable after construction; thread-safe.

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
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
  // Builds the buckets once every zip is added.
  void IndexBuckets();
  // The bucket's centroids: [first, last) of bucket_entries_ / bucket_points_.
  std::pair<uint32_t, uint32_t> Bucket(int64_t key) const;
  struct Entry {
    std::string zip;
    GeoPoint point;
  };
  std::vector<Entry> zips_;
  std::map<std::string, size_t, std::less<>> by_zip_;
  // 0.25-degree cells (BucketKey of row and column) → their centroids' indexes in load order,
  // as an open-addressing table (at most half full) of ranges of bucket_entries_: Nearest()
  // looks up 9 to 25 of them for every synthetic home. bucket_points_[k] is
  // zips_[bucket_entries_[k]].point, next to its neighbours.
  struct BucketSlot {
    int64_t key;
    uint32_t first, last;  // first == last: empty slot
  };
  std::vector<BucketSlot> bucket_slots_;
  std::vector<uint32_t> bucket_entries_;
  std::vector<GeoPoint> bucket_points_;
};

}  // namespace dripr
