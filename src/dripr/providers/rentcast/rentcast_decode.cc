#include "dripr/providers/rentcast/rentcast_decode.h"

#include <cmath>
#include <limits>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>

namespace dripr {
namespace {

using nlohmann::json;

// A member that is present and not null, or nullptr.
const json* Member(const json& j, const char* key) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return nullptr;
  return &*it;
}

std::optional<std::string> GetString(const json& j, const char* key, DecodeStats& stats) {
  const json* v = Member(j, key);
  if (!v) return std::nullopt;
  if (!v->is_string()) {
    ++stats.skipped_fields;
    return std::nullopt;
  }
  return v->get_ref<const std::string&>();
}

std::optional<double> GetNumber(const json& j, const char* key, DecodeStats& stats) {
  const json* v = Member(j, key);
  if (!v) return std::nullopt;
  if (!v->is_number()) {
    ++stats.skipped_fields;
    return std::nullopt;
  }
  double d = v->get<double>();
  if (!std::isfinite(d)) {
    ++stats.skipped_fields;
    return std::nullopt;
  }
  return d;
}

// A number in [min, max], rounded to an integer.
std::optional<int64_t> GetInteger(const json& j, const char* key, double min, double max,
                                  DecodeStats& stats) {
  auto d = GetNumber(j, key, stats);
  if (!d) return std::nullopt;
  if (*d < min || *d > max) {
    ++stats.skipped_fields;
    return std::nullopt;
  }
  return static_cast<int64_t>(std::llround(*d));
}

std::optional<int> GetSmallInt(const json& j, const char* key, DecodeStats& stats) {
  auto v = GetInteger(j, key, 0, std::numeric_limits<int>::max(), stats);
  if (!v) return std::nullopt;
  return static_cast<int>(*v);
}

// A date member as "YYYY-MM-DD", or "" (counted when present but unusable).
std::string GetDate(const json& j, const char* key, DecodeStats& stats) {
  auto s = GetString(j, key, stats);
  if (!s) return "";
  std::string d = DatePart(*s);
  if (d.empty()) ++stats.skipped_fields;
  return d;
}

bool AllDigits(std::string_view s) {
  for (char c : s) {
    if (c < '0' || c > '9') return false;
  }
  return !s.empty();
}

int ToInt(std::string_view s) {
  int v = 0;
  for (char c : s) v = v * 10 + (c - '0');
  return v;
}

// "YYYY-MM" → months since year 0, or -1.
int MonthIndex(std::string_view ym) {
  if (ym.size() != 7 || ym[4] != '-' || !AllDigits(ym.substr(0, 4)) ||
      !AllDigits(ym.substr(5, 2))) {
    return -1;
  }
  int month = ToInt(ym.substr(5, 2));
  if (month < 1 || month > 12) return -1;
  return ToInt(ym.substr(0, 4)) * 12 + month - 1;
}

std::optional<MarketMonth> DecodeMarketMonth(const json& j, std::string month, DecodeStats& stats) {
  if (!j.is_object()) {
    ++stats.skipped_records;
    return std::nullopt;
  }
  MarketMonth m;
  m.month = std::move(month);
  m.average_price = GetNumber(j, "averagePrice", stats);
  m.average_price_per_sqft = GetNumber(j, "averagePricePerSquareFoot", stats);
  m.average_days_on_market = GetNumber(j, "averageDaysOnMarket", stats);
  m.total_listings = GetInteger(j, "totalListings", 0, 1e12, stats);
  if (!m.average_price && !m.average_price_per_sqft && !m.average_days_on_market &&
      !m.total_listings) {
    ++stats.skipped_records;
    return std::nullopt;
  }
  return m;
}

}  // namespace

std::string DatePart(std::string_view iso) {
  if (iso.size() < 10) return "";
  std::string_view d = iso.substr(0, 10);
  if (d[4] != '-' || d[7] != '-' || !AllDigits(d.substr(0, 4)) || !AllDigits(d.substr(5, 2)) ||
      !AllDigits(d.substr(8, 2))) {
    return "";
  }
  int month = ToInt(d.substr(5, 2));
  int day = ToInt(d.substr(8, 2));
  if (month < 1 || month > 12 || day < 1 || day > 31) return "";
  if (iso.size() > 10 && iso[10] != 'T' && iso[10] != ' ') return "";
  return std::string(d);
}

std::optional<PropertyRecord> DecodePropertyRecord(const json& j, RentCastRecordKind kind,
                                                   DecodeStats& stats) {
  if (!j.is_object()) {
    ++stats.skipped_records;
    return std::nullopt;
  }
  PropertyRecord r;
  r.formatted_address = GetString(j, "formattedAddress", stats).value_or("");
  r.address_line1 = GetString(j, "addressLine1", stats).value_or("");
  r.city = GetString(j, "city", stats).value_or("");
  r.state = GetString(j, "state", stats).value_or("");
  r.zip_code = GetString(j, "zipCode", stats).value_or("");
  if (r.formatted_address.empty() && !r.address_line1.empty()) {
    // "3821 Hargis St, Austin, TX 78723", from whatever parts are there.
    r.formatted_address = r.address_line1;
    if (!r.city.empty()) r.formatted_address += ", " + r.city;
    if (!r.state.empty() || !r.zip_code.empty()) {
      r.formatted_address += ",";
      if (!r.state.empty()) r.formatted_address += " " + r.state;
      if (!r.zip_code.empty()) r.formatted_address += " " + r.zip_code;
    }
  }
  r.source_id = GetString(j, "id", stats).value_or("");
  if (r.source_id.empty()) r.source_id = r.formatted_address;
  if (r.source_id.empty()) {
    ++stats.skipped_records;
    return std::nullopt;
  }

  auto lat = GetNumber(j, "latitude", stats);
  auto lng = GetNumber(j, "longitude", stats);
  if (lat && lng && std::abs(*lat) <= 90 && std::abs(*lng) <= 180) {
    r.location = GeoPoint{*lat, *lng};
  } else if (lat || lng) {
    ++stats.skipped_fields;  // half a coordinate, or out of range
  }

  r.property_type = GetString(j, "propertyType", stats).value_or("");
  r.bedrooms = GetSmallInt(j, "bedrooms", stats);
  r.bathrooms = GetNumber(j, "bathrooms", stats);
  if (r.bathrooms && *r.bathrooms < 0) {
    r.bathrooms.reset();
    ++stats.skipped_fields;
  }
  r.square_footage = GetSmallInt(j, "squareFootage", stats);

  // A price of 0 is a placeholder, not a price: undisclosed stays nullopt, never 0.
  const char* price_key = kind == RentCastRecordKind::kListing ? "price" : "lastSalePrice";
  r.price = GetInteger(j, price_key, 1, 1e12, stats);
  if (kind == RentCastRecordKind::kListing) {
    r.event_date = GetDate(j, "listedDate", stats);
    r.days_on_market = GetSmallInt(j, "daysOnMarket", stats);
  } else {
    r.event_date = GetDate(j, "lastSaleDate", stats);
  }
  ++stats.records;
  return r;
}

Result<std::vector<PropertyRecord>> DecodePropertyRecords(std::string_view body,
                                                          RentCastRecordKind kind,
                                                          DecodeStats& stats) {
  json j = json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) {
    return Fail(ErrorCode::kUnavailable,
                "RentCast returned malformed JSON (" + std::to_string(body.size()) + " bytes)");
  }
  if (!j.is_array()) {
    return Fail(ErrorCode::kUnavailable, std::string("RentCast returned a JSON ") + j.type_name() +
                                             " where an array was expected");
  }
  std::vector<PropertyRecord> out;
  out.reserve(j.size());
  for (const json& e : j) {
    if (auto r = DecodePropertyRecord(e, kind, stats)) out.push_back(std::move(*r));
  }
  return out;
}

std::string SelectPreviousMonth(const std::vector<std::string>& months, const std::string& newest) {
  int newest_idx = MonthIndex(newest);
  if (newest_idx < 0) return "";
  int target = newest_idx - 3;
  int best = -1;
  std::string best_month;
  for (const std::string& m : months) {
    int idx = MonthIndex(m);
    if (idx < 0 || idx >= newest_idx) continue;
    int dist = std::abs(idx - target);
    int best_dist = best < 0 ? std::numeric_limits<int>::max() : std::abs(best - target);
    if (dist < best_dist || (dist == best_dist && idx < best)) {
      best = idx;
      best_month = m;
    }
  }
  return best_month;
}

Result<MarketData> DecodeMarket(const json& j, const std::string& zip, DecodeStats& stats) {
  auto no_data = [&](std::string why) {
    return Fail(ErrorCode::kNotFound,
                "RentCast has no sale market data for zip " + zip + " (" + why + ")");
  };
  if (!j.is_object()) return no_data("response is not an object");
  const json* sale = Member(j, "saleData");
  if (!sale || !sale->is_object()) {
    if (sale) ++stats.skipped_fields;
    return no_data("no saleData");
  }
  MarketData out;
  out.zip_code = zip;

  std::map<std::string, MarketMonth> months;  // ordered: newest last
  if (const json* history = Member(*sale, "history")) {
    if (!history->is_object()) {
      ++stats.skipped_fields;
    } else {
      for (const auto& [key, value] : history->items()) {
        if (MonthIndex(key) < 0) {
          ++stats.skipped_records;
          continue;
        }
        if (auto m = DecodeMarketMonth(value, key, stats)) months.emplace(key, std::move(*m));
      }
    }
  }
  if (!months.empty()) {
    out.current = months.rbegin()->second;
    std::vector<std::string> keys;
    for (const auto& [k, v] : months) keys.push_back(k);
    std::string prev = SelectPreviousMonth(keys, out.current.month);
    if (!prev.empty()) out.previous = months.at(prev);
    stats.records += static_cast<int>(months.size());
    return out;
  }
  // No usable history: the top-level statistics, dated by lastUpdatedDate.
  std::string updated = GetDate(*sale, "lastUpdatedDate", stats);
  if (updated.empty()) return no_data("no history and no lastUpdatedDate");
  auto current = DecodeMarketMonth(*sale, updated.substr(0, 7), stats);
  if (!current) return no_data("no usable statistics");
  out.current = std::move(*current);
  ++stats.records;
  return out;
}

}  // namespace dripr
