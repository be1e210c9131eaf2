#pragma once
// How campaigns look on the terminal and in --json output (the JSON shape is a contract:
// tests and scripts read it).

#include <nlohmann/json.hpp>
#include <ostream>
#include <vector>

#include "dripr/store/store.h"

namespace dripr::cli {

struct CampaignDetails {
  Campaign campaign;
  std::optional<PropertyData> property;
  std::vector<RankedRecord> listings;
  std::vector<RankedRecord> sales;
  std::optional<MarketData> market;
  std::vector<OutboxRow> events;
};

Result<CampaignDetails> LoadDetails(Store& store, const std::string& id);

nlohmann::json CampaignJson(const Campaign& c);
nlohmann::json DetailsJson(const CampaignDetails& d);
void PrintDetails(const CampaignDetails& d, std::ostream& out);
void PrintCampaignTable(const std::vector<Campaign>& list, std::ostream& out);

// "$1,234,567" or "-" for nullopt.
std::string Money(std::optional<double> v);

}  // namespace dripr::cli
