#pragma once
// SampleProvider: the offline Provider backend (DATA_PROVIDER=sample, the default).
// Deterministic synthetic data, realistic enough to exercise everything downstream.
//
// The synthetic world: the map is cut into 0.02-degree cells (~1.4 x 1 mile). For every
// cell and every calendar day, a hash of (cell, day) decides how many homes were listed or
// sold there that day (a Poisson draw whose mean follows how urban the place is), and a hash
// of (cell, day, n) decides each home's position, type, size and price. A search enumerates
// the cells around the centre and keeps the homes within the radius, so:
//   - the same home appears identically whatever the radius or the search centre;
//   - results grow with the radius; in open country about 0.6 homes lie within 1 mile and
//     about 40 within 8 (the handler's widening 1 → 2 → 4 → 8 miles always ends with >= 10),
//     while a city centre has dozens within 1 mile;
//   - dates are real calendar days relative to the injected clock: a sale stays on the day it
//     happened as the clock advances; listings stay on the market 7-120 days;
//   - about 15% of sales have no disclosed price (nullopt);
//   - prices follow a price level that is high near expensive metros and low in the country
//     (see geography.h), between about $120k and $2.5M for a typical home.
// No global state, no random device: only the clock and the options matter. Thread-safe.
//
// Cost: the homes of a cell (their days and positions, both kinds, for the clock's current
// day) are computed once and cached, so a search costs distance checks plus the details of the
// homes it returns; the cache is bounded (two generations of kCellsPerGeneration cells) and changes
// no output (docs/decisions/domain.md, "Sample provider cache").
//
// CPU: a search is local CPU work standing in for a remote API's wait, so at most
// SampleProviderOptions::max_concurrent_searches run at once (by default one core fewer than
// the machine has, at least one): the fake never takes every core from the pipeline it feeds,
// whose SQLite writer is one thread (docs/decisions/performance.md, "Stop 18").

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <semaphore>
#include <string>
#include <vector>

#include "dripr/core/clock.h"
#include "dripr/providers/provider.h"
#include "dripr/providers/sample/cell_cache.h"
#include "dripr/providers/sample/zip_centroids.h"

namespace dripr {

struct SampleProviderOptions {
  // Zip codes or zip prefixes (e.g. "59", "02139") whose searches (SearchArea::zip_code)
  // never return more than SampleProvider::kSparseMaxResults homes, at any radius: the
  // "fewer than 10 after the last widening" failure, on request only. Empty by default.
  std::vector<std::string> sparse_zip_prefixes;
  // Added to every call (a sleep on the provider's ticker); for benchmarks that want a
  // provider that takes time. Default 0.
  std::chrono::milliseconds latency{0};
  // Centroids: with them every home gets the zip whose centroid is nearest, and Market()
  // knows where a zip is. Without them homes carry the searched area's zip and Market()
  // places a zip at its metro's centre (main city prefixes) or in the country.
  std::shared_ptr<const ZipCentroids> zips;
  // When `zips` is null: the centroid CSV OpenProvider loads into it ("" none), and the
  // setting that named it, for errors (DRIPR_SAMPLE_ZIP_CSV or DRIPR_DATA_DIR; fetcher/config.cc).
  std::string zip_csv_path;
  std::string zip_csv_variable;
  // Searches computed at once (the others wait their turn; options.latency is not counted).
  // 0: one fewer than the CPUs this process may use (UsableCores: a container's CPU limit
  // counts), at least 1.
  int max_concurrent_searches = 0;
};

class SampleProvider final : public Provider {
 public:
  // Like RentCast's maximum page, the nearest this many homes are returned.
  static constexpr size_t kMaxResults = 500;
  static constexpr size_t kSparseMaxResults = 5;
  static constexpr double kMaxRadiusMiles = 100;  // RentCast's limit
  static constexpr int kMaxSaleDays = 3650;

  // `clock` and `ticker` (null: the real one; it sleeps options.latency) must outlive the
  // provider.
  SampleProvider(const Clock& clock, SampleProviderOptions options, Ticker* ticker = nullptr);

  std::string Name() const override { return "sample"; }
  // Unless it sleeps options.latency per call.
  bool CallsAreCpuOnly() const override { return options_.latency.count() == 0; }
  // kInvalidArgument for a malformed zip; never kNotFound (every zip has a market).
  Result<MarketData> Market(const std::string& zip) override;
  // Nearest first. kInvalidArgument: centre off the globe, radius not in (0, 100].
  // Nothing beyond 85 degrees of latitude.
  Result<std::vector<PropertyRecord>> ActiveListings(const SearchArea& area) override;
  // Sold in the last `days` days (today included), nearest first. kInvalidArgument as above,
  // or `days` not in 1..3650.
  Result<std::vector<PropertyRecord>> RecentSales(const SearchArea& area, int days) override;

  // The searches allowed at once (options.max_concurrent_searches, 0 resolved), and the most
  // that ever ran at once (for tests).
  int max_concurrent_searches() const { return max_searches_; }
  int peak_concurrent_searches() const { return peak_searches_.load(); }

 private:
  enum class Kind { kListing, kSale };
  // A cell the geometric pass visits.
  struct NearCell {
    int64_t ci, cj;
    sample::CellRef ref;
  };
  // The cache keeps two generations of at most this many cells each: when the current one
  // is full it becomes the previous one (the older is dropped), and a hit in the previous
  // generation moves the cell to the current one. So a working set up to this size is never
  // regenerated, and memory stays bounded (a few tens of MB at most).
  static constexpr size_t kCellsPerGeneration = 65'536;

  // The last few searches' records, so that widening around one centre (1 → 2 → 4 → 8
  // miles) generates the details of each home once.
  struct RecentKey {
    GeoPoint center;
    bool listing;
    int window_days;
    int64_t today;
    std::string zip;
    bool operator==(const RecentKey&) const = default;
  };
  struct HomeId {
    int64_t ci, cj, day;
    int k;
    bool operator==(const HomeId&) const = default;
  };
  struct Recent {
    RecentKey key;
    std::vector<HomeId> ids;  // of records, in order
    std::vector<PropertyRecord> records;
  };
  static constexpr size_t kRecentSearches = 16;
  static constexpr size_t kRememberMaxRecords = 32;

  // Search computed within the concurrency limit.
  Result<std::vector<PropertyRecord>> GatedSearch(const SearchArea& area, Kind kind,
                                                  int days) const;
  Result<std::vector<PropertyRecord>> Search(const SearchArea& area, Kind kind, int days) const;
  std::shared_ptr<const Recent> FindRecent(const RecentKey& key) const;
  void Remember(std::shared_ptr<const Recent> search) const;
  // Fills `cells[i].cell` for (cells[i].ci, cells[i].cj, today) with at least `sale_days`
  // days of sales: from the cache, else computed (outside the lock, with
  // max(sale_days, make_sale_days) days of sales) and cached.
  // The cells stay valid while `lease` lives.
  void FindCells(std::vector<NearCell>& cells, int64_t today, int sale_days, int make_sale_days,
                 sample::CellLease& lease) const;
  // Cell (ci, cj) for `today`; `had` (may be null) is a cached version of it with fewer sale
  // days, whose urbanness and listings are reused.
  static sample::CellPtr MakeCell(int64_t ci, int64_t cj, int64_t today, int sale_days,
                                  const sample::Cell* had);
  bool IsSparse(const std::string& zip) const;
  void Delay() const;

  const Clock& clock_;
  const SampleProviderOptions options_;
  Ticker& ticker_;

  static constexpr int kMaxSearchesBound = 1024;
  const int max_searches_;
  mutable std::counting_semaphore<kMaxSearchesBound> searches_;
  mutable std::atomic<int> running_searches_{0};
  mutable std::atomic<int> peak_searches_{0};

  // The sales window of the last sales search (the handlers' default until then).
  mutable std::atomic<int> sale_days_hint_{90};
  mutable std::mutex cache_mu_;
  // guarded by cache_mu_
  mutable std::shared_ptr<sample::CellGeneration> cells_, previous_cells_;
  mutable std::mutex recent_mu_;
  // guarded by recent_mu_: replaced round-robin
  mutable std::array<std::shared_ptr<const Recent>, kRecentSearches> recent_;
  mutable size_t recent_next_ = 0;
};

}  // namespace dripr
