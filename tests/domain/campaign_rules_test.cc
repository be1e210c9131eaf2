#include "dripr/domain/campaign_rules.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "dripr/domain/campaign_import.h"
#include "dripr/domain/event.h"

namespace dripr {
namespace {

using ::testing::HasSubstr;

TEST(CampaignId, OneRuleNoSpaces) {
  EXPECT_TRUE(IsValidCampaignId("c-1"));
  EXPECT_TRUE(IsValidCampaignId(std::string(64, 'a')));
  EXPECT_FALSE(IsValidCampaignId(""));
  EXPECT_FALSE(IsValidCampaignId(std::string(65, 'a')));
  EXPECT_FALSE(IsValidCampaignId("has space"));
  EXPECT_FALSE(IsValidCampaignId("caf\xc3\xa9"));
  EXPECT_EQ(CheckCampaignId("a b").error().message,
            "only printable ASCII characters without spaces are allowed, got \"a b\"");
}

TEST(CampaignId, TheEventDecoderAppliesTheSameRule) {
  // Before: the decoder let spaces through while the CLI and the store refused them.
  auto e = DecodeStatusChange(
      R"({"event_type":"STATUS_CHANGE","payload":{"campaign_id":"has space","zip_code":"02139",)"
      R"("to_status":"WAITING_FOR_DATA","timestamp":"2026-11-29T13:40:22Z"}})");
  ASSERT_FALSE(e);
  EXPECT_EQ(e.error().message,
            "campaign_id: only printable ASCII characters without spaces are allowed, got "
            "\"has space\"");
}

TEST(CurrentValue, PositiveEverywhere) {
  // Before: the CLI wanted > 0 and the store accepted 0.
  EXPECT_TRUE(CheckCurrentValue(1));
  EXPECT_FALSE(CheckCurrentValue(0));
  NewCampaign c{"c", "", "02139", PropertyData{"1 Main St", {42, -71}, 0}};
  auto v = ValidateNewCampaign(c);
  ASSERT_FALSE(v);
  EXPECT_EQ(v.error().message, "current value: must be a positive number of dollars, got 0");
}

TEST(FreeText, InvalidUtf8AndControlCharactersAreRefused) {
  NewCampaign c{"c", "\xc3\x28", "02139", std::nullopt};
  auto v = ValidateNewCampaign(c);
  ASSERT_FALSE(v);
  EXPECT_EQ(v.error().message, "user id: not valid UTF-8 at byte 0: \"\\xc3(\"");
  c.user_id = "ok";
  c.property = PropertyData{"1 Main\nSt", {42, -71}, std::nullopt};
  EXPECT_THAT(ValidateNewCampaign(c).error().message,
              HasSubstr("address: contains a control character"));
  c.property->formatted_address = std::string(513, 'a');
  EXPECT_EQ(ValidateNewCampaign(c).error().message, "address: at most 512 bytes, got 513");
}

TEST(CampaignFromFields, NamesTheFlag) {
  CampaignFields f{"c-1", "02139", "u", "1 Main St", "42.1", "-71.1", "0750000"};
  auto c = CampaignFromFields(f, "--");
  ASSERT_TRUE(c) << c.error().ToString();
  EXPECT_EQ(c->property->current_value, 750000);
  f.current_value = "0x10";
  EXPECT_EQ(CampaignFromFields(f, "--").error().message,
            "--current-value: must be a whole number from 1 to 1000000000000, got \"0x10\"");
  f.current_value = "99999999999999999999";
  EXPECT_FALSE(CampaignFromFields(f, "--"));
  f.current_value.reset();
  f.lng.reset();
  EXPECT_THAT(CampaignFromFields(f, "--").error().message, HasSubstr("needs both --lat and --lng"));
  f.lng = "-71";
  f.id = "a b";
  EXPECT_THAT(CampaignFromFields(f, "").error().message, HasSubstr("id: only printable"));
}

TEST(ParseCampaignImport, CsvWithQuotedAddresses) {
  auto file = ParseCampaignImport(
      "id,zip,address,lat,lng,current-value,user-id\n"
      "c-1,02139,\"12 Main St, Cambridge\",42.36,-71.09,850000,u1\r\n"
      "\n"
      "c-2,10001-1234,,,,,\n");
  ASSERT_TRUE(file.problems.empty()) << file.problems[0].message;
  ASSERT_EQ(file.rows.size(), 2u);
  EXPECT_EQ(file.rows[0].line, 2);
  EXPECT_EQ(file.rows[0].campaign.property->formatted_address, "12 Main St, Cambridge");
  EXPECT_EQ(file.rows[0].campaign.property->current_value, 850000);
  EXPECT_EQ(file.rows[0].campaign.user_id, "u1");
  EXPECT_EQ(file.rows[1].line, 4);
  EXPECT_EQ(file.rows[1].campaign.zip_code, "10001");
  EXPECT_FALSE(file.rows[1].campaign.property);
}

TEST(ParseCampaignImport, EveryBadRowIsReportedByLine) {
  auto file = ParseCampaignImport(
      "id,zip\n"
      "ok,02139\n"
      "bad id,02139\n"
      "c-3,2139\n"
      "ok,02140\n"
      "c-5\n");
  ASSERT_EQ(file.problems.size(), 4u);
  EXPECT_EQ(file.problems[0].line, 3);
  EXPECT_THAT(file.problems[0].message, HasSubstr("id: only printable ASCII"));
  EXPECT_EQ(file.problems[1].line, 4);
  EXPECT_THAT(file.problems[1].message, HasSubstr("zip: must be 5 digits"));
  EXPECT_EQ(file.problems[2].line, 5);
  EXPECT_EQ(file.problems[2].message, "id \"ok\" appears twice in the file");
  EXPECT_EQ(file.problems[3].line, 6);
  EXPECT_EQ(file.problems[3].message, "expected 2 fields, got 1");
}

TEST(ParseCampaignImport, HeaderProblems) {
  EXPECT_THAT(ParseCampaignImport("id,zip,colour\n").problems.at(0).message,
              HasSubstr("unknown column \"colour\""));
  EXPECT_EQ(ParseCampaignImport("id,address\n").problems.at(0).message,
            "the header needs the columns id and zip");
  EXPECT_EQ(ParseCampaignImport("").problems.at(0).message,
            "no header row (id,zip,user-id,address,lat,lng,current-value)");
  auto bad_utf8 = ParseCampaignImport("id,zip\nc-1,02139\nc-\xff,02139\n");
  ASSERT_EQ(bad_utf8.problems.size(), 1u);
  EXPECT_EQ(bad_utf8.problems[0].line, 3);
  EXPECT_EQ(bad_utf8.problems[0].message, "not valid UTF-8");
}

TEST(ParseCampaignImport, JsonLines) {
  auto file = ParseCampaignImport(
      R"({"id":"j-1","zip":"02139","lat":42.36,"lng":-71.09,"current-value":850000})"
      "\n"
      R"({"id":"j-2","zip":"02139","user-id":null})"
      "\n");
  ASSERT_TRUE(file.problems.empty()) << file.problems[0].message;
  ASSERT_EQ(file.rows.size(), 2u);
  EXPECT_DOUBLE_EQ(file.rows[0].campaign.property->location.lat, 42.36);
  EXPECT_EQ(file.rows[0].campaign.property->current_value, 850000);

  auto bad = ParseCampaignImport(R"({"id":"j-1","zip":2139})"
                                 "\n"
                                 "not json\n"
                                 R"({"id":"j-3","zip":"02139","colour":"red"})"
                                 "\n");
  ASSERT_EQ(bad.problems.size(), 3u);
  EXPECT_EQ(bad.problems[0].message, "zip: must be a string, got number");
  EXPECT_EQ(bad.problems[1].line, 2);
  EXPECT_THAT(bad.problems[2].message, HasSubstr("unknown key \"colour\""));
}

}  // namespace
}  // namespace dripr
