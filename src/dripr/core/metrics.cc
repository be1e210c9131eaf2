#include "dripr/core/metrics.h"

#include <fmt/format.h>
#include <prometheus/family.h>
#include <prometheus/registry.h>
#include <prometheus/text_serializer.h>

#include <algorithm>
#include <exception>

#include "dripr/core/log.h"

namespace dripr {
namespace {

using SteadyClock = std::chrono::steady_clock;

int64_t NowNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(SteadyClock::now().time_since_epoch())
      .count();
}

}  // namespace

const std::vector<MetricSpec>& MetricCatalogue() {
  // Buckets in seconds. Handlers take milliseconds (sample) to tens of seconds (RentCast
  // with retries); event age spans a fast pipeline (ms) to a backlog after an outage (hours).
  static const std::vector<double> kHandlerBuckets = {0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5,
                                                      1,     2.5,  5,     10,   30,  60};
  static const std::vector<double> kAgeBuckets = {0.01, 0.05, 0.1, 0.25, 0.5, 1,    2.5,
                                                  5,    10,   30,  60,   300, 1800, 3600};
  static const std::vector<double> kProviderBuckets = {0.01, 0.025, 0.05, 0.1, 0.25, 0.5,
                                                       1,    2.5,   5,    10,  30};
  static const std::vector<MetricSpec> catalogue = {
      {kMessagesReceived,
       MetricKind::kCounter,
       "Messages received from a work queue.",
       {"queue"},
       {}},
      {kMessagesHandled,
       MetricKind::kCounter,
       "Messages handled, by outcome: done (deleted), retry (visible again after a backoff), "
       "failure (dead-lettered, campaign ERROR).",
       {"queue", "outcome"},
       {}},
      {kMessagesDeadLettered,
       MetricKind::kCounter,
       "Messages copied to the queue's DLQ.",
       {"queue"},
       {}},
      {kHandlerDuration,
       MetricKind::kHistogram,
       "Time a handler took for one message.",
       {"queue"},
       kHandlerBuckets},
      {kEventAge,
       MetricKind::kHistogram,
       "Time from an event's publication (the broker's SentTimestamp) to its pickup by a worker.",
       {"queue"},
       kAgeBuckets},
      {kInFlight, MetricKind::kGauge, "Messages received and not yet finished.", {"queue"}, {}},
      {kOutboxBacklog, MetricKind::kGauge, "Outbox rows not yet published (sampled).", {}, {}},
      {kOutboxOldestAge,
       MetricKind::kGauge,
       "Age of the oldest unpublished outbox row, 0 when none (sampled).",
       {},
       {}},
      {kEventsPublished,
       MetricKind::kCounter,
       "Outbox events published to the topic by this process.",
       {},
       {}},
      {kProviderRequests,
       MetricKind::kCounter,
       "Requests to a data provider, by HTTP status (or error kind for failures without one).",
       {"provider", "endpoint", "code"},
       {}},
      {kProviderRequestDuration,
       MetricKind::kHistogram,
       "Duration of one data provider request.",
       {"provider", "endpoint"},
       kProviderBuckets},
      {kCampaigns,
       MetricKind::kGauge,
       "Campaigns by status (sampled from the database).",
       {"status"},
       {}},
      {kReconcilerActions,
       MetricKind::kCounter,
       "Actions taken by the reconciler.",
       {"action"},
       {}},
      {kReconcilerLastPass,
       MetricKind::kGauge,
       "Unix time of this process's last reconciler pass that acted (it held the lease).",
       {},
       {}},
      {kQueueMessages,
       MetricKind::kGauge,
       "Messages per queue (role work or dlq) by state: visible, in_flight, delayed (sampled).",
       {"queue", "role", "state"},
       {}},
      {kQueueOldestAge,
       MetricKind::kGauge,
       "Age of the queue's oldest message, 0 if empty; embedded bus only (SQS: CloudWatch's "
       "ApproximateAgeOfOldestMessage) (sampled).",
       {"queue", "role"},
       {}},
      {kTransitionBatches,
       MetricKind::kCounter,
       "Transactions that combined several concurrent campaign transitions (PostgreSQL; "
       "sampled).",
       {},
       {}},
      {kTransitionsCombined,
       MetricKind::kCounter,
       "Campaign transitions that went in a combined transaction (sampled).",
       {},
       {}},
      {kTransitionsRerunAlone,
       MetricKind::kCounter,
       "Campaign transitions run again alone after their combined transaction failed (sampled).",
       {},
       {}},
      {kTransitionsQueued,
       MetricKind::kGauge,
       "Campaign transitions waiting for a combined transaction (sampled).",
       {},
       {}},
      {kBuildInfo,
       MetricKind::kGauge,
       "Always 1; the labels describe this build and its backends.",
       {"version", "store", "bus", "provider"},
       {}},
  };
  return catalogue;
}

// --- Heartbeat ---------------------------------------------------------------------------

Heartbeat::Heartbeat(std::string name, std::chrono::milliseconds max_silence)
    : name_(std::move(name)), max_silence_(max_silence), last_beat_ns_(NowNs()) {}

void Heartbeat::Beat() { last_beat_ns_.store(NowNs(), std::memory_order_relaxed); }

void Heartbeat::SetWaiting(bool waiting) {
  waiting_ = waiting;
  Beat();
}

void Heartbeat::Stop() { stopped_ = true; }

std::string Heartbeat::Problem(SteadyClock::time_point now) const {
  if (stopped_ || waiting_) return "";
  const auto last = SteadyClock::time_point(std::chrono::nanoseconds(last_beat_ns_.load()));
  const auto silent = std::chrono::duration_cast<std::chrono::milliseconds>(now - last);
  if (silent <= max_silence_) return "";
  return fmt::format("{}: no progress for {:.1f} s (limit {:.1f} s)", name_,
                     static_cast<double>(silent.count()) / 1000,
                     static_cast<double>(max_silence_.count()) / 1000);
}

// --- Metrics -----------------------------------------------------------------------------

struct Metrics::Family {
  const MetricSpec* spec = nullptr;
  prometheus::Family<prometheus::Counter>* counters = nullptr;
  prometheus::Family<prometheus::Gauge>* gauges = nullptr;
  prometheus::Family<prometheus::Histogram>* histograms = nullptr;
};

Metrics::Metrics() : registry_(std::make_shared<prometheus::Registry>()) {
  for (const auto& spec : MetricCatalogue()) {
    auto f = std::make_unique<Family>();
    f->spec = &spec;
    const std::string name(spec.name);
    const std::string help(spec.help);
    switch (spec.kind) {
      case MetricKind::kCounter:
        f->counters = &prometheus::BuildCounter().Name(name).Help(help).Register(*registry_);
        break;
      case MetricKind::kGauge:
        f->gauges = &prometheus::BuildGauge().Name(name).Help(help).Register(*registry_);
        break;
      case MetricKind::kHistogram:
        f->histograms = &prometheus::BuildHistogram().Name(name).Help(help).Register(*registry_);
        break;
    }
    families_.emplace(name, std::move(f));
  }
}

Metrics::~Metrics() = default;

Metrics::Family* Metrics::Find(std::string_view name, MetricKind kind, const MetricLabels& labels) {
  auto it = families_.find(name);
  std::string problem;
  if (it == families_.end()) {
    problem = fmt::format("unknown metric {}", name);
  } else if (it->second->spec->kind != kind) {
    problem = fmt::format("metric {} used as the wrong type", name);
  } else {
    const auto& want = it->second->spec->label_names;
    bool same = want.size() == labels.size();
    for (const auto& w : want) same = same && labels.contains(std::string(w));
    if (!same) problem = fmt::format("metric {} used with the wrong label names", name);
  }
  if (problem.empty()) return it->second.get();
  // A programming error: say so once, record nothing, keep running.
  std::lock_guard lock(warned_mu_);
  if (std::find(warned_.begin(), warned_.end(), problem) == warned_.end()) {
    warned_.push_back(problem);
    DRIPR_LOG_ERROR("metrics: {} (bug; not recorded)", problem);
  }
  return nullptr;
}

MetricCounter Metrics::Counter(std::string_view name, const MetricLabels& labels) {
  Family* f = Find(name, MetricKind::kCounter, labels);
  if (f == nullptr) return {};
  return MetricCounter(&f->counters->Add(labels));
}

MetricGauge Metrics::Gauge(std::string_view name, const MetricLabels& labels) {
  Family* f = Find(name, MetricKind::kGauge, labels);
  if (f == nullptr) return {};
  return MetricGauge(&f->gauges->Add(labels));
}

MetricHistogram Metrics::Histogram(std::string_view name, const MetricLabels& labels) {
  Family* f = Find(name, MetricKind::kHistogram, labels);
  if (f == nullptr) return {};
  // Family::Add returns the existing series for labels already added (buckets are the
  // same: they come from the catalogue).
  return MetricHistogram(&f->histograms->Add(labels, f->spec->buckets));
}

HeartbeatRef Metrics::AddHeartbeat(std::string name, std::chrono::milliseconds max_silence) {
  std::lock_guard lock(heartbeats_mu_);
  heartbeats_.push_back(std::make_unique<Heartbeat>(std::move(name), max_silence));
  return HeartbeatRef(heartbeats_.back().get());
}

std::vector<std::string> Metrics::HeartbeatProblems() const {
  const auto now = SteadyClock::now();
  std::vector<std::string> out;
  std::lock_guard lock(heartbeats_mu_);
  for (const auto& h : heartbeats_) {
    if (auto p = h->Problem(now); !p.empty()) out.push_back(std::move(p));
  }
  return out;
}

std::string Metrics::Expose() const {
  return prometheus::TextSerializer().Serialize(registry_->Collect());
}

MetricCounter CounterOf(Metrics* metrics, std::string_view name, const MetricLabels& labels) {
  return metrics != nullptr ? metrics->Counter(name, labels) : MetricCounter();
}

MetricGauge GaugeOf(Metrics* metrics, std::string_view name, const MetricLabels& labels) {
  return metrics != nullptr ? metrics->Gauge(name, labels) : MetricGauge();
}

MetricHistogram HistogramOf(Metrics* metrics, std::string_view name, const MetricLabels& labels) {
  return metrics != nullptr ? metrics->Histogram(name, labels) : MetricHistogram();
}

HeartbeatRef HeartbeatOf(Metrics* metrics, std::string name,
                         std::chrono::milliseconds max_silence) {
  return metrics != nullptr ? metrics->AddHeartbeat(std::move(name), max_silence) : HeartbeatRef();
}

QueueMetrics QueueMetrics::For(Metrics* metrics, const std::string& queue) {
  QueueMetrics q;
  const MetricLabels by_queue = {{"queue", queue}};
  q.received = CounterOf(metrics, kMessagesReceived, by_queue);
  q.done = CounterOf(metrics, kMessagesHandled, {{"queue", queue}, {"outcome", "done"}});
  q.retry = CounterOf(metrics, kMessagesHandled, {{"queue", queue}, {"outcome", "retry"}});
  q.failure = CounterOf(metrics, kMessagesHandled, {{"queue", queue}, {"outcome", "failure"}});
  q.dead_lettered = CounterOf(metrics, kMessagesDeadLettered, by_queue);
  q.handler_duration = HistogramOf(metrics, kHandlerDuration, by_queue);
  q.event_age = HistogramOf(metrics, kEventAge, by_queue);
  q.in_flight = GaugeOf(metrics, kInFlight, by_queue);
  return q;
}

}  // namespace dripr
