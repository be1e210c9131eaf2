#include "dripr/fetcher/data_fetcher.h"

#include "dripr/core/log.h"

namespace dripr {

DataFetcher::DataFetcher(Store& store, Bus& bus, Provider& provider, const Clock& clock,
                         const AppConfig& config, Ticker* ticker, Metrics* metrics, Random* random)
    : ticker_(OrRealTicker(ticker)),
      shutdown_deadline_(config.consumer.shutdown_deadline),
      relay_(store, bus.CampaignEvents(), config.relay, &ticker_, metrics),
      reconciler_(store, clock, ticker_,
                  [&] {
                    ReconcilerOptions o;
                    o.settings = config.reconcile;
                    return o;
                  }()),
      heartbeat_(store, clock, ticker_) {
  for (DataPart part : kAllDataParts) {
    handlers_.push_back(
        std::make_unique<PartEventHandler>(part, store, provider, clock, config.fetch));
    consumers_.push_back(std::make_unique<Consumer>(
        std::string(ToString(part)), bus.WorkQueue(part), &bus.DeadLetterQueue(part),
        *handlers_.back(), config.consumer, &ticker_, random, metrics));
  }
}

DataFetcher::~DataFetcher() {
  Stop();
  consumers_.clear();  // waits for handlers that overran the deadline, before handlers_ go
}

void DataFetcher::Start() {
  if (running_) return;
  running_ = true;
  relay_.Start();
  for (auto& c : consumers_) c->Start();
  reconciler_.Start();
  heartbeat_.Start();  // `dripr queues` shows this fetcher alive from now on
}

void DataFetcher::RequestStop() {
  for (auto& c : consumers_) c->RequestStop();
}

ShutdownReport DataFetcher::Stop() {
  if (!running_) return stop_report_;
  running_ = false;
  reconciler_.Stop();  // releases its lease: another fetcher takes over at once
  // 1. Stop receiving everywhere at once, so the consumers drain in parallel.
  const auto deadline = ticker_.Now() + shutdown_deadline_;
  RequestStop();
  // 2. Each consumer releases what it never started, lets its handlers finish up to the
  //    shared deadline and flushes its acknowledgements.
  ShutdownReport report;
  for (auto& c : consumers_) report += c->Join(deadline);
  // 3. Events committed by the last handlers still go out before the relay stops.
  if (auto r = relay_.RunOnce(); !r) {
    DRIPR_LOG_WARN("outbox relay at shutdown: {}", r.error().ToString());
  }
  relay_.Stop();
  heartbeat_.Stop();  // removes this fetcher's row
  stop_report_ = report;
  return report;
}

ConsumerStats DataFetcher::Stats() const {
  ConsumerStats total;
  for (const auto& c : consumers_) {
    auto s = c->Stats();
    total.received += s.received;
    total.done += s.done;
    total.retried += s.retried;
    total.failed += s.failed;
    total.released += s.released;
    total.lease_extensions += s.lease_extensions;
    total.delete_errors += s.delete_errors;
    total.receive_errors += s.receive_errors;
    total.in_flight += s.in_flight;
  }
  return total;
}

}  // namespace dripr
