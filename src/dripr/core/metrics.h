#pragma once
// Metrics: dripr's Prometheus metrics (docs/operations.md lists them) and the liveness
// heartbeats of its long-running loops, in one registry that every layer can record into.
//
// The registry lives in core/ so that the consumer engine, the outbox relay and the
// providers record without depending on the ops HTTP server (ops/), which only reads it.
// Values are kept by the Debian-packaged prometheus-cpp core library (docs/decisions/ops.md).
//
// Usage: resolve a handle once, then record on the hot path (an atomic add, or a short
// lock for histograms):
//
//   MetricCounter done = metrics.Counter(kMessagesHandled, {{"queue", q}, {"outcome", "done"}});
//   done.Increment();
//
// A `Metrics*` may be null everywhere it is accepted: handles resolved through the free
// functions below are then no-ops, so tests and CLI commands need no registry.
//
// Only the metric families of the catalogue (kMetricCatalogue) exist: asking for another
// name, or with label names the family does not declare, is a bug; it is logged once and
// yields a no-op handle. Thread-safe.

#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>

#include <atomic>
#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace prometheus {
class Registry;
}

namespace dripr {

using MetricLabels = std::map<std::string, std::string>;

// Metric names (the catalogue's entries).
inline constexpr std::string_view kMessagesReceived = "dripr_messages_received_total";
inline constexpr std::string_view kMessagesHandled = "dripr_messages_handled_total";
inline constexpr std::string_view kMessagesDeadLettered = "dripr_messages_dead_lettered_total";
inline constexpr std::string_view kHandlerDuration = "dripr_handler_duration_seconds";
inline constexpr std::string_view kEventAge = "dripr_event_age_seconds";
inline constexpr std::string_view kInFlight = "dripr_in_flight";
inline constexpr std::string_view kOutboxBacklog = "dripr_outbox_backlog";
inline constexpr std::string_view kOutboxOldestAge = "dripr_outbox_oldest_age_seconds";
inline constexpr std::string_view kEventsPublished = "dripr_events_published_total";
inline constexpr std::string_view kProviderRequests = "dripr_provider_requests_total";
inline constexpr std::string_view kProviderRequestDuration =
    "dripr_provider_request_duration_seconds";
inline constexpr std::string_view kCampaigns = "dripr_campaigns";
inline constexpr std::string_view kReconcilerActions = "dripr_reconciler_actions_total";
inline constexpr std::string_view kReconcilerLastPass =
    "dripr_reconciler_last_pass_timestamp_seconds";
inline constexpr std::string_view kQueueMessages = "dripr_queue_messages";
inline constexpr std::string_view kQueueOldestAge = "dripr_queue_oldest_message_age_seconds";
inline constexpr std::string_view kBuildInfo = "dripr_build_info";
inline constexpr std::string_view kTransitionBatches = "dripr_transition_batches_total";
inline constexpr std::string_view kTransitionsCombined = "dripr_transitions_combined_total";
inline constexpr std::string_view kTransitionsRerunAlone = "dripr_transitions_rerun_alone_total";
inline constexpr std::string_view kTransitionsQueued = "dripr_transitions_queued";

enum class MetricKind { kCounter, kGauge, kHistogram };

struct MetricSpec {
  std::string_view name;
  MetricKind kind;
  std::string_view help;
  std::vector<std::string_view> label_names;  // every sample carries exactly these
  std::vector<double> buckets;                // histograms only (upper bounds, seconds)
};

// Every metric dripr exports.
const std::vector<MetricSpec>& MetricCatalogue();

// A handle on one metric: cheap to copy, valid as long as the Metrics it came from;
// default-constructed (or resolved through a null Metrics*) it does nothing and reads 0. A
// call compiles for the kinds that have it (a counter has no Set, a histogram no Value).
template <class M>
class MetricHandle {
 public:
  MetricHandle() = default;
  explicit MetricHandle(M* m) : m_(m) {}

  void Increment(double by = 1) const {
    if (m_ != nullptr) m_->Increment(by);
  }
  void Decrement(double by = 1) const {
    if (m_ != nullptr) m_->Decrement(by);
  }
  void Set(double v) const {
    if (m_ != nullptr) m_->Set(v);
  }
  void Observe(double v) const {
    if (m_ != nullptr) m_->Observe(v);
  }
  double Value() const { return m_ != nullptr ? m_->Value() : 0; }

 private:
  M* m_ = nullptr;
};

using MetricCounter = MetricHandle<prometheus::Counter>;
using MetricGauge = MetricHandle<prometheus::Gauge>;
using MetricHistogram = MetricHandle<prometheus::Histogram>;

// A loop's proof of life for GET /healthz. The loop calls Beat() every time round; a
// heartbeat whose last beat is older than its `max_silence` is reported as wedged.
// A loop that is legitimately blocked for long (e.g. waiting for a free worker slot)
// calls SetWaiting(true) first and SetWaiting(false) after: waiting is not wedged.
class Heartbeat {
 public:
  Heartbeat(std::string name, std::chrono::milliseconds max_silence);
  void Beat();
  void SetWaiting(bool waiting);
  // Retire: the loop has ended on purpose (shutdown); it is no longer checked.
  void Stop();

  const std::string& name() const { return name_; }
  std::chrono::milliseconds max_silence() const { return max_silence_; }
  // Empty when alive; otherwise why not ("no beat for 93 s (limit 60 s)").
  std::string Problem(std::chrono::steady_clock::time_point now) const;

 private:
  const std::string name_;
  const std::chrono::milliseconds max_silence_;
  std::atomic<int64_t> last_beat_ns_;  // steady_clock since epoch
  std::atomic<bool> waiting_{false};
  std::atomic<bool> stopped_{false};
};

// A heartbeat handle; no-op when default-constructed.
class HeartbeatRef {
 public:
  HeartbeatRef() = default;
  explicit HeartbeatRef(Heartbeat* h) : h_(h) {}
  void Beat() const {
    if (h_ != nullptr) h_->Beat();
  }
  void SetWaiting(bool waiting) const {
    if (h_ != nullptr) h_->SetWaiting(waiting);
  }
  void Stop() const {
    if (h_ != nullptr) h_->Stop();
  }

 private:
  Heartbeat* h_ = nullptr;
};

class Metrics {
 public:
  Metrics();
  ~Metrics();
  Metrics(const Metrics&) = delete;
  Metrics& operator=(const Metrics&) = delete;

  MetricCounter Counter(std::string_view name, const MetricLabels& labels);
  MetricGauge Gauge(std::string_view name, const MetricLabels& labels);
  MetricHistogram Histogram(std::string_view name, const MetricLabels& labels);

  // Registers a loop's heartbeat (names need not be unique; each call makes a new one).
  HeartbeatRef AddHeartbeat(std::string name, std::chrono::milliseconds max_silence);
  // Problems of every live heartbeat ("receive active_listings#1: no beat for …"); empty
  // when all are alive.
  std::vector<std::string> HeartbeatProblems() const;

  // Prometheus text exposition format 0.0.4 of every family.
  std::string Expose() const;

 private:
  struct Family;
  Family* Find(std::string_view name, MetricKind kind, const MetricLabels& labels);

  std::shared_ptr<prometheus::Registry> registry_;
  std::map<std::string, std::unique_ptr<Family>, std::less<>> families_;  // constant after ctor
  mutable std::mutex heartbeats_mu_;
  std::vector<std::unique_ptr<Heartbeat>> heartbeats_;  // guarded by heartbeats_mu_
  std::mutex warned_mu_;
  std::vector<std::string> warned_;  // guarded by warned_mu_
};

// Null-safe lookups: a null `metrics` gives a no-op handle.
MetricCounter CounterOf(Metrics* metrics, std::string_view name, const MetricLabels& labels);
MetricGauge GaugeOf(Metrics* metrics, std::string_view name, const MetricLabels& labels);
MetricHistogram HistogramOf(Metrics* metrics, std::string_view name, const MetricLabels& labels);
HeartbeatRef HeartbeatOf(Metrics* metrics, std::string name, std::chrono::milliseconds max_silence);

// The handles of one queue's consumer, resolved once (queue = the part name).
struct QueueMetrics {
  MetricCounter received;
  MetricCounter done, retry, failure;  // dripr_messages_handled_total{outcome}
  MetricCounter dead_lettered;
  MetricHistogram handler_duration;
  MetricHistogram event_age;
  MetricGauge in_flight;

  static QueueMetrics For(Metrics* metrics, const std::string& queue);
};

}  // namespace dripr
