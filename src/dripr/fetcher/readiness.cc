#include "dripr/fetcher/readiness.h"

#include <fmt/format.h>

#include "dripr/core/clock.h"
#include "dripr/core/log.h"
#include "dripr/core/stop.h"
#include "dripr/core/thread_name.h"
#include "dripr/fetcher/reports.h"

namespace dripr {

ReadinessProbe::ReadinessProbe(Store& store, Bus& bus, std::function<bool()> consumers_running,
                               Metrics& metrics, Ticker& ticker, ReadinessOptions options)
    : store_(store),
      pipeline_bus_(bus),
      clock_(options.clock ? *options.clock : SystemClock::Instance()),
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
          [&queue = bus.WorkQueue(kAllDataParts[0])]() -> Status {
            DRIPR_TRY(queue.Stats());
            return Ok();
          },
          options.interval, options.timeout, ticker) {}

ReadinessProbe::~ReadinessProbe() { Stop(); }

void ReadinessProbe::Start() {
  database_.Start();
  bus_.Start();
  if (!sampler_.joinable()) {
    sampler_ = std::thread([this] {
      NameThisThread("readiness");
      SampleLoop();
    });
  }
}

void ReadinessProbe::Stop() {
  StopAndJoin(mu_, stop_, cv_, sampler_);
  database_.Stop();
  bus_.Stop();
}

std::vector<CheckStatus> ReadinessProbe::Checks() const {
  std::vector<CheckStatus> out = {database_.Current(), bus_.Current()};
  const bool running = consumers_running_();
  out.push_back({"consumers", running, running ? "" : "consumers are not running"});
  return out;
}

void ExportTransitionCombining(Metrics& metrics, const CombiningStats& now, CombiningStats& last) {
  // Resolved every time, so that the counters show (at 0) where nothing is combined.
  auto add = [&](std::string_view name, int64_t current, int64_t previous) {
    MetricCounter counter = metrics.Counter(name, {});
    if (current > previous) counter.Increment(static_cast<double>(current - previous));
  };
  add(kTransitionBatches, now.batches, last.batches);
  add(kTransitionsCombined, now.combined, last.combined);
  add(kTransitionsRerunAlone, now.ran_alone_after_failure, last.ran_alone_after_failure);
  metrics.Gauge(kTransitionsQueued, {}).Set(now.queued);
  last = now;
}

void ReadinessProbe::SampleOnce() {
  const SysTime now = clock_.Now();
  ExportTransitionCombining(metrics_, store_.transition_combining(), combining_sampled_);
  if (auto queues = SampleQueues(pipeline_bus_); queues) {
    ExportQueueGauges(metrics_, *queues, now);
  } else {
    DRIPR_LOG_DEBUG("metrics: could not sample the queues: {}", queues.error().ToString());
  }
  auto g = store_.SampleGauges();
  if (!g) {
    DRIPR_LOG_DEBUG("metrics: could not sample the store: {}", g.error().ToString());
    return;  // the gauges keep their last values; /readyz says why
  }
  const StatusCounts counts = CountsByStatus(g->campaigns_by_status);
  for (size_t i = 0; i < kAllCampaignStatuses.size(); ++i) {
    metrics_.Gauge(kCampaigns, {{"status", std::string(ToString(kAllCampaignStatuses[i]))}})
        .Set(static_cast<double>(counts[i]));
  }
  if (options_.history) options_.history->Record(now, counts);
  metrics_.Gauge(kOutboxBacklog, {}).Set(static_cast<double>(g->outbox_backlog));
  double age = 0;
  if (g->oldest_unpublished) {
    age = std::max(0.0, std::chrono::duration<double>(now - *g->oldest_unpublished).count());
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
