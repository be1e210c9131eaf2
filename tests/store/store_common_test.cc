#include "dripr/store/store_common.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <limits>

#include "dripr/store/row_reader.h"
#include "support/captured_log.h"

namespace dripr {
namespace {

NewCampaign Valid() {
  NewCampaign c;
  c.id = "c-1";
  c.zip_code = "02139";
  c.property = PropertyData{"1 Main St", GeoPoint{42.36, -71.1}, 100};
  return c;
}

TEST(ValidateNewCampaign, AcceptsAndNormalizesZipPlus4) {
  NewCampaign c = Valid();
  c.zip_code = "02139-1234";
  auto v = ValidateNewCampaign(c);
  ASSERT_TRUE(v) << v.error().ToString();
  EXPECT_EQ(v->zip_code, "02139");
  EXPECT_EQ(v->id, "c-1");
}

TEST(CampaignZip, AZipPlusFourAnotherProgramStoredStandsForItsFirstFiveCharacters) {
  EXPECT_EQ(CampaignZip("02139-4301"), "02139");
  EXPECT_EQ(CampaignZip("02139"), "02139");
  EXPECT_EQ(CampaignZip("abcde-fghi"), "abcde");                    // as the SQL expression cuts it
  const std::string e_acute = "\xc3\xa9";                           // one character, two bytes
  EXPECT_EQ(CampaignZip(e_acute + "2139-4301"), e_acute + "2139");  // characters, not bytes
  EXPECT_EQ(CampaignZip(e_acute + "123-4567"), e_acute + "123-4567");  // nine characters
  EXPECT_EQ(CampaignZip("0213-94301"), "0213-94301");
  EXPECT_EQ(CampaignZip("02139-43010"), "02139-43010");
  EXPECT_EQ(CampaignZip(""), "");
  EXPECT_EQ(CampaignZip("\xa9\xa9\xa9"), "\xa9\xa9\xa9");  // no character starts: as stored
}

// A row another program wrote that does not read is left out of a list read, with a warning
// once per row and reason in the process: the reconciler and the dashboard read it again and
// again. Any other failure is the read's.
TEST(AppendReadable, LeavesOutARowThatDoesNotReadWarningOncePerRowAndReason) {
  dripr::testing::CapturedLog log;
  auto corrupt = [](const std::string& why) -> Result<Campaign> {
    return Fail(ErrorCode::kDataLoss, why);
  };
  const std::string first = "campaign append-1: unknown campaign_status \"X\"";
  const std::string second = "campaign append-2: unknown campaign_status \"X\"";
  std::vector<Campaign> out;
  for (int pass = 0; pass < 3; ++pass) {
    ASSERT_TRUE(AppendReadable(corrupt(first), "reconciler", out));
  }
  ASSERT_TRUE(AppendReadable(corrupt(second), "list campaigns", out));
  Campaign readable;
  readable.id = CampaignId::FromStoredRow("append-3");
  ASSERT_TRUE(AppendReadable(readable, "list campaigns", out));
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].id, readable.id);
  EXPECT_THAT(log.Lines(), ::testing::ElementsAre(
                               "reconciler: left out a campaign row that does not read: " + first +
                                   " (said once per process)",
                               "list campaigns: left out a campaign row that does not "
                               "read: " +
                                   second + " (said once per process)"));

  Status down = AppendReadable(Fail(ErrorCode::kUnavailable, "server down"), "reconciler", out);
  ASSERT_FALSE(down);
  EXPECT_EQ(down.error().code, ErrorCode::kUnavailable);
  EXPECT_EQ(out.size(), 1u);
}

TEST(ValidateNewCampaign, NamesTheBadField) {
  struct Case {
    std::function<void(NewCampaign&)> mutate;
    std::string message;
  };
  const double nan = std::numeric_limits<double>::quiet_NaN();
  for (const Case& c : std::vector<Case>{
           {[](NewCampaign& n) { n.id = std::string(65, 'a'); },
            "campaign id: at most 64 characters, got 65"},
           {[](NewCampaign& n) { n.id = "has space"; },
            "campaign id: only printable ASCII characters without spaces are allowed, got "
            "\"has space\""},
           {[](NewCampaign& n) { n.id = "tab\t"; },
            "campaign id: only printable ASCII characters without spaces are allowed, got "
            "\"tab\\x09\""},
           {[](NewCampaign& n) { n.id = "caf\xc3\xa9"; },
            "campaign id: only printable ASCII characters without spaces are allowed, got "
            "\"caf\\xc3\\xa9\""},
           {[&](NewCampaign& n) { n.property->location.lat = nan; },
            "latitude: must be between -90 and 90"},
           {[](NewCampaign& n) { n.property->location.lng = -180.5; },
            "longitude: must be between -180 and 180"},
           {[](NewCampaign& n) { n.property->current_value = -1; },
            "current value: must be a positive number of dollars, got -1"},
       }) {
    NewCampaign n = Valid();
    c.mutate(n);
    auto v = ValidateNewCampaign(n);
    ASSERT_FALSE(v) << c.message;
    EXPECT_EQ(v.error().code, ErrorCode::kInvalidArgument);
    EXPECT_EQ(v.error().message, c.message);
  }
  NewCampaign n = Valid();
  n.id = std::string(64, 'a');
  EXPECT_TRUE(ValidateNewCampaign(n));
  n.zip_code = "0213";
  auto bad_zip = ValidateNewCampaign(n);
  ASSERT_FALSE(bad_zip);
  EXPECT_EQ(bad_zip.error().message.rfind("zip_code: ", 0), 0u) << bad_zip.error().message;
}

TEST(OutboxAttributes, RoundTripAsJsonPairs) {
  StatusChangeEvent e;
  e.to_status = CampaignStatus::kReadyToCreateEmail;
  OutboxAttributes a = StatusChangeAttributes(e);
  std::string json = EncodeOutboxAttributes(a);
  EXPECT_EQ(json, R"([["event_type","STATUS_CHANGE"],["to_status","READY_TO_CREATE_EMAIL"]])");
  auto back = DecodeOutboxAttributes(json);
  ASSERT_TRUE(back) << back.error().ToString();
  EXPECT_EQ(*back, a);
  EXPECT_EQ(EncodeOutboxAttributes({}), "[]");
  EXPECT_TRUE(DecodeOutboxAttributes("[]")->empty());
}

TEST(OutboxAttributes, MalformedTextIsDataLoss) {
  for (const char* bad : {"", "not json", "{}", "[[\"a\"]]", "[[\"a\",1]]", "[\"a\",\"b\"]",
                          "[[\"a\",\"b\",\"c\"]]"}) {
    auto r = DecodeOutboxAttributes(bad);
    ASSERT_FALSE(r) << bad;
    EXPECT_EQ(r.error().code, ErrorCode::kDataLoss) << bad;
  }
}

TEST(TruncateToMillis, DropsSubMillisecondPart) {
  SysTime t = SysTime{} + std::chrono::microseconds(1'234'567);
  EXPECT_EQ(TruncateToMillis(t), SysTime{} + std::chrono::milliseconds(1234));
}

}  // namespace
}  // namespace dripr
