#pragma once
// The data-fetcher service: one consumer per part queue plus the outbox relay, over
// whatever Store, Bus and Provider the caller wired (see wiring.h). Start and Stop are the
// whole life cycle, in one place each (docs/decisions/shutdown.md).

#include <atomic>
#include <memory>
#include <vector>

#include "dripr/bus/bus.h"
#include "dripr/core/clock.h"
#include "dripr/fetcher/config.h"
#include "dripr/fetcher/consumer.h"
#include "dripr/fetcher/event_handlers.h"
#include "dripr/fetcher/fetcher_heartbeat.h"
#include "dripr/fetcher/outbox_relay.h"
#include "dripr/fetcher/reconciler.h"

namespace dripr {

class DataFetcher {
 public:
  // `ticker` (null: the real one) times every thread of the fetcher; `random` (null: the
  // real one) jitters the consumers' backoff. `metrics` (may be null) receives the consumers'
  // and the relay's metrics and heartbeats. Everything passed in must outlive the fetcher.
  DataFetcher(Store& store, Bus& bus, Provider& provider, const Clock& clock,
              const AppConfig& config, Ticker* ticker = nullptr, Metrics* metrics = nullptr,
              Random* random = nullptr);
  // Stops if running, then waits for handlers that overran the deadline (never detached),
  // so destroying a fetcher is always safe.
  ~DataFetcher();
  DataFetcher(const DataFetcher&) = delete;
  DataFetcher& operator=(const DataFetcher&) = delete;

  void Start();
  // Non-blocking: every consumer stops receiving at once and its long polls are
  // interrupted. Safe from any thread; Stop() does it too.
  void RequestStop();
  // Graceful stop with ONE deadline for the whole process, config.consumer.
  // shutdown_deadline from now: the consumers drain in parallel. Returns at the deadline
  // at the latest (plus the time to flush acknowledgements and outbox rows) with the
  // number of handlers still running; a second call returns at once.
  ShutdownReport Stop();

  // Sum over the three consumers.
  ConsumerStats Stats() const;
  const OutboxRelay& relay() const { return relay_; }
  Reconciler& reconciler() { return reconciler_; }
  const Reconciler& reconciler() const { return reconciler_; }
  // True between Start() and Stop() (readiness: the consumers are running).
  bool running() const { return running_; }
  // The monotonic time of this fetcher's threads (its ops server and readiness use it too).
  Ticker& ticker() const { return ticker_; }

 private:
  Ticker& ticker_;
  const std::chrono::milliseconds shutdown_deadline_;
  // Destroyed in reverse order: the relay, then the consumers (which wait for their
  // workers), then the handlers those workers used.
  std::vector<std::unique_ptr<PartEventHandler>> handlers_;
  std::vector<std::unique_ptr<Consumer>> consumers_;
  OutboxRelay relay_;
  Reconciler reconciler_;       // config.reconcile; only the lease holder among the fetchers acts
  FetcherHeartbeat heartbeat_;  // this process's row in `fetchers` while running
  std::atomic<bool> running_{false};
  ShutdownReport stop_report_;
};

}  // namespace dripr
