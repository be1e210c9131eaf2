#include "dripr/domain/status.h"

#include <string>

#include "dripr/core/enum_names.h"

namespace dripr {
namespace {

constexpr auto kCampaignNames = EnumNames<CampaignStatus>({
    {CampaignStatus::kDormant, "DORMANT"},
    {CampaignStatus::kWaitingForData, "WAITING_FOR_DATA"},
    {CampaignStatus::kWaitingForHomeAnalysis, "WAITING_FOR_HOME_ANALYSIS"},
    {CampaignStatus::kReadyToCreateEmail, "READY_TO_CREATE_EMAIL"},
    {CampaignStatus::kFetching, "FETCHING"},
    {CampaignStatus::kWaitingForManualApproval, "WAITING_FOR_MANUAL_APPROVAL"},
    {CampaignStatus::kReadyToSendEmail, "READY_TO_SEND_EMAIL"},
    {CampaignStatus::kUnsubscribed, "UNSUBSCRIBED"},
    {CampaignStatus::kError, "ERROR"},
});

constexpr auto kPartNames = EnumNames<PartStatus>({
    {PartStatus::kDormant, "DORMANT"},
    {PartStatus::kWaitingForData, "WAITING_FOR_DATA"},
    {PartStatus::kReady, "READY"},
    {PartStatus::kFetching, "FETCHING"},
    {PartStatus::kError, "ERROR"},
});

constexpr auto kDataPartNames = EnumNames<DataPart>({
    {DataPart::kLocalMarketData, "local_market_data"},
    {DataPart::kActiveListings, "active_listings"},
    {DataPart::kRecentSales, "recent_sales"},
});

// The campaigns column holding each part's sub-status (docs/contracts.md §2).
constexpr auto kStatusColumns = EnumNames<DataPart>({
    {DataPart::kLocalMarketData, "local_market_data_status"},
    {DataPart::kActiveListings, "active_listing_status"},
    {DataPart::kRecentSales, "recent_sale_status"},
});

}  // namespace

std::string_view ToString(CampaignStatus s) { return NameOf(kCampaignNames, s, "UNKNOWN"); }
std::string_view ToString(PartStatus s) { return NameOf(kPartNames, s, "UNKNOWN"); }
std::string_view ToString(DataPart p) { return NameOf(kDataPartNames, p, "UNKNOWN"); }
std::optional<CampaignStatus> ParseCampaignStatus(std::string_view s) {
  return ValueOf(kCampaignNames, s);
}
std::optional<PartStatus> ParsePartStatus(std::string_view s) { return ValueOf(kPartNames, s); }
std::optional<DataPart> ParseDataPart(std::string_view s) { return ValueOf(kDataPartNames, s); }

std::string_view StatusColumn(DataPart p) { return NameOf(kStatusColumns, p, ""); }

RequiredParts RequiredParts::Of(std::initializer_list<DataPart> parts) {
  RequiredParts r;
  r.mask_ = 0;
  for (DataPart p : parts) r.mask_ |= 1u << static_cast<int>(p);
  return r;
}

std::optional<RequiredParts> RequiredParts::Parse(std::string_view csv) {
  RequiredParts r;
  r.mask_ = 0;
  while (!csv.empty()) {
    size_t comma = csv.find(',');
    std::string_view item = csv.substr(0, comma);
    while (!item.empty() && item.front() == ' ') item.remove_prefix(1);
    while (!item.empty() && item.back() == ' ') item.remove_suffix(1);
    auto p = ParseDataPart(item);
    if (!p) return std::nullopt;
    r.mask_ |= 1u << static_cast<int>(*p);
    if (comma == std::string_view::npos) break;
    csv.remove_prefix(comma + 1);
  }
  if (r.mask_ == 0) return std::nullopt;
  return r;
}

}  // namespace dripr
