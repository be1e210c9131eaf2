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

Result<CampaignDetails> LoadDetails(Store& store, const std::string& id);

nlohmann::json CampaignJson(const Campaign& c);
nlohmann::json DetailsJson(const CampaignDetails& d);

// `dripr queues --json`: {"queues":[{part, queue, visible, in_flight, dlq, dlq_visible,
// dlq_in_flight}], "outbox":{unpublished, oldest_created_at, oldest_age_seconds},
// "fetchers":{alive, instances:[…]}} at `now`.
Result<nlohmann::json> QueuesReport(Bus& bus, Store& store, SysTime now);

// One dead letter as `dripr dlq list --json` shows it: message_id, sent_at, age_seconds,
// receive_count, reason, attributes, body.
nlohmann::json DeadLetterJson(const ReceivedMessage& m, SysTime now);

}  // namespace dripr
