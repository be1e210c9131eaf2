#include "dripr/fetcher/reports.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "dripr/core/number.h"
#include "dripr/core/time.h"
#include "dripr/domain/event.h"
#include "dripr/fetcher/consumer.h"
#include "dripr/fetcher/dead_letters.h"
#include "dripr/fetcher/fetcher_heartbeat.h"

namespace dripr {
namespace {

using nlohmann::json;

json Opt(const std::optional<double>& v) { return v ? json(*v) : json(nullptr); }
json Opt(const std::optional<int64_t>& v) { return v ? json(*v) : json(nullptr); }
json Opt(const std::optional<int>& v) { return v ? json(*v) : json(nullptr); }

json RecordJson(const RankedRecord& r, bool sale) {
  const auto& p = r.record;
  json j = {{"rank", r.rank},
            {"score", std::round(r.score * 100) / 100},
            {"distance_miles", std::round(r.distance_miles * 100) / 100},
            {sale ? "sale_price" : "price", Opt(p.price)},
            {sale ? "sale_date" : "listed_date", p.event_date},
            {"formatted_address", p.formatted_address},
            {"city", p.city},
            {"state", p.state},
            {"zip_code", p.zip_code},
            {"property_type", p.property_type},
            {"bedrooms", Opt(p.bedrooms)},
            {"bathrooms", Opt(p.bathrooms)},
            {"square_footage", Opt(p.square_footage)},
            {"source_id", p.source_id}};
  if (!sale) j["days_on_market"] = Opt(p.days_on_market);
  if (p.location) {
    j["latitude"] = p.location->lat;
    j["longitude"] = p.location->lng;
  }
  return j;
}

json MonthJson(const MarketMonth& m) {
  return {{"month", m.month},
          {"average_price", Opt(m.average_price)},
          {"average_price_per_sqft", Opt(m.average_price_per_sqft)},
          {"average_days_on_market", Opt(m.average_days_on_market)},
          {"total_listings", Opt(m.total_listings)}};
}

double SecondsSince(SysTime t, SysTime now) {
  return std::chrono::duration<double>(now - t).count();
}

}  // namespace

Result<CampaignDetails> LoadDetails(Store& store, const CampaignId& id) {
  CampaignDetails d;
  DRIPR_ASSIGN_OR_RETURN(d.campaign, store.GetCampaign(id));
  DRIPR_ASSIGN_OR_RETURN(d.property, store.GetProperty(id));
  DRIPR_ASSIGN_OR_RETURN(d.listings, store.GetActiveListings(id));
  DRIPR_ASSIGN_OR_RETURN(d.sales, store.GetRecentSales(id));
  DRIPR_ASSIGN_OR_RETURN(d.market, store.LatestMarketData(d.campaign.zip_code));
  DRIPR_ASSIGN_OR_RETURN(d.events, store.OutboxForCampaign(id));
  return d;
}

json CampaignJson(const Campaign& c) {
  return {{"id", c.id.str()},
          {"user_id", c.user_id},
          {"zip_code", c.zip_code},
          {"no_address_newsletter", c.no_address_newsletter},
          {"campaign_status", ToString(c.status)},
          {"local_market_data_status", ToString(c.part(DataPart::kLocalMarketData))},
          {"active_listing_status", ToString(c.part(DataPart::kActiveListings))},
          {"recent_sale_status", ToString(c.part(DataPart::kRecentSales))},
          {"data_cycle", c.data_cycle},
          {"error_text", c.error_text.empty() ? json(nullptr) : json(c.error_text)},
          {"created_at", FormatIso8601(c.created_at)},
          {"updated_at", FormatIso8601(c.updated_at)},
          {"status_changed_at", FormatIso8601(c.status_changed_at)},
          {"parts_changed_at", FormatIso8601(c.parts_changed_at)},
          {"republish_count", c.republish_count},
          {"restart_count", c.restart_count}};
}

json DetailsJson(const CampaignDetails& d) {
  json j = CampaignJson(d.campaign);
  if (d.property) {
    j["property"] = {{"formatted_address", d.property->formatted_address},
                     {"latitude", d.property->location.lat},
                     {"longitude", d.property->location.lng},
                     {"current_value", Opt(d.property->current_value)}};
  } else {
    j["property"] = nullptr;
  }
  j["active_listings"] = json::array();
  for (const auto& r : d.listings) j["active_listings"].push_back(RecordJson(r, false));
  j["recent_sales"] = json::array();
  for (const auto& r : d.sales) j["recent_sales"].push_back(RecordJson(r, true));
  if (d.market) {
    j["local_market_data"] = {{"zip_code", d.market->zip_code},
                              {"current", MonthJson(d.market->current)},
                              {"previous", MonthJson(d.market->previous)},
                              {"created_at", FormatIso8601(d.market->created_at)}};
  } else {
    j["local_market_data"] = nullptr;
  }
  j["events"] = json::array();
  for (const auto& e : d.events) {
    json ev = json::parse(e.body, nullptr, false);
    j["events"].push_back({{"outbox_id", e.id},
                           {"event", ev.is_discarded() ? json(e.body) : ev},
                           {"created_at", FormatIso8601(e.created_at)}});
  }
  return j;
}

Result<std::vector<QueueFigures>> SampleQueues(Bus& bus) {
  std::vector<QueueFigures> out;
  for (DataPart p : kAllDataParts) {
    QueueFigures f;
    f.part = p;
    f.queue = bus.WorkQueue(p).Name();
    f.dlq = bus.DeadLetterQueue(p).Name();
    auto s = bus.WorkQueue(p).Stats();
    if (!s) return Fail(s.error().Wrap(f.queue));
    auto d = bus.DeadLetterQueue(p).Stats();
    if (!d) return Fail(d.error().Wrap(f.dlq));
    f.work = *s;
    f.dead = *d;
    out.push_back(std::move(f));
  }
  return out;
}

std::optional<double> OldestAgeSeconds(const QueueStats& s, SysTime now) {
  if (!s.oldest_known) return std::nullopt;
  if (!s.oldest_sent_at) return 0.0;
  return std::max(0.0, SecondsSince(*s.oldest_sent_at, now));
}

void ExportQueueGauges(Metrics& metrics, const std::vector<QueueFigures>& figures, SysTime now) {
  for (const auto& f : figures) {
    const std::string queue(ToString(f.part));
    for (const auto& [role, stats] : {std::pair<const char*, const QueueStats&>{"work", f.work},
                                      std::pair<const char*, const QueueStats&>{"dlq", f.dead}}) {
      for (const auto& [state, n] :
           {std::pair{"visible", stats.visible}, std::pair{"in_flight", stats.in_flight},
            std::pair{"delayed", stats.delayed}}) {
        metrics.Gauge(kQueueMessages, {{"queue", queue}, {"role", role}, {"state", state}})
            .Set(static_cast<double>(n));
      }
      if (auto age = OldestAgeSeconds(stats, now)) {
        metrics.Gauge(kQueueOldestAge, {{"queue", queue}, {"role", role}}).Set(*age);
      }
    }
  }
}

Result<json> QueuesReport(Bus& bus, Store& store, SysTime now) {
  DRIPR_ASSIGN_OR_RETURN(auto figures, SampleQueues(bus));
  json arr = json::array();
  for (const auto& f : figures) {
    arr.push_back({{"part", ToString(f.part)},
                   {"queue", f.queue},
                   {"visible", f.work.visible},
                   {"in_flight", f.work.in_flight},
                   {"delayed", f.work.delayed},
                   {"oldest_age_seconds", Opt(OldestAgeSeconds(f.work, now))},
                   {"dlq", f.dlq},
                   {"dlq_visible", f.dead.visible},
                   {"dlq_in_flight", f.dead.in_flight},
                   {"dlq_oldest_age_seconds", Opt(OldestAgeSeconds(f.dead, now))}});
  }
  // What the queue depths cannot show: events not yet published, and whether anyone consumes.
  auto backlog = store.PendingOutbox();
  if (!backlog) return Fail(backlog.error().Wrap("outbox"));
  auto fetchers = store.ListFetchers();
  if (!fetchers) return Fail(fetchers.error().Wrap("fetchers"));
  json outbox = {{"unpublished", backlog->pending},
                 {"oldest_created_at", nullptr},
                 {"oldest_age_seconds", nullptr}};
  if (backlog->oldest_created) {
    outbox["oldest_created_at"] = FormatIso8601(*backlog->oldest_created);
    outbox["oldest_age_seconds"] = SecondsSince(*backlog->oldest_created, now);
  }
  json instances = json::array();
  int alive = 0;
  for (const auto& f : *fetchers) {
    bool is_alive = FetcherAlive(f, now, kFetcherHeartbeatInterval);
    alive += is_alive;
    instances.push_back({{"instance_id", f.instance_id},
                         {"host", f.host},
                         {"pid", f.pid},
                         {"version", f.version},
                         {"started_at", FormatIso8601(f.started_at)},
                         {"heartbeat_at", FormatIso8601(f.heartbeat_at)},
                         {"heartbeat_age_seconds", SecondsSince(f.heartbeat_at, now)},
                         {"alive", is_alive}});
  }
  return json{{"queues", arr},
              {"outbox", outbox},
              {"fetchers", {{"alive", alive}, {"instances", instances}}}};
}

json DeadLetterJson(const ReceivedMessage& m, SysTime now) {
  int receive_count = m.receive_count;
  if (auto it = m.attributes.find(std::string(kReceiveCountAttribute)); it != m.attributes.end()) {
    if (auto recorded = ParseInt(it->second, 0, std::numeric_limits<int>::max())) {
      receive_count = static_cast<int>(*recorded);
    }
  }
  return {{"message_id", m.message_id},
          {"sent_at", FormatIso8601(m.sent_at)},
          {"age_seconds", SecondsSince(m.sent_at, now)},
          {"receive_count", receive_count},
          {"reason", DeadLetterReason(m)},
          {"attributes", m.attributes},
          {"body", m.body}};
}

}  // namespace dripr
