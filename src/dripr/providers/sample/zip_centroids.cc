#include "dripr/providers/sample/zip_centroids.h"

#include <algorithm>
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
  auto [bi, bj] = BucketOf(p);
  buckets_[BucketKey(bi, bj)].push_back(idx);
  zips_.push_back({std::move(zip), p});
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
        auto it = buckets_.find(BucketKey(i, j));
        if (it == buckets_.end()) continue;
        for (size_t idx : it->second) {
          const GeoPoint q = zips_[idx].point;
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
