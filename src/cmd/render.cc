#include "cmd/render.h"

#include <fmt/format.h>

#include <cmath>

#include "dripr/core/text.h"
#include "dripr/core/time.h"
#include "dripr/domain/event.h"

namespace dripr::cli {
namespace {

using nlohmann::json;

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

void PrintDetails(const CampaignDetails& d, std::ostream& out) {
  const Campaign& c = d.campaign;
  out << fmt::format("campaign {}  zip {}  {}\n", T(c.id.view()), T(c.zip_code),
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
    out << fmt::format("{:<24} {:<6} {:<22} {:<17} {:<17} {:<17} {}\n", T(c.id.view()),
                       T(c.zip_code), ToString(c.status),
                       ToString(c.part(DataPart::kLocalMarketData)),
                       ToString(c.part(DataPart::kActiveListings)),
                       ToString(c.part(DataPart::kRecentSales)), T(c.error_text));
  }
  out << list.size() << " campaign(s)\n";
}

}  // namespace dripr::cli
