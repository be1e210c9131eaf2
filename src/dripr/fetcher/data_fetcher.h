#pragma once
// The data-fetcher service: one consumer per part queue plus the outbox relay, over
// whatever Store, Bus and Provider the caller wired (see wiring.h).

#include <atomic>
#include <memory>
#include <vector>

#include "dripr/bus/bus.h"
#include "dripr/fetcher/config.h"
#include "dripr/fetcher/consumer.h"
#include "dripr/fetcher/event_handlers.h"
#include "dripr/fetcher/outbox_relay.h"

namespace dripr {

class DataFetcher {
 public:
  // `metrics` (may be null; must outlive the fetcher) receives the consumers' and the
  // relay's metrics and heartbeats.
  DataFetcher(Store& store, Bus& bus, Provider& provider, const Clock& clock,
              const AppConfig& config, Metrics* metrics = nullptr);
  ~DataFetcher();

  void Start();
  // Graceful stop (DESIGN §5); returns false when a handler overran the deadline.
  bool Stop();

  // Sum over the three consumers.
  ConsumerStats Stats() const;
  const OutboxRelay& relay() const { return relay_; }
  // True between Start() and Stop() (readiness: the consumers are running).
  bool running() const { return running_; }

 private:
  std::vector<std::unique_ptr<PartEventHandler>> handlers_;
  std::vector<std::unique_ptr<Consumer>> consumers_;
  OutboxRelay relay_;
  std::atomic<bool> running_{false};
};

}  // namespace dripr
