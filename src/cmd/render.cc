#include "cmd/render.h"

#include <fmt/format.h>

#include <cmath>

#include "dripr/core/text.h"
#include "dripr/core/time.h"
#include "dripr/domain/event.h"

namespace dripr::cli {
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

// Stored text on a terminal: rows other programs wrote may hold anything (TerminalSafe).
std::string T(std::string_view text) { return TerminalSafe(text); }

std::string Fixed(std::optional<double> v, int digits) {
  return v ? fmt::format("{:.{}f}", *v, digits) : "-";
}

}  // namespace

std::string Money(std::optional<double> v) {
  if (!v) return "-";
  auto n = static_cast<long long>(std::llround(*v));
  std::string digits = std::to_string(n < 0 ? -n : n);
  std::string out;
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out += ',';
    out += digits[i];
  }
  return (n < 0 ? "-$" : "$") + out;
}

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

void PrintDetails(const CampaignDetails& d, std::ostream& out) {
  const Campaign& c = d.campaign;
  out << fmt::format("campaign {}  zip {}  {}\n", T(c.id), T(c.zip_code),
                     d.property ? T(d.property->formatted_address) : "(no-address newsletter)");
  out << fmt::format("  status {}  data cycle {}\n", ToString(c.status), c.data_cycle);
  out << fmt::format("  parts: local market data {}, active listings {}, recent sales {}\n",
                     ToString(c.part(DataPart::kLocalMarketData)),
                     ToString(c.part(DataPart::kActiveListings)),
                     ToString(c.part(DataPart::kRecentSales)));
  if (!c.error_text.empty()) out << "  error: " << T(c.error_text) << "\n";
  if (d.market) {
    const auto& m = *d.market;
    out << fmt::format(
        "  market {} ({} vs {}): avg price {} (was {}), $/sqft {} (was {}), "
        "days on market {} (was {}), listings {} (was {})\n",
        T(m.zip_code), T(m.current.month), T(m.previous.month), Money(m.current.average_price),
        Money(m.previous.average_price), Fixed(m.current.average_price_per_sqft, 0),
        Fixed(m.previous.average_price_per_sqft, 0), Fixed(m.current.average_days_on_market, 0),
        Fixed(m.previous.average_days_on_market, 0),
        m.current.total_listings ? std::to_string(*m.current.total_listings) : "-",
        m.previous.total_listings ? std::to_string(*m.previous.total_listings) : "-");
  }
  auto table = [&](const char* title, const std::vector<RankedRecord>& rows, const char* date) {
    out << fmt::format("  {} ({})\n", title, rows.size());
    if (rows.empty()) return;
    out << fmt::format("    {:>4} {:>12} {:>10} {:>6} {:>5} {:>6} {:>7}  {}\n", "rank", "price",
                       date, "beds", "baths", "sqft", "miles", "address");
    for (const auto& r : rows) {
      const auto& p = r.record;
      out << fmt::format("    {:>4} {:>12} {:>10} {:>6} {:>5} {:>6} {:>7.2f}  {}\n", r.rank,
                         p.price ? Money(static_cast<double>(*p.price)) : "undisclosed",
                         T(p.event_date), p.bedrooms ? std::to_string(*p.bedrooms) : "-",
                         p.bathrooms ? fmt::format("{:g}", *p.bathrooms) : "-",
                         p.square_footage ? std::to_string(*p.square_footage) : "-",
                         r.distance_miles, T(p.formatted_address));
    }
  };
  table("active listings", d.listings, "listed");
  table("recent sales", d.sales, "sold");
  out << fmt::format("  events ({})\n", d.events.size());
  for (const auto& e : d.events) {
    auto ev = DecodeStatusChange(e.body);
    if (ev) {
      out << fmt::format("    #{} {} -> {} at {}\n", e.id,
                         ev->from_status ? ToString(*ev->from_status) : "?",
                         ToString(ev->to_status), FormatIso8601(ev->timestamp));
    }
  }
}

void PrintCampaignTable(const std::vector<Campaign>& list, std::ostream& out) {
  out << fmt::format("{:<24} {:<6} {:<22} {:<17} {:<17} {:<17} {}\n", "id", "zip", "status",
                     "market", "listings", "sales", "error");
  for (const auto& c : list) {
    out << fmt::format("{:<24} {:<6} {:<22} {:<17} {:<17} {:<17} {}\n", T(c.id), T(c.zip_code),
                       ToString(c.status), ToString(c.part(DataPart::kLocalMarketData)),
                       ToString(c.part(DataPart::kActiveListings)),
                       ToString(c.part(DataPart::kRecentSales)), T(c.error_text));
  }
  out << list.size() << " campaign(s)\n";
}

}  // namespace dripr::cli
