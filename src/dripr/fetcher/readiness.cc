#include "dripr/fetcher/readiness.h"

#include <fmt/format.h>

#include "dripr/core/clock.h"
#include "dripr/core/log.h"

namespace dripr {

ReadinessProbe::ReadinessProbe(Store& store, Queue& queue, std::function<bool()> consumers_running,
                               Metrics& metrics, Ticker& ticker, ReadinessOptions options)
    : store_(store),
      metrics_(metrics),
      consumers_running_(std::move(consumers_running)),
      ticker_(ticker),
      options_(options),
      database_(
          "database",
          [&store]() -> Status {
            DRIPR_ASSIGN_OR_RETURN(int version, store.SchemaVersion());
            if (version != store.LatestSchemaVersion()) {
              return Fail(ErrorCode::kFailedPrecondition,
                          fmt::format("schema version {}, this binary needs {} (run dripr migrate)",
                                      version, store.LatestSchemaVersion()));
            }
            return Ok();
          },
          options.interval, options.timeout, ticker),
      bus_(
          "bus",
          [&queue]() -> Status {
            DRIPR_TRY(queue.Stats());
            return Ok();
          },
          options.interval, options.timeout, ticker) {}

ReadinessProbe::~ReadinessProbe() { Stop(); }

void ReadinessProbe::Start() {
  database_.Start();
  bus_.Start();
  if (!sampler_.joinable()) sampler_ = std::thread([this] { SampleLoop(); });
}

void ReadinessProbe::Stop() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (sampler_.joinable()) sampler_.join();
  database_.Stop();
  bus_.Stop();
}

std::vector<CheckStatus> ReadinessProbe::Checks() const {
  std::vector<CheckStatus> out = {database_.Current(), bus_.Current()};
  const bool running = consumers_running_();
  out.push_back({"consumers", running, running ? "" : "consumers are not running"});
  return out;
}

void ReadinessProbe::SampleOnce() {
  auto g = store_.SampleGauges();
  if (!g) {
    DRIPR_LOG_DEBUG("metrics: could not sample the store: {}", g.error().ToString());
    return;  // the gauges keep their last values; /readyz says why
  }
  for (CampaignStatus s :
       {CampaignStatus::kDormant, CampaignStatus::kWaitingForData,
        CampaignStatus::kWaitingForHomeAnalysis, CampaignStatus::kReadyToCreateEmail,
        CampaignStatus::kFetching, CampaignStatus::kWaitingForManualApproval,
        CampaignStatus::kReadyToSendEmail, CampaignStatus::kUnsubscribed, CampaignStatus::kError}) {
    const std::string name(ToString(s));
    auto it = g->campaigns_by_status.find(name);
    metrics_.Gauge(kCampaigns, {{"status", name}})
        .Set(it == g->campaigns_by_status.end() ? 0 : static_cast<double>(it->second));
  }
  metrics_.Gauge(kOutboxBacklog, {}).Set(static_cast<double>(g->outbox_backlog));
  double age = 0;
  if (g->oldest_unpublished) {
    age = std::max(
        0.0, std::chrono::duration<double>(SystemClock::Instance().Now() - *g->oldest_unpublished)
                 .count());
  }
  metrics_.Gauge(kOutboxOldestAge, {}).Set(age);
}

void ReadinessProbe::SampleLoop() {
  std::unique_lock lock(mu_);
  while (!stop_) {
    lock.unlock();
    SampleOnce();
    lock.lock();
    ticker_.WaitFor(lock, cv_, options_.sample_interval, [&] { return stop_; });
  }
}

}  // namespace dripr
