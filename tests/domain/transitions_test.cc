#include "dripr/domain/transitions.h"

#include <gtest/gtest.h>

#include <chrono>

#include "dripr/core/time.h"
#include "support/campaign_ids.h"

namespace dripr {
namespace transitions_test {

using std::chrono::hours;

const SysTime kCreated = FromUnixMillis(1'795'000'000'000);
const SysTime kNow = FromUnixMillis(1'795'959'622'123);

Campaign Dormant() {
  Campaign c;
  c.id = Cid("c-1");
  c.user_id = "u-1";
  c.zip_code = "02139";
  c.data_cycle = 4;
  c.created_at = c.updated_at = c.status_changed_at = kCreated;
  return c;
}

// A campaign after a start at kCreated, in cycle 5, with every part waiting.
Campaign Waiting() {
  Campaign c = Dormant();
  c.status = CampaignStatus::kWaitingForData;
  c.parts = {PartStatus::kWaitingForData, PartStatus::kWaitingForData, PartStatus::kWaitingForData};
  c.data_cycle = 5;
  return c;
}

void ExpectEvent(const std::optional<StatusChangeEvent>& e, CampaignStatus from, CampaignStatus to,
                 int64_t cycle, const std::string& event_id) {
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->campaign_id, "c-1");
  EXPECT_EQ(e->zip_code, "02139");
  EXPECT_EQ(e->from_status, from);
  EXPECT_EQ(e->to_status, to);
  EXPECT_EQ(e->timestamp, kNow);
  EXPECT_EQ(e->event_id, event_id);
  EXPECT_EQ(e->data_cycle, cycle);
}

TEST(StartTransition, MovesDormantToWaitingAndStartsANewCycle) {
  Campaign c = Dormant();
  c.error_text = "left over";
  auto r = StartTransition(c, RequiredParts(), kNow, "ev-1");
  ASSERT_TRUE(r) << r.error().message;
  const Campaign& n = r->next;
  EXPECT_EQ(n.status, CampaignStatus::kWaitingForData);
  for (DataPart p : kAllDataParts) EXPECT_EQ(n.part(p), PartStatus::kWaitingForData);
  EXPECT_EQ(n.data_cycle, 5);
  EXPECT_EQ(n.error_text, "");
  EXPECT_EQ(n.updated_at, kNow);
  EXPECT_EQ(n.status_changed_at, kNow);
  EXPECT_EQ(n.created_at, kCreated);
  EXPECT_EQ(n.id, c.id);
  ExpectEvent(r->event, CampaignStatus::kDormant, CampaignStatus::kWaitingForData, 5, "ev-1");
}

TEST(StartTransition, LeavesPartsThatAreNotRequiredDormant) {
  auto r = StartTransition(Dormant(), RequiredParts::Of({DataPart::kRecentSales}), kNow, "e");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->next.part(DataPart::kLocalMarketData), PartStatus::kDormant);
  EXPECT_EQ(r->next.part(DataPart::kActiveListings), PartStatus::kDormant);
  EXPECT_EQ(r->next.part(DataPart::kRecentSales), PartStatus::kWaitingForData);
}

TEST(StartTransition, RefusesEveryStatusButDormant) {
  for (CampaignStatus s :
       {CampaignStatus::kWaitingForData, CampaignStatus::kWaitingForHomeAnalysis,
        CampaignStatus::kReadyToCreateEmail, CampaignStatus::kFetching,
        CampaignStatus::kWaitingForManualApproval, CampaignStatus::kReadyToSendEmail,
        CampaignStatus::kUnsubscribed, CampaignStatus::kError}) {
    Campaign c = Dormant();
    c.status = s;
    auto r = StartTransition(c, RequiredParts(), kNow, "e");
    ASSERT_FALSE(r) << ToString(s);
    EXPECT_EQ(r.error().code, ErrorCode::kFailedPrecondition);
    EXPECT_EQ(r.error().message, "campaign c-1 is " + std::string(ToString(s)) + ", not DORMANT");
  }
}

TEST(PartReadyTransition, MarksOnePartWithoutEventUntilTheLast) {
  auto r = PartReadyTransition(Waiting(), DataPart::kActiveListings, 5, RequiredParts(), kNow, "e");
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->next.status, CampaignStatus::kWaitingForData);
  EXPECT_EQ(r->next.part(DataPart::kActiveListings), PartStatus::kReady);
  EXPECT_EQ(r->next.part(DataPart::kRecentSales), PartStatus::kWaitingForData);
  EXPECT_EQ(r->next.updated_at, kNow);
  EXPECT_EQ(r->next.status_changed_at, kCreated);  // the status did not change
  EXPECT_FALSE(r->event.has_value());
}

TEST(PartReadyTransition, FansInWhenEveryRequiredPartIsReadyInAnyOrder) {
  const DataPart orders[][3] = {
      {DataPart::kLocalMarketData, DataPart::kActiveListings, DataPart::kRecentSales},
      {DataPart::kRecentSales, DataPart::kLocalMarketData, DataPart::kActiveListings},
      {DataPart::kActiveListings, DataPart::kRecentSales, DataPart::kLocalMarketData},
  };
  for (const auto& order : orders) {
    Campaign c = Waiting();
    for (int i = 0; i < 3; ++i) {
      auto r =
          PartReadyTransition(c, order[i], 5, RequiredParts(), kNow, "ev-" + std::to_string(i));
      ASSERT_TRUE(r) << r.error().message;
      c = r->next;
      if (i < 2) {
        EXPECT_FALSE(r->event.has_value());
        EXPECT_EQ(c.status, CampaignStatus::kWaitingForData);
      } else {
        EXPECT_EQ(c.status, CampaignStatus::kReadyToCreateEmail);
        EXPECT_EQ(c.status_changed_at, kNow);
        ExpectEvent(r->event, CampaignStatus::kWaitingForData, CampaignStatus::kReadyToCreateEmail,
                    5, "ev-2");
      }
    }
    for (DataPart p : kAllDataParts) EXPECT_EQ(c.part(p), PartStatus::kReady);
    EXPECT_EQ(c.data_cycle, 5);
  }
}

TEST(PartReadyTransition, FansInOnTheRequiredSubset) {
  RequiredParts two = RequiredParts::Of({DataPart::kActiveListings, DataPart::kRecentSales});
  Campaign c = StartTransition(Dormant(), two, kNow, "s")->next;
  auto a = PartReadyTransition(c, DataPart::kActiveListings, 5, two, kNow, "a");
  ASSERT_TRUE(a);
  EXPECT_FALSE(a->event);
  auto b = PartReadyTransition(a->next, DataPart::kRecentSales, 5, two, kNow, "b");
  ASSERT_TRUE(b);
  EXPECT_EQ(b->next.status, CampaignStatus::kReadyToCreateEmail);
  EXPECT_EQ(b->next.part(DataPart::kLocalMarketData), PartStatus::kDormant);
  ExpectEvent(b->event, CampaignStatus::kWaitingForData, CampaignStatus::kReadyToCreateEmail, 5,
              "b");
}

TEST(PartReadyTransition, RejectsStaleAndDuplicateEvents) {
  Campaign ready = Waiting();
  ready.status = CampaignStatus::kReadyToCreateEmail;
  auto r1 = PartReadyTransition(ready, DataPart::kRecentSales, 5, RequiredParts(), kNow, "e");
  ASSERT_FALSE(r1);
  EXPECT_EQ(r1.error().code, ErrorCode::kFailedPrecondition);
  EXPECT_EQ(r1.error().message, "stale: campaign c-1 is READY_TO_CREATE_EMAIL");

  auto r2 = PartReadyTransition(Waiting(), DataPart::kRecentSales, 4, RequiredParts(), kNow, "e");
  ASSERT_FALSE(r2);
  EXPECT_EQ(r2.error().code, ErrorCode::kFailedPrecondition);
  EXPECT_EQ(r2.error().message, "stale: campaign c-1 is in data cycle 5, event is for cycle 4");

  Campaign once =
      PartReadyTransition(Waiting(), DataPart::kRecentSales, 5, RequiredParts(), kNow, "e")->next;
  auto r3 = PartReadyTransition(once, DataPart::kRecentSales, 5, RequiredParts(), kNow, "e");
  ASSERT_FALSE(r3);
  EXPECT_EQ(r3.error().code, ErrorCode::kFailedPrecondition);
  EXPECT_EQ(r3.error().message, "duplicate: recent_sales of campaign c-1 is READY");

  Campaign failed_part = Waiting();
  failed_part.part(DataPart::kActiveListings) = PartStatus::kError;
  auto r4 =
      PartReadyTransition(failed_part, DataPart::kActiveListings, 5, RequiredParts(), kNow, "e");
  ASSERT_FALSE(r4);
  EXPECT_EQ(r4.error().message, "duplicate: active_listings of campaign c-1 is ERROR");
}

TEST(PartReadyTransition, ADuplicateAfterTheFanInChangesNothing) {
  Campaign c = Waiting();
  for (DataPart p : kAllDataParts) {
    c = PartReadyTransition(c, p, 5, RequiredParts(), kNow, "e")->next;
  }
  ASSERT_EQ(c.status, CampaignStatus::kReadyToCreateEmail);
  for (DataPart p : kAllDataParts) {
    auto again = PartReadyTransition(c, p, 5, RequiredParts(), kNow + hours(1), "e2");
    ASSERT_FALSE(again);
    EXPECT_EQ(again.error().code, ErrorCode::kFailedPrecondition);
  }
}

TEST(FailTransition, MovesPartAndCampaignToErrorWithText) {
  auto r = FailTransition(Waiting(), DataPart::kRecentSales, 5, "only 4 sales within 8 miles", kNow,
                          "ev-f");
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->next.status, CampaignStatus::kError);
  EXPECT_EQ(r->next.part(DataPart::kRecentSales), PartStatus::kError);
  EXPECT_EQ(r->next.part(DataPart::kActiveListings), PartStatus::kWaitingForData);
  EXPECT_EQ(r->next.error_text, "only 4 sales within 8 miles");
  EXPECT_EQ(r->next.status_changed_at, kNow);
  ExpectEvent(r->event, CampaignStatus::kWaitingForData, CampaignStatus::kError, 5, "ev-f");
}

TEST(FailTransition, WithoutPartOrCycleAndWithEmptyText) {
  auto r = FailTransition(Waiting(), std::nullopt, std::nullopt, "", kNow, "ev-f");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->next.status, CampaignStatus::kError);
  for (DataPart p : kAllDataParts) EXPECT_EQ(r->next.part(p), PartStatus::kWaitingForData);
  EXPECT_EQ(r->next.error_text, "unknown error");
}

TEST(FailTransition, RefusesOtherStatesAndOtherCycles) {
  Campaign err = Waiting();
  err.status = CampaignStatus::kError;
  auto r1 = FailTransition(err, DataPart::kRecentSales, 5, "x", kNow, "e");
  ASSERT_FALSE(r1);
  EXPECT_EQ(r1.error().code, ErrorCode::kFailedPrecondition);
  EXPECT_EQ(r1.error().message, "campaign c-1 is ERROR, not WAITING_FOR_DATA");

  auto r2 = FailTransition(Dormant(), DataPart::kRecentSales, std::nullopt, "x", kNow, "e");
  ASSERT_FALSE(r2);
  EXPECT_EQ(r2.error().message, "campaign c-1 is DORMANT, not WAITING_FOR_DATA");

  auto r3 = FailTransition(Waiting(), DataPart::kRecentSales, 3, "x", kNow, "e");
  ASSERT_FALSE(r3);
  EXPECT_EQ(r3.error().code, ErrorCode::kFailedPrecondition);
  EXPECT_EQ(r3.error().message, "stale: campaign c-1 is in data cycle 5");
}

TEST(ResetTransition, MovesErrorToDormantAndClearsEverything) {
  Campaign c = FailTransition(Waiting(), DataPart::kRecentSales, 5, "boom", kCreated, "f")->next;
  auto r = ResetTransition(c, kNow, "ev-r");
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->next.status, CampaignStatus::kDormant);
  for (DataPart p : kAllDataParts) EXPECT_EQ(r->next.part(p), PartStatus::kDormant);
  EXPECT_EQ(r->next.error_text, "");
  EXPECT_EQ(r->next.data_cycle, 5);  // the next start begins cycle 6
  ExpectEvent(r->event, CampaignStatus::kError, CampaignStatus::kDormant, 5, "ev-r");
  auto again = StartTransition(r->next, RequiredParts(), kNow, "s");
  ASSERT_TRUE(again);
  EXPECT_EQ(again->next.data_cycle, 6);
}

TEST(ResetTransition, RefusesEveryStatusButError) {
  for (CampaignStatus s : {CampaignStatus::kDormant, CampaignStatus::kWaitingForData,
                           CampaignStatus::kReadyToCreateEmail, CampaignStatus::kUnsubscribed}) {
    Campaign c = Waiting();
    c.status = s;
    auto r = ResetTransition(c, kNow, "e");
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, ErrorCode::kFailedPrecondition);
    EXPECT_EQ(r.error().message, "campaign c-1 is " + std::string(ToString(s)) + ", not ERROR");
  }
}

TEST(RetryTransition, StartsANewCycleFromError) {
  Campaign c = FailTransition(Waiting(), DataPart::kRecentSales, 5, "boom", kCreated, "f")->next;
  c.part(DataPart::kLocalMarketData) = PartStatus::kReady;
  auto r = RetryTransition(
      c, RequiredParts::Of({DataPart::kLocalMarketData, DataPart::kRecentSales}), kNow, "ev-retry");
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->next.status, CampaignStatus::kWaitingForData);
  EXPECT_EQ(r->next.data_cycle, 6);
  EXPECT_EQ(r->next.part(DataPart::kLocalMarketData), PartStatus::kWaitingForData);
  EXPECT_EQ(r->next.part(DataPart::kRecentSales), PartStatus::kWaitingForData);
  EXPECT_EQ(r->next.part(DataPart::kActiveListings), PartStatus::kDormant);
  EXPECT_EQ(r->next.error_text, "");
  EXPECT_EQ(r->next.status_changed_at, kNow);
  ExpectEvent(r->event, CampaignStatus::kError, CampaignStatus::kWaitingForData, 6, "ev-retry");
  // The failed cycle's part events are stale from now on.
  auto stale = PartReadyTransition(r->next, DataPart::kRecentSales, 5, RequiredParts(), kNow, "x");
  ASSERT_FALSE(stale);
  EXPECT_EQ(stale.error().message, "stale: campaign c-1 is in data cycle 6, event is for cycle 5");
}

TEST(RetryTransition, RefusesEveryStatusButError) {
  for (CampaignStatus s : {CampaignStatus::kDormant, CampaignStatus::kWaitingForData,
                           CampaignStatus::kReadyToCreateEmail, CampaignStatus::kUnsubscribed}) {
    Campaign c = Waiting();
    c.status = s;
    auto r = RetryTransition(c, RequiredParts(), kNow, "e");
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, ErrorCode::kFailedPrecondition);
    EXPECT_EQ(r.error().message, "campaign c-1 is " + std::string(ToString(s)) + ", not ERROR");
  }
}

TEST(Transitions, EventsEncodeAndDecodeUnchanged) {
  auto r = StartTransition(Dormant(), RequiredParts(), kNow, "3f0c2a1e");
  ASSERT_TRUE(r && r->event);
  auto back = DecodeStatusChange(EncodeStatusChange(*r->event));
  ASSERT_TRUE(back) << back.error().message;
  EXPECT_EQ(*back, *r->event);
}

}  // namespace transitions_test
}  // namespace dripr
