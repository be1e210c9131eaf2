#pragma once
// publish_campaign_status_change: moves outbox rows to the campaign-events topic, in
// order, at least once (exactly once on the embedded bus in the store's file: RunOnce). Wakes as
// soon as a transaction commits an outbox row: in-process at once; other processes' rows by
// inotify on SQLite's WAL (1-2 ms), LISTEN/NOTIFY on PostgreSQL, an 80 ms poll on MySQL
// (docs/architecture.md, "Outbox wake-up"). A row no bus can take is set aside (Pass).

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <thread>

#include "dripr/bus/bus.h"
#include "dripr/core/clock.h"
#include "dripr/core/metrics.h"
#include "dripr/store/store.h"

namespace dripr {

struct OutboxRelayOptions {
  int batch_size = 50;
  int mark_every = 10;  // published rows are marked in the store in chunks of this many
  std::chrono::seconds claim_lease{30};
  std::chrono::milliseconds idle_wait{1000};  // fallback poll
  // After a failed publish or claim the thread waits this long (on its ticker) before the
  // next pass: the same pause after every failure, no growth (a pass is cheap, and the first
  // publish after the broker is back should not wait long).
  std::chrono::milliseconds error_backoff{1000};
  // Health: the loop is wedged when a pass takes longer than this (a pass is bounded by
  // the store's retry window and the bus's request timeouts).
  std::chrono::seconds max_silence{120};
};

class OutboxRelay {
 public:
  // `ticker` (null: the real one) times the error backoff; `metrics` (may be null):
  // dripr_events_published_total and the loop's heartbeat. Both must outlive the relay.
  OutboxRelay(Store& store, Topic& topic, OutboxRelayOptions options, Ticker* ticker = nullptr,
              Metrics* metrics = nullptr);
  ~OutboxRelay();
  OutboxRelay(const OutboxRelay&) = delete;
  OutboxRelay& operator=(const OutboxRelay&) = delete;

  void Start();
  void Stop();  // finishes the current batch, then returns

  // One pass: claim, publish, mark. Returns how many rows were published. Used by the
  // thread and by tools that want a synchronous flush (the demo, tests). When the topic
  // writes the store's own database through the same connection (Store::TransactionKey ==
  // Topic::TransactionKey: the embedded bus on the store's SQLite file), the pass is one
  // transaction and each row is published exactly once; otherwise (SQS, a separate bus file,
  // a networked store) at least once.
  Result<int> RunOnce();

  int64_t published() const { return published_; }
  // Rows set aside unpublished (Store::SetAsideOutbox) by this relay so far.
  int64_t set_aside() const { return set_aside_; }

 private:
  void Loop();
  // Claim, publish, mark, release what failed; `published` counts the rows marked.
  Status Pass(int& published);

  Store& store_;
  Topic& topic_;
  const OutboxRelayOptions options_;
  Ticker& ticker_;
  Metrics* const metrics_;  // may be null
  const MetricCounter published_metric_;
  std::atomic<bool> stop_{false};
  std::atomic<int64_t> published_{0};
  std::atomic<int64_t> set_aside_{0};
  std::mutex mu_;  // guards no data (stop_ is atomic, set under it): only the waits on cv_
  std::condition_variable cv_;
  std::thread thread_;
};

}  // namespace dripr
