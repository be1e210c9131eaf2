#include "dripr/fetcher/demo.h"

#include <fmt/format.h>

#include <algorithm>
#include <thread>

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

Result<DemoRun> RunDemo(Store& store, const std::vector<NewCampaign>& plan, const Clock& clock,
                        std::chrono::seconds timeout,
                        const std::function<void(const DemoProgress&)>& on_progress) {
  DemoRun run;
  const SysTime t0 = clock.Now();
  for (const NewCampaign& nc : plan) {
    DRIPR_ASSIGN_OR_RETURN(const Campaign created, store.CreateCampaign(nc));
    DRIPR_ASSIGN_OR_RETURN(auto s, store.StartCampaign(created.id));
    run.started_at[created.id] = s.campaign.status_changed_at;
    run.ids.push_back(created.id);
  }
  const SysTime deadline = t0 + timeout;
  while (true) {
    DRIPR_ASSIGN_OR_RETURN(auto all, store.ListCampaigns(std::nullopt));
    DemoProgress p;
    p.total = static_cast<int>(run.ids.size());
    for (const auto& c : all) {
      if (!run.started_at.contains(c.id)) continue;
      p.ready += c.status == CampaignStatus::kReadyToCreateEmail;
      p.failed += c.status == CampaignStatus::kError;
    }
    const SysTime now = clock.Now();
    p.seconds = std::chrono::duration<double>(now - t0).count();
    p.finished = p.ready + p.failed == p.total;
    run.last = p;
    if (on_progress) on_progress(p);
    if (p.finished || now > deadline) break;
    std::this_thread::sleep_for(kDemoRefresh);  // the progress display's refresh rate
  }
  return run;
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
