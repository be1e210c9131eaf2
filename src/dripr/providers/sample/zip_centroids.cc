#include "dripr/providers/sample/zip_centroids.h"

#include <algorithm>
#include <bit>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <limits>

#include "dripr/domain/event.h"

namespace dripr {
namespace {

constexpr double kBucketDegrees = 0.25;
constexpr int kMaxRing = 6;  // 1.5 degrees

std::pair<int, int> BucketOf(GeoPoint p) {
  return {static_cast<int>(std::floor(p.lat / kBucketDegrees)),
          static_cast<int>(std::floor(p.lng / kBucketDegrees))};
}

int64_t BucketKey(int i, int j) {
  return static_cast<int64_t>(i) * (int64_t{1} << 32) + static_cast<uint32_t>(j);
}

size_t BucketSlotIndex(int64_t key, size_t mask) {
  return static_cast<size_t>((static_cast<uint64_t>(key) * 0x9e3779b97f4a7c15ULL) >> 32) & mask;
}

// Squared equirectangular distance: monotonic in true distance at these scales.
double Dist2(GeoPoint a, GeoPoint b) {
  double k = std::cos((a.lat + b.lat) * 0.5 * 3.14159265358979 / 180);
  double dx = (a.lng - b.lng) * k, dy = a.lat - b.lat;
  return dx * dx + dy * dy;
}

bool ParseDouble(const std::string& s, double lo, double hi, double* out) {
  if (s.empty()) return false;
  char* end = nullptr;
  double v = std::strtod(s.c_str(), &end);
  if (end != s.c_str() + s.size() || !std::isfinite(v) || v < lo || v > hi) return false;
  *out = v;
  return true;
}

}  // namespace

void ZipCentroids::Add(std::string zip, GeoPoint p) {
  size_t idx = zips_.size();
  by_zip_[zip] = idx;
  zips_.push_back({std::move(zip), p});
}

void ZipCentroids::IndexBuckets() {
  std::vector<std::pair<int64_t, uint32_t>> keyed(zips_.size());
  for (size_t i = 0; i < zips_.size(); ++i) {
    auto [bi, bj] = BucketOf(zips_[i].point);
    keyed[i] = {BucketKey(bi, bj), static_cast<uint32_t>(i)};
  }
  std::sort(keyed.begin(), keyed.end());  // by bucket, then load order
  bucket_entries_.resize(keyed.size());
  bucket_points_.resize(keyed.size());
  size_t buckets = 0;
  for (size_t k = 0; k < keyed.size(); ++k) {
    bucket_entries_[k] = keyed[k].second;
    bucket_points_[k] = zips_[keyed[k].second].point;
    buckets += k == 0 || keyed[k].first != keyed[k - 1].first;
  }
  bucket_slots_.assign(std::bit_ceil(2 * buckets + 1), BucketSlot{0, 0, 0});
  const size_t mask = bucket_slots_.size() - 1;
  for (size_t k = 0; k < keyed.size();) {
    size_t end = k;
    while (end < keyed.size() && keyed[end].first == keyed[k].first) ++end;
    size_t i = BucketSlotIndex(keyed[k].first, mask);
    while (bucket_slots_[i].first != bucket_slots_[i].last) i = (i + 1) & mask;
    bucket_slots_[i] = {keyed[k].first, static_cast<uint32_t>(k), static_cast<uint32_t>(end)};
    k = end;
  }
}

std::pair<uint32_t, uint32_t> ZipCentroids::Bucket(int64_t key) const {
  if (bucket_slots_.empty()) return {0, 0};
  const size_t mask = bucket_slots_.size() - 1;
  for (size_t i = BucketSlotIndex(key, mask);; i = (i + 1) & mask) {
    const BucketSlot& s = bucket_slots_[i];
    if (s.first == s.last) return {0, 0};
    if (s.key == key) return {s.first, s.last};
  }
}

// The text is read in place (no stream copies of it): at start-up its temporaries set the
// idle process's peak memory (docs/decisions/performance.md "Allocator pass").
Result<ZipCentroids> ZipCentroids::FromCsv(std::string_view text, std::string_view origin) {
  ZipCentroids z;
  z.zips_.reserve(static_cast<size_t>(std::count(text.begin(), text.end(), '\n')) + 1);
  int n = 0;
  while (!text.empty()) {
    size_t eol = text.find('\n');
    std::string_view line = text.substr(0, eol);
    text.remove_prefix(eol == std::string_view::npos ? text.size() : eol + 1);
    ++n;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.empty() || (n == 1 && line.starts_with("zip"))) continue;  // header
    // Fields as std::getline(row, cell, ',') gave them: a trailing comma adds no field.
    std::string fields[3];
    int f = 0;
    for (std::string_view rest = line; f < 4 && !rest.empty(); ++f) {
      size_t comma = rest.find(',');
      if (f < 3) fields[f] = rest.substr(0, comma);
      rest.remove_prefix(comma == std::string_view::npos ? rest.size() : comma + 1);
    }
    GeoPoint p;
    auto zip = NormalizeZip(fields[0]);
    if (f != 3 || !zip || !ParseDouble(fields[1], -90, 90, &p.lat) ||
        !ParseDouble(fields[2], -180, 180, &p.lng)) {
      return Fail(ErrorCode::kInvalidArgument, std::string(origin) + ":" + std::to_string(n) +
                                                   ": expected zip_code,latitude,longitude");
    }
    z.Add(std::move(*zip), p);
  }
  z.IndexBuckets();
  return z;
}

Result<ZipCentroids> ZipCentroids::LoadFile(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) return Fail(ErrorCode::kNotFound, "cannot read zip centroids " + path);
  std::string text;
  std::error_code size_error;  // not a regular file: no size, the string grows as it reads
  if (auto size = std::filesystem::file_size(path, size_error); !size_error) text.reserve(size);
  char chunk[64 * 1024];
  while (f.read(chunk, sizeof chunk) || f.gcount() > 0) text.append(chunk, f.gcount());
  if (f.bad()) return Fail(ErrorCode::kNotFound, "cannot read zip centroids " + path);
  return FromCsv(text, path);
}

ZipCentroids ZipCentroids::FromList(const std::vector<std::pair<std::string, GeoPoint>>& zips) {
  ZipCentroids z;
  for (const auto& [zip, p] : zips) z.Add(zip, p);
  z.IndexBuckets();
  return z;
}

std::optional<GeoPoint> ZipCentroids::Find(std::string_view zip) const {
  auto it = by_zip_.find(zip);
  if (it == by_zip_.end()) return std::nullopt;
  return zips_[it->second].point;
}

std::optional<std::string> ZipCentroids::Nearest(GeoPoint p) const {
  auto [bi, bj] = BucketOf(p);
  const Entry* best = nullptr;
  double best_d2 = std::numeric_limits<double>::infinity();
  int found_at = -1;
  // A lower bound of Dist2 without its cosine: the midpoint's latitude is within half the
  // search reach of p's, so its cosine is at least k_lo. A centroid whose bound exceeds the
  // best distance so far (with a margin far above rounding) cannot be closer nor tie, so
  // skipping it changes no answer.
  const double reach = (kMaxRing + 1) * kBucketDegrees / 2;
  const double k_lo = std::abs(p.lat) + reach >= 90
                          ? 0
                          : std::cos((std::abs(p.lat) + reach) * 3.14159265358979 / 180);
  for (int ring = 0; ring <= kMaxRing; ++ring) {
    // One ring past the first hit catches a closer centroid just across a bucket edge.
    if (found_at >= 0 && ring > found_at + 1) break;
    for (int i = bi - ring; i <= bi + ring; ++i) {
      for (int j = bj - ring; j <= bj + ring; ++j) {
        if (std::abs(i - bi) != ring && std::abs(j - bj) != ring) continue;  // ring only
        // The bucket's centroids lie within its edges (q / 0.25 is exact), so their bounds
        // below are at least the edges' (the same operations, monotonic): a bucket whose
        // edges are too far holds no centroid that could be closer.
        const double lat0 = i * kBucketDegrees, lng0 = j * kBucketDegrees;
        const double ey = std::max({0.0, lat0 - p.lat, p.lat - (lat0 + kBucketDegrees)});
        const double ex = std::max({0.0, lng0 - p.lng, p.lng - (lng0 + kBucketDegrees)}) * k_lo;
        if ((ex * ex + ey * ey) * (1 - 1e-9) > best_d2) continue;
        const auto [first, last] = Bucket(BucketKey(i, j));
        for (uint32_t k = first; k < last; ++k) {
          const size_t idx = bucket_entries_[k];
          const GeoPoint q = bucket_points_[k];
          const double dx = (p.lng - q.lng) * k_lo, dy = p.lat - q.lat;
          if ((dx * dx + dy * dy) * (1 - 1e-9) > best_d2) continue;
          double d2 = Dist2(p, q);
          if (d2 < best_d2 || (d2 == best_d2 && best && zips_[idx].zip < best->zip)) {
            best_d2 = d2;
            best = &zips_[idx];
          }
        }
      }
    }
    if (best && found_at < 0) found_at = ring;
  }
  if (!best) return std::nullopt;
  return best->zip;
}

}  // namespace dripr
