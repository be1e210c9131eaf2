#include "dripr/domain/status.h"

#include <gtest/gtest.h>

#include <set>
#include <string>

namespace dripr {
namespace {

TEST(CampaignStatus, EveryValueRoundTripsThroughItsContractName) {
  // docs/contracts.md §2 lists nine values; the enum declares them in this order.
  const std::string_view contract =
      "DORMANT WAITING_FOR_DATA WAITING_FOR_HOME_ANALYSIS READY_TO_CREATE_EMAIL FETCHING "
      "WAITING_FOR_MANUAL_APPROVAL READY_TO_SEND_EMAIL UNSUBSCRIBED ERROR";
  std::string names;
  std::set<std::string_view> seen;
  for (int i = 0; i <= static_cast<int>(CampaignStatus::kError); ++i) {
    const auto value = static_cast<CampaignStatus>(i);
    names += std::string(names.empty() ? "" : " ") + std::string(ToString(value));
    EXPECT_EQ(ParseCampaignStatus(ToString(value)), value) << ToString(value);
    seen.insert(ToString(value));
  }
  EXPECT_EQ(names, contract);
  EXPECT_EQ(seen.size(), 9u);
  EXPECT_EQ(ToString(CampaignStatus::kWaitingForData), "WAITING_FOR_DATA");
}

TEST(CampaignStatus, ParsesOnlyExactUpperCaseNames) {
  for (std::string_view bad : {"", "dormant", "Dormant", " DORMANT", "DORMANT ", "READY", "UNKNOWN",
                               "WAITING_FOR_DATA\n"}) {
    EXPECT_EQ(ParseCampaignStatus(bad), std::nullopt) << bad;
  }
}

TEST(PartStatus, EveryValueRoundTripsThroughItsContractName) {
  const std::pair<PartStatus, std::string_view> expected[] = {
      {PartStatus::kDormant, "DORMANT"}, {PartStatus::kWaitingForData, "WAITING_FOR_DATA"},
      {PartStatus::kReady, "READY"},     {PartStatus::kFetching, "FETCHING"},
      {PartStatus::kError, "ERROR"},
  };
  for (auto [value, name] : expected) {
    EXPECT_EQ(ToString(value), name);
    EXPECT_EQ(ParsePartStatus(name), value) << name;
  }
  EXPECT_EQ(ParsePartStatus("READY_TO_CREATE_EMAIL"), std::nullopt);
  EXPECT_EQ(ParsePartStatus("ready"), std::nullopt);
}

TEST(DataPart, NamesAndStatusColumnsMatchTheContract) {
  EXPECT_EQ(ToString(DataPart::kLocalMarketData), "local_market_data");
  EXPECT_EQ(ToString(DataPart::kActiveListings), "active_listings");
  EXPECT_EQ(ToString(DataPart::kRecentSales), "recent_sales");
  EXPECT_EQ(StatusColumn(DataPart::kLocalMarketData), "local_market_data_status");
  EXPECT_EQ(StatusColumn(DataPart::kActiveListings), "active_listing_status");
  EXPECT_EQ(StatusColumn(DataPart::kRecentSales), "recent_sale_status");
  for (DataPart p : kAllDataParts) EXPECT_EQ(ParseDataPart(ToString(p)), p);
  EXPECT_EQ(ParseDataPart("active_listing"), std::nullopt);
}

TEST(RequiredParts, DefaultsToAllThree) {
  RequiredParts all;
  for (DataPart p : kAllDataParts) EXPECT_TRUE(all.Contains(p));
  EXPECT_EQ(all, RequiredParts::Of({DataPart::kLocalMarketData, DataPart::kActiveListings,
                                    DataPart::kRecentSales}));
}

TEST(RequiredParts, ParsesCommaSeparatedNames) {
  auto two = RequiredParts::Parse("active_listings, recent_sales");
  ASSERT_TRUE(two);
  EXPECT_FALSE(two->Contains(DataPart::kLocalMarketData));
  EXPECT_TRUE(two->Contains(DataPart::kActiveListings));
  EXPECT_TRUE(two->Contains(DataPart::kRecentSales));
  EXPECT_EQ(*two, RequiredParts::Of({DataPart::kRecentSales, DataPart::kActiveListings}));
  EXPECT_EQ(RequiredParts::Parse("recent_sales,recent_sales"),
            RequiredParts::Of({DataPart::kRecentSales}));
  EXPECT_EQ(RequiredParts::Parse(""), std::nullopt);
  EXPECT_EQ(RequiredParts::Parse("recent_sales,bogus"), std::nullopt);
}

}  // namespace
}  // namespace dripr
