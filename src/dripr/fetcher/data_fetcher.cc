#include "dripr/fetcher/data_fetcher.h"

#include "dripr/core/log.h"

namespace dripr {

DataFetcher::DataFetcher(Store& store, Bus& bus, Provider& provider, const Clock& clock,
                         const AppConfig& config)
    : relay_(store, bus.CampaignEvents(), config.relay), heartbeat_(store, clock) {
  for (DataPart part : kAllDataParts) {
    handlers_.push_back(
        std::make_unique<PartEventHandler>(part, store, provider, clock, config.fetch));
    consumers_.push_back(std::make_unique<Consumer>(std::string(ToString(part)),
                                                    bus.WorkQueue(part), &bus.DeadLetterQueue(part),
                                                    *handlers_.back(), config.consumer));
  }
}

DataFetcher::~DataFetcher() { Stop(); }

void DataFetcher::Start() {
  if (running_) return;
  running_ = true;
  relay_.Start();
  for (auto& c : consumers_) c->Start();
  heartbeat_.Start();  // `dripr queues` shows this fetcher alive from now on
}

bool DataFetcher::Stop() {
  if (!running_) return true;
  running_ = false;
  for (auto& c : consumers_) c->RequestStop();
  bool ok = true;
  for (auto& c : consumers_) ok = c->Join() && ok;
  // Events committed by the last handlers still go out before the relay stops.
  if (auto r = relay_.RunOnce(); !r) {
    DRIPR_LOG_WARN("outbox relay at shutdown: {}", r.error().ToString());
  }
  relay_.Stop();
  heartbeat_.Stop();  // removes this fetcher's row
  return ok;
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
