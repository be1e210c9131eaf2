#include "dripr/fetcher/demo.h"

#include <fmt/format.h>

#include <algorithm>
#include <span>
#include <utility>

namespace dripr {
namespace {

// The demo's synthetic neighbourhood: how far (degrees) a property sits from its zip's
// centroid, varied by campaign index so the properties do not coincide.
constexpr double kLatStep = 0.004, kLatShift = -0.008;
constexpr double kLngStep = -0.003, kLngShift = 0.004;
constexpr int kAgents = 7;
constexpr int kNewsletterEvery = 3;  // every third campaign has no address
constexpr int64_t kMinValue = 250'000, kValueSpread = 650'000, kValuePrime = 7919;
constexpr int kHouseNumberBase = 100, kHouseNumberStep = 17;

}  // namespace

std::vector<NewCampaign> DemoCampaigns(const ZipCentroids& zips, int n) {
  std::vector<NewCampaign> out;
  if (zips.size() == 0 || n <= 0) return out;
  // Every k-th zip: a spread across the country.
  const double step = static_cast<double>(zips.size()) / n;
  for (int i = 0; i < n; ++i) {
    auto [zip, at] = zips.At(static_cast<size_t>(i * step + step / 2) % zips.size());
    const auto k = static_cast<size_t>(i);
    NewCampaign nc;
    nc.id = fmt::format("demo-{:04}", i + 1);
    nc.zip_code = zip;
    nc.user_id = fmt::format("agent-{}", i % kAgents + 1);
    if (i % kNewsletterEvery != kNewsletterEvery - 1) {
      GeoPoint p{at.lat + kLatStep * static_cast<double>(i % 5) + kLatShift,
                 at.lng + kLngStep * static_cast<double>(i % 4) + kLngShift};
      nc.property =
          PropertyData{fmt::format("{} Maple St, {}", kHouseNumberBase + kHouseNumberStep * k, zip),
                       p, static_cast<int64_t>(kMinValue + (i * kValuePrime) % kValueSpread)};
    }
    out.push_back(std::move(nc));
  }
  return out;
}

namespace {

// READY_TO_CREATE_EMAIL and ERROR campaigns in the whole database: one GROUP BY count
// (Store::SampleGauges), not a read of every campaign row per refresh.
Result<std::pair<int, int>> CountFinished(Store& store) {
  DRIPR_ASSIGN_OR_RETURN(auto gauges, store.SampleGauges());
  auto count = [&](CampaignStatus s) {
    auto it = gauges.campaigns_by_status.find(std::string(ToString(s)));
    return it == gauges.campaigns_by_status.end() ? 0 : static_cast<int>(it->second);
  };
  return std::pair{count(CampaignStatus::kReadyToCreateEmail), count(CampaignStatus::kError)};
}

}  // namespace

Result<DemoRun> RunDemo(Store& store, const std::vector<NewCampaign>& plan, Ticker& ticker,
                        std::chrono::seconds timeout,
                        const std::function<void(const DemoProgress&)>& on_progress) {
  DemoRun run;
  // Campaigns finished before the run are not the run's (the demo's database is new, so
  // normally none).
  DRIPR_ASSIGN_OR_RETURN(const auto before, CountFinished(store));
  const Ticker::TimePoint t0 = ticker.Now();
  // Created and started as `campaign import --start` does: a batch per transaction.
  for (size_t done = 0; done < plan.size(); done += kDemoBatch) {
    const size_t n = std::min(kDemoBatch, plan.size() - done);
    DRIPR_ASSIGN_OR_RETURN(auto started,
                           store.CreateCampaigns(std::span(plan).subspan(done, n), true));
    for (const Campaign& c : started) {
      run.started_at[c.id] = c.status_changed_at;
      run.ids.push_back(c.id);
    }
  }
  const Ticker::TimePoint deadline = t0 + timeout;
  while (true) {
    DRIPR_ASSIGN_OR_RETURN(const auto now_finished, CountFinished(store));
    DemoProgress p;
    p.total = static_cast<int>(run.ids.size());
    p.ready = now_finished.first - before.first;
    p.failed = now_finished.second - before.second;
    const Ticker::TimePoint now = ticker.Now();
    p.seconds = std::chrono::duration<double>(now - t0).count();
    p.finished = p.ready + p.failed >= p.total;
    run.last = p;
    if (on_progress) on_progress(p);
    if (p.finished || now > deadline) break;
    ticker.SleepFor(kDemoRefresh);  // the progress display's refresh rate
  }
  return run;
}

std::optional<double> RecordedSeconds(const DemoRun& run, const std::vector<Campaign>& finished) {
  if (run.started_at.empty() || finished.empty()) return std::nullopt;
  SysTime first = run.started_at.begin()->second;
  for (const auto& [id, at] : run.started_at) first = std::min(first, at);
  SysTime last = finished.front().status_changed_at;
  for (const Campaign& c : finished) {
    if (c.status != CampaignStatus::kReadyToCreateEmail && c.status != CampaignStatus::kError) {
      return std::nullopt;
    }
    last = std::max(last, c.status_changed_at);
  }
  if (last <= first) return std::nullopt;
  return std::chrono::duration<double>(last - first).count();
}

LatencySummary SummarizeLatencies(std::vector<double> ms) {
  LatencySummary s;
  if (ms.empty()) return s;
  std::sort(ms.begin(), ms.end());
  auto pct = [&](double p) {
    return ms[std::min(ms.size() - 1, static_cast<size_t>(p * static_cast<double>(ms.size())))];
  };
  s.p50 = pct(0.5);
  s.p95 = pct(0.95);
  s.max = ms.back();
  return s;
}

}  // namespace dripr
