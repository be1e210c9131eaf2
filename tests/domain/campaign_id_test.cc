#include "dripr/domain/campaign_id.h"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <set>
#include <sstream>
#include <string>
#include <unordered_set>

#include "dripr/domain/campaign_rules.h"

namespace dripr {
namespace {

TEST(CampaignIdType, ParseAcceptsWhatTheRuleAccepts) {
  for (std::string text :
       {std::string("c-1"), std::string(64, 'a'), std::string("!~"), std::string("demo-0001")}) {
    auto id = CampaignId::Parse(text);
    ASSERT_TRUE(id) << text;
    EXPECT_EQ(id->str(), text);
    EXPECT_EQ(id->view(), text);
    EXPECT_TRUE(IsValidCampaignId(text));
  }
}

TEST(CampaignIdType, ParseRefusesWithTheRulesMessages) {
  struct Case {
    std::string text;
    std::string message;
  };
  for (const Case& c : {
           Case{"", "must not be empty"},
           Case{std::string(65, 'a'), "at most 64 characters, got 65"},
           Case{"a b", "only printable ASCII characters without spaces are allowed, got \"a b\""},
           Case{"a\tb",
                "only printable ASCII characters without spaces are allowed, got "
                "\"a\\x09b\""},
           Case{"caf\xc3\xa9",
                "only printable ASCII characters without spaces are allowed, got "
                "\"caf\\xc3\\xa9\""},
       }) {
    auto id = CampaignId::Parse(c.text);
    ASSERT_FALSE(id) << c.text;
    EXPECT_EQ(id.error().code, ErrorCode::kInvalidArgument);
    EXPECT_EQ(id.error().message, c.message);
    // The same words as the rule itself: one rule, one message.
    EXPECT_EQ(CheckCampaignId(c.text).error().message, c.message);
  }
}

TEST(CampaignIdType, StoredRowsAreTakenAsTheyAre) {
  // A row another program wrote keeps its text, so it can still be listed and shown.
  const CampaignId id = CampaignId::FromStoredRow("has space");
  EXPECT_EQ(id.str(), "has space");
  EXPECT_FALSE(CampaignId::Parse(id.view()));
}

TEST(CampaignIdType, DefaultIsEmpty) {
  const CampaignId id;
  EXPECT_TRUE(id.empty());
  EXPECT_EQ(id.str(), "");
  EXPECT_FALSE(CampaignId::Parse("")) << "Parse never makes the empty placeholder";
}

TEST(CampaignIdType, ComparesOrdersAndHashesByText) {
  const CampaignId a = *CampaignId::Parse("a10");
  const CampaignId b = *CampaignId::Parse("a9");
  EXPECT_EQ(a, *CampaignId::Parse("a10"));
  EXPECT_NE(a, b);
  EXPECT_LT(a, b);  // byte order, as the stores' ORDER BY id
  EXPECT_TRUE(a == "a10");
  EXPECT_FALSE(a == "a1");
  EXPECT_EQ((std::set<CampaignId>{b, a}.begin()->str()), "a10");
  std::unordered_set<CampaignId> seen{a, b, *CampaignId::Parse("a10")};
  EXPECT_EQ(seen.size(), 2u);
  EXPECT_EQ(std::hash<CampaignId>{}(a), std::hash<std::string_view>{}("a10"));
}

TEST(CampaignIdType, FormatsAsItsText) {
  const CampaignId id = *CampaignId::Parse("c-1");
  std::ostringstream os;
  os << id;
  EXPECT_EQ(os.str(), "c-1");
  EXPECT_EQ(fmt::format("campaign={} [{:>5}]", id, id), "campaign=c-1 [  c-1]");
}

}  // namespace
}  // namespace dripr
