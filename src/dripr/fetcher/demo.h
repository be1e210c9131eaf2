#pragma once
// `dripr demo` without the printing: the deterministic set of demo campaigns, a run that
// creates and starts them on a Store and waits until each is READY_TO_CREATE_EMAIL or ERROR
// (a DataFetcher on the same store and bus does the work), and the latency summary.

#include <chrono>
#include <cstddef>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "dripr/core/clock.h"
#include "dripr/providers/sample/zip_centroids.h"
#include "dripr/store/store.h"

namespace dripr {

inline constexpr int kMinDemoCampaigns = 1;
inline constexpr int kMaxDemoCampaigns = 5000;
// How often the run re-reads the campaigns (and reports progress).
inline constexpr std::chrono::milliseconds kDemoRefresh{100};

// `n` campaigns "demo-0001"… over zips spread evenly across `zips` (the same every run):
// owners agent-1…agent-7; every third campaign a no-address newsletter, the others a
// property near the zip's centroid with a value between $250,000 and $900,000.
// Empty when `zips` is empty or n <= 0.
std::vector<NewCampaign> DemoCampaigns(const ZipCentroids& zips, int n);

struct DemoProgress {
  int ready = 0;   // READY_TO_CREATE_EMAIL
  int failed = 0;  // ERROR
  int total = 0;
  double seconds = 0;     // since the first campaign was created
  bool finished = false;  // every campaign READY or ERROR
};

struct DemoRun {
  std::vector<CampaignId> ids;               // in creation order
  std::map<CampaignId, SysTime> started_at;  // status_changed_at of each start
  DemoProgress last;                         // the final progress
};

// Campaigns created and started per transaction (Store::CreateCampaigns with start, as
// `campaign import --start` does): small enough that the fetcher starts on the first batch
// while the next ones are written.
inline constexpr size_t kDemoBatch = 50;

// Creates and starts every campaign of `plan`, then counts READY and ERROR campaigns every
// kDemoRefresh (beyond those counted before the run: the demo's database is its own) until
// all are READY or ERROR or `timeout` passed since the first was created (measured, and the
// refresh waited, on `ticker`), calling `on_progress` after every count. Store errors are
// returned as they are.
Result<DemoRun> RunDemo(Store& store, const std::vector<NewCampaign>& plan, Ticker& ticker,
                        std::chrono::seconds timeout,
                        const std::function<void(const DemoProgress&)>& on_progress);

// The run's wall time as the store recorded it: seconds from the earliest start in
// `run.started_at` to the latest status_changed_at among `finished` (the run's campaigns as
// loaded after it), so not rounded up to the progress count that noticed the last one (up to
// kDemoRefresh later). nullopt unless every one of `finished` is READY_TO_CREATE_EMAIL or
// ERROR and the span is positive.
std::optional<double> RecordedSeconds(const DemoRun& run, const std::vector<Campaign>& finished);

// p50 / p95 / max of `ms` (zeros when empty).
struct LatencySummary {
  double p50 = 0;
  double p95 = 0;
  double max = 0;
};
LatencySummary SummarizeLatencies(std::vector<double> ms);

}  // namespace dripr
