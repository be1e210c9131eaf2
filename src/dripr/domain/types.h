#pragma once
// Domain records shared by the store, providers and handlers.

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "dripr/core/clock.h"
#include "dripr/domain/campaign_id.h"
#include "dripr/domain/status.h"

namespace dripr {

struct GeoPoint {
  double lat = 0;
  double lng = 0;
  // Without it the defaulted == of PropertyRecord/RankedRecord/PropertyData is deleted.
  bool operator==(const GeoPoint&) const = default;
};

// Subject property of a campaign (absent for no-address newsletters).
struct PropertyData {
  std::string formatted_address;
  GeoPoint location;
  std::optional<int64_t> current_value;
};

struct Campaign {
  CampaignId id;
  std::string user_id;
  std::string zip_code;  // always 5 digits
  bool no_address_newsletter = false;
  CampaignStatus status = CampaignStatus::kDormant;
  std::array<PartStatus, 3> parts = {PartStatus::kDormant, PartStatus::kDormant,
                                     PartStatus::kDormant};  // indexed by DataPart
  int64_t data_cycle = 0;
  std::string error_text;  // empty unless ERROR
  SysTime created_at{};
  SysTime updated_at{};
  SysTime status_changed_at{};
  // When any part status last changed (the reconciler's "has not moved" clock). Rows written
  // by other producers may have none: stores read it as status_changed_at then.
  SysTime parts_changed_at{};
  int republish_count = 0;  // reconciler republishes of the current data cycle's event
  int restart_count = 0;    // automatic restarts since the campaign last completed or was reset

  PartStatus part(DataPart p) const { return parts[static_cast<size_t>(p)]; }
  PartStatus& part(DataPart p) { return parts[static_cast<size_t>(p)]; }
  bool operator==(const Campaign&) const = default;
};

// What `campaign create` supplies.
// Its fields are outside input until ValidateNewCampaign (domain/campaign_rules.h) has checked
// them, the id with CampaignId's rule; the store builds the Campaign's CampaignId from it.
struct NewCampaign {
  std::string id;
  std::string user_id;
  std::string zip_code;
  std::optional<PropertyData> property;  // nullopt: no-address newsletter
};

// One listing or sale as a provider returns it; field names follow RESO where they can
// (ListPrice/ClosePrice → price, ListingContractDate/CloseDate → event_date).
struct PropertyRecord {
  std::string source_id;  // provider id, e.g. RentCast "3821-Hargis-St,-Austin,-TX-78723"
  std::string formatted_address;
  std::string address_line1;
  std::string city;
  std::string state;
  std::string zip_code;
  std::optional<GeoPoint> location;
  std::string property_type;
  std::optional<int> bedrooms;
  std::optional<double> bathrooms;
  std::optional<int> square_footage;
  std::optional<int64_t> price;  // list price (listing) or sale price (sale); nullopt = undisclosed
  std::string event_date;        // listed date (listing) or sale date (sale), "YYYY-MM-DD"
  std::optional<int> days_on_market;  // listings
  bool operator==(const PropertyRecord&) const = default;
};

// A record chosen for a campaign, with its place in the ranking.
struct RankedRecord {
  PropertyRecord record;
  int rank = 0;  // 1 = best
  double score = 0;
  double distance_miles = 0;
  bool operator==(const RankedRecord&) const = default;
};

// Zip-level market statistics for one month.
struct MarketMonth {
  std::string month;  // "YYYY-MM"
  std::optional<double> average_price;
  std::optional<double> average_price_per_sqft;
  std::optional<double> average_days_on_market;
  std::optional<int64_t> total_listings;
  bool operator==(const MarketMonth&) const = default;
};

// The newest month against the month about three months earlier (docs/contracts.md §3).
struct MarketData {
  std::string zip_code;
  MarketMonth current;
  MarketMonth previous;  // month may be empty when the provider has no history
  SysTime created_at{};
  bool operator==(const MarketData&) const = default;
};

}  // namespace dripr
