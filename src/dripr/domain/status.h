#pragma once
// Campaign status and data-part sub-status (docs/contracts.md §2, wire and database contract).

#include <array>
#include <optional>
#include <string_view>

namespace dripr {

enum class CampaignStatus {
  kDormant,
  kWaitingForData,
  kWaitingForHomeAnalysis,
  kReadyToCreateEmail,
  kFetching,
  kWaitingForManualApproval,
  kReadyToSendEmail,
  kUnsubscribed,
  kError,
};

enum class PartStatus { kDormant, kWaitingForData, kReady, kFetching, kError };

// The data parts a campaign needs; each has its own queue and sub-status column.
enum class DataPart { kLocalMarketData = 0, kActiveListings = 1, kRecentSales = 2 };
inline constexpr std::array<DataPart, 3> kAllDataParts = {
    DataPart::kLocalMarketData, DataPart::kActiveListings, DataPart::kRecentSales};

// "WAITING_FOR_DATA" etc. exactly as stored and published.
std::string_view ToString(CampaignStatus s);
std::string_view ToString(PartStatus s);
// Parses the exact upper-case names; nullopt for anything else.
std::optional<CampaignStatus> ParseCampaignStatus(std::string_view s);
std::optional<PartStatus> ParsePartStatus(std::string_view s);

// "local_market_data", "active_listings", "recent_sales": names used in logs, CLI and config.
std::string_view ToString(DataPart p);
std::optional<DataPart> ParseDataPart(std::string_view s);
// The campaigns column holding the part's sub-status ("local_market_data_status", ...).
std::string_view StatusColumn(DataPart p);

// The set of parts that must be READY before the fan-in (default: all three).
class RequiredParts {
 public:
  RequiredParts() : mask_(0b111) {}
  static RequiredParts Of(std::initializer_list<DataPart> parts);
  // Comma-separated part names, e.g. "active_listings,recent_sales". Empty/unknown → nullopt.
  static std::optional<RequiredParts> Parse(std::string_view csv);
  bool Contains(DataPart p) const { return (mask_ >> static_cast<int>(p)) & 1; }
  bool operator==(const RequiredParts&) const = default;

 private:
  unsigned mask_;
};

}  // namespace dripr
