#pragma once
// How campaigns look on the terminal and in --json output (the JSON shape is a contract:
// tests and scripts read it).

#include <nlohmann/json.hpp>
#include <ostream>
#include <vector>

#include "dripr/fetcher/reports.h"
#include "dripr/store/store.h"

namespace dripr::cli {

using dripr::CampaignDetails;  // fetcher/reports.h (shared with the ops dashboard)
using dripr::CampaignJson;
using dripr::DetailsJson;
using dripr::LoadDetails;

void PrintDetails(const CampaignDetails& d, std::ostream& out);
void PrintCampaignTable(const std::vector<Campaign>& list, std::ostream& out);

// "$1,234,567" or "-" for nullopt.
std::string Money(std::optional<double> v);

}  // namespace dripr::cli
