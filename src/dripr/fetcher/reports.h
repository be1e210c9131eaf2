#pragma once
// The JSON reports the CLI prints with --json and the ops dashboard's /api/ serves: one
// implementation per figure (`dripr queues --json`, `dripr dlq list --json`, `dripr campaign
// show --json`), so a number on the dashboard is the number the CLI shows. The JSON shapes are
// contracts (tests and scripts read them; docs/operations.md).

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "dripr/bus/bus.h"
#include "dripr/core/clock.h"
#include "dripr/core/metrics.h"
#include "dripr/store/store.h"

namespace dripr {

// Everything `campaign show` shows.
struct CampaignDetails {
  Campaign campaign;
  std::optional<PropertyData> property;
  std::vector<RankedRecord> listings;
  std::vector<RankedRecord> sales;
  std::optional<MarketData> market;
  std::vector<OutboxRow> events;  // oldest first
};

Result<CampaignDetails> LoadDetails(Store& store, const CampaignId& id);

nlohmann::json CampaignJson(const Campaign& c);
nlohmann::json DetailsJson(const CampaignDetails& d);

// One part's work queue and DLQ as the bus reports them: the figures behind `dripr queues`,
// the dashboard's queue table and the dripr_queue_* gauges of /metrics.
struct QueueFigures {
  DataPart part = DataPart::kLocalMarketData;
  std::string queue, dlq;  // names
  QueueStats work, dead;
};
Result<std::vector<QueueFigures>> SampleQueues(Bus& bus);

// Age of the queue's oldest message at `now`, in seconds: 0 when the queue is empty, nullopt
// when the backend does not measure it (SQS; docs/decisions/dashboard.md).
std::optional<double> OldestAgeSeconds(const QueueStats& s, SysTime now);

// Sets dripr_queue_messages{queue, role, state} and dripr_queue_oldest_message_age_seconds
// {queue, role} (role "work" or "dlq"; the age only where the backend measures it).
void ExportQueueGauges(Metrics& metrics, const std::vector<QueueFigures>& figures, SysTime now);

// `dripr queues --json`: {"queues":[{part, queue, visible, in_flight, delayed,
// oldest_age_seconds, dlq, dlq_visible, dlq_in_flight, dlq_oldest_age_seconds}],
// "outbox":{unpublished, oldest_created_at, oldest_age_seconds}, "fetchers":{alive,
// instances:[…]}} at `now` (an oldest age is null where the backend does not measure it).
Result<nlohmann::json> QueuesReport(Bus& bus, Store& store, SysTime now);

// One dead letter as `dripr dlq list --json` shows it: message_id, sent_at, age_seconds,
// receive_count, reason, attributes, body. receive_count is the consumer's attempts as it
// recorded them when it dead-lettered the message (attribute dripr_receive_count), else the
// count the bus reports, which a peek (PeekQueue) leaves alone on the embedded bus and raises
// by one on SQS.
nlohmann::json DeadLetterJson(const ReceivedMessage& m, SysTime now);

}  // namespace dripr
