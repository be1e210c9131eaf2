#pragma once
// Background probes behind GET /readyz and the sampled gauges of GET /metrics.
//
// Each check runs on its own thread every `interval` and keeps its last outcome, so a
// request never waits on the database or the broker. A check still running after
// `timeout` counts as failing ("no answer within 3 s"): a database whose calls hang (the
// store retries a lost connection for DRIPR_DB_RETRY_SECONDS) is reported within seconds.
//
// Checks: "database" (reachable, schema at the binary's version), "bus" (the first work
// queue answers its attribute request), "consumers" (the fetcher's consumers run).
// The sampler sets dripr_campaigns{status}, dripr_outbox_backlog and
// dripr_outbox_oldest_age_seconds from the store, and dripr_queue_messages and
// dripr_queue_oldest_message_age_seconds from the bus (fetcher/reports.h SampleQueues), every
// `sample_interval` (10 s), and adds the campaign counts to the overview chart's history; and
// the transitions' combining counters (dripr_transition_batches_total, …) from the store's own
// count (ExportTransitionCombining).

#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "dripr/bus/bus.h"
#include "dripr/core/metrics.h"
#include "dripr/fetcher/status_history.h"
#include "dripr/ops/periodic_check.h"
#include "dripr/store/store.h"

namespace dripr {

// Adds to the combining counters of `metrics` what `now` counts beyond `last` (the previous
// sample's) and sets dripr_transitions_queued; `last` becomes `now`. A count below `last` (a
// store opened afresh) adds nothing: counters never go back.
void ExportTransitionCombining(Metrics& metrics, const CombiningStats& now, CombiningStats& last);

struct ReadinessOptions {
  std::chrono::milliseconds interval{1000};
  std::chrono::milliseconds timeout{3000};
  std::chrono::milliseconds sample_interval{10000};
  const Clock* clock = nullptr;      // wall time of the samples; null: the system clock
  StatusHistory* history = nullptr;  // receives each campaign sample; may be null
};

class ReadinessProbe {
 public:
  // All references (and options.clock / options.history) must outlive the probe. The bus
  // check asks the first work queue; `metrics` receives the sampled gauges; `ticker` paces
  // the checks and the sampler.
  ReadinessProbe(Store& store, Bus& bus, std::function<bool()> consumers_running, Metrics& metrics,
                 Ticker& ticker, ReadinessOptions options = {});
  ~ReadinessProbe();
  void Start();
  void Stop();
  std::vector<CheckStatus> Checks() const;
  // One sample now (the sampler thread takes one every sample_interval; tests call it).
  void SampleOnce();

 private:
  void SampleLoop();

  Store& store_;
  Bus& pipeline_bus_;  // the queues sampled
  const Clock& clock_;
  Metrics& metrics_;
  const std::function<bool()> consumers_running_;
  Ticker& ticker_;
  const ReadinessOptions options_;
  PeriodicCheck database_;
  PeriodicCheck bus_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;  // guarded by mu_
  std::thread sampler_;
  CombiningStats combining_sampled_;  // the last sample's; SampleOnce's thread only
};

}  // namespace dripr
