#pragma once
// The data-fetcher service: one consumer per part queue plus the outbox relay, over
// whatever Store, Bus and Provider the caller wired (see wiring.h).

#include <memory>
#include <vector>

#include "dripr/bus/bus.h"
#include "dripr/fetcher/config.h"
#include "dripr/fetcher/consumer.h"
#include "dripr/fetcher/event_handlers.h"
#include "dripr/fetcher/fetcher_heartbeat.h"
#include "dripr/fetcher/outbox_relay.h"

namespace dripr {

class DataFetcher {
 public:
  DataFetcher(Store& store, Bus& bus, Provider& provider, const Clock& clock,
              const AppConfig& config);
  ~DataFetcher();

  void Start();
  // Graceful stop (DESIGN §5); returns false when a handler overran the deadline.
  bool Stop();

  // Sum over the three consumers.
  ConsumerStats Stats() const;
  const OutboxRelay& relay() const { return relay_; }

 private:
  std::vector<std::unique_ptr<PartEventHandler>> handlers_;
  std::vector<std::unique_ptr<Consumer>> consumers_;
  OutboxRelay relay_;
  FetcherHeartbeat heartbeat_;  // this process's row in `fetchers` while running
  bool running_ = false;
};

}  // namespace dripr
