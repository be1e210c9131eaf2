#include "dripr/ops/readiness.h"

#include <fmt/format.h>

#include "dripr/core/log.h"

namespace dripr {

using SteadyClock = std::chrono::steady_clock;

PeriodicCheck::PeriodicCheck(std::string name, std::function<Status()> check,
                             std::chrono::milliseconds interval, std::chrono::milliseconds timeout)
    : name_(std::move(name)), check_(std::move(check)), interval_(interval), timeout_(timeout) {}

PeriodicCheck::~PeriodicCheck() { Stop(); }

void PeriodicCheck::Start() {
  if (thread_.joinable()) return;
  thread_ = std::thread([this] { Loop(); });
}

void PeriodicCheck::Stop() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void PeriodicCheck::Loop() {
  std::unique_lock lock(mu_);
  while (!stop_) {
    running_since_ = SteadyClock::now();
    lock.unlock();
    Status st = check_();
    lock.lock();
    if (!have_result_ || st.has_value() != last_.has_value()) {
      if (st) {
        DRIPR_LOG_INFO("readiness: {} ok", name_);
      } else {
        DRIPR_LOG_WARN("readiness: {} failing: {}", name_, st.error().ToString());
      }
    }
    last_ = std::move(st);
    have_result_ = true;
    running_since_ = {};
    cv_.wait_for(lock, interval_, [&] { return stop_; });
  }
}

CheckStatus PeriodicCheck::Current() const {
  std::lock_guard lock(mu_);
  CheckStatus c{name_, false, ""};
  const auto now = SteadyClock::now();
  if (running_since_ != SteadyClock::time_point{} && now - running_since_ > timeout_) {
    c.detail =
        fmt::format("no answer within {:g} s", std::chrono::duration<double>(timeout_).count());
    if (have_result_ && !last_) c.detail += " (last error: " + last_.error().ToString() + ")";
    return c;
  }
  if (!have_result_) {
    c.detail = "not checked yet";
    return c;
  }
  c.ok = last_.has_value();
  if (!c.ok) c.detail = last_.error().ToString();
  return c;
}

ReadinessProbe::ReadinessProbe(Store& store, Queue& queue, std::function<bool()> consumers_running,
                               Metrics& metrics, ReadinessOptions options)
    : store_(store),
      metrics_(metrics),
      consumers_running_(std::move(consumers_running)),
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
          options.interval, options.timeout),
      bus_(
          "bus",
          [&queue]() -> Status {
            DRIPR_TRY(queue.Stats());
            return Ok();
          },
          options.interval, options.timeout) {}

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
    age = std::max(0.0, std::chrono::duration<double>(std::chrono::system_clock::now() -
                                                      *g->oldest_unpublished)
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
    cv_.wait_for(lock, options_.sample_interval, [&] { return stop_; });
  }
}

}  // namespace dripr
