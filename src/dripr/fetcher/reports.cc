#include "dripr/fetcher/reports.h"

#include <cmath>

#include "dripr/core/time.h"
#include "dripr/domain/event.h"
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

Result<CampaignDetails> LoadDetails(Store& store, const std::string& id) {
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
  return {{"id", c.id},
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

Result<json> QueuesReport(Bus& bus, Store& store, SysTime now) {
  json arr = json::array();
  for (DataPart p : kAllDataParts) {
    auto s = bus.WorkQueue(p).Stats();
    if (!s) return Fail(s.error().Wrap(bus.WorkQueue(p).Name()));
    auto d = bus.DeadLetterQueue(p).Stats();
    if (!d) return Fail(d.error().Wrap(bus.DeadLetterQueue(p).Name()));
    arr.push_back({{"part", ToString(p)},
                   {"queue", bus.WorkQueue(p).Name()},
                   {"visible", s->visible},
                   {"in_flight", s->in_flight},
                   {"dlq", bus.DeadLetterQueue(p).Name()},
                   {"dlq_visible", d->visible},
                   {"dlq_in_flight", d->in_flight}});
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
  return {{"message_id", m.message_id},
          {"sent_at", FormatIso8601(m.sent_at)},
          {"age_seconds", SecondsSince(m.sent_at, now)},
          {"receive_count", m.receive_count},
          {"reason", DeadLetterReason(m)},
          {"attributes", m.attributes},
          {"body", m.body}};
}

}  // namespace dripr
