// The reconciler's pure decisions (domain/reconcile.h) and what the transitions do to
// parts_changed_at / republish_count / restart_count.

#include "dripr/domain/reconcile.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "dripr/core/time.h"
#include "support/campaign_ids.h"
#include "support/enum_names.h"

namespace dripr {
namespace {

using ::testing::HasSubstr;
using namespace std::chrono_literals;

const SysTime kT0 = FromUnixMillis(1'795'000'000'000);

ReconcileSettings Settings() {
  return {.stuck_after = 900s, .max_republish = 3, .restart_errored_after = 6h, .max_restarts = 3};
}

// Started at kT0 in cycle 5; active_listings already READY.
Campaign Waiting() {
  Campaign c;
  c.id = Cid("c-1");
  c.zip_code = "02139";
  c.status = CampaignStatus::kWaitingForData;
  c.parts = {PartStatus::kWaitingForData, PartStatus::kReady, PartStatus::kWaitingForData};
  c.data_cycle = 5;
  c.created_at = c.updated_at = c.status_changed_at = c.parts_changed_at = kT0;
  return c;
}

Campaign Errored() {
  Campaign c = Waiting();
  c.status = CampaignStatus::kError;
  c.error_text = "provider said no";
  return c;
}

TEST(DecideReconcile, WaitingCampaignIsStuckOnlyAfterTheThreshold) {
  const auto s = Settings();
  EXPECT_EQ(DecideReconcile(Waiting(), kT0 + 899s, s), std::nullopt);
  EXPECT_EQ(DecideReconcile(Waiting(), kT0 + 900s, s), ReconcileAction::kRepublish);
}

TEST(DecideReconcile, ALaterRowWriteRestartsTheStuckClock) {
  Campaign c = Waiting();
  c.updated_at = kT0 + 600s;  // e.g. the previous republish
  EXPECT_EQ(DecideReconcile(c, kT0 + 1000s, Settings()), std::nullopt);
  EXPECT_EQ(DecideReconcile(c, kT0 + 1500s, Settings()), ReconcileAction::kRepublish);
  c = Waiting();
  c.parts_changed_at = kT0 + 600s;  // a part finished
  EXPECT_EQ(DecideReconcile(c, kT0 + 1000s, Settings()), std::nullopt);
}

TEST(DecideReconcile, RepublishLimitTurnsIntoFailure) {
  Campaign c = Waiting();
  c.republish_count = 2;
  EXPECT_EQ(DecideReconcile(c, kT0 + 1h, Settings()), ReconcileAction::kRepublish);
  c.republish_count = 3;
  EXPECT_EQ(DecideReconcile(c, kT0 + 1h, Settings()), ReconcileAction::kFailStuck);
  auto s = Settings();
  s.max_republish = 0;
  EXPECT_EQ(DecideReconcile(Waiting(), kT0 + 1h, s), ReconcileAction::kFailStuck);
}

TEST(DecideReconcile, OtherStatusesAreNeverStuck) {
  for (CampaignStatus st : {CampaignStatus::kDormant, CampaignStatus::kReadyToCreateEmail,
                            CampaignStatus::kFetching, CampaignStatus::kUnsubscribed}) {
    Campaign c = Waiting();
    c.status = st;
    EXPECT_EQ(DecideReconcile(c, kT0 + 100h, Settings()), std::nullopt) << ToString(st);
  }
}

TEST(DecideReconcile, ErroredCampaignRestartsAfterTheDelayUntilTheLimit) {
  const auto s = Settings();
  EXPECT_EQ(DecideReconcile(Errored(), kT0 + 6h - 1s, s), std::nullopt);
  EXPECT_EQ(DecideReconcile(Errored(), kT0 + 6h, s), ReconcileAction::kRestart);
  Campaign c = Errored();
  c.restart_count = 2;
  EXPECT_EQ(DecideReconcile(c, kT0 + 6h, s), ReconcileAction::kRestart);
  c.restart_count = 3;
  EXPECT_EQ(DecideReconcile(c, kT0 + 600h, s), std::nullopt) << "left for a person";
}

TEST(DecideReconcile, ZeroDisablesRestarts) {
  auto s = Settings();
  s.restart_errored_after = 0s;
  EXPECT_EQ(DecideReconcile(Errored(), kT0 + 1000h, s), std::nullopt);
}

TEST(ReconcileTransition, RepublishUsesTheOriginalEventOfTheCycle) {
  StatusChangeEvent original;
  original.campaign_id = Cid("c-1");
  original.zip_code = "02139";
  original.from_status = CampaignStatus::kError;
  original.to_status = CampaignStatus::kWaitingForData;
  original.timestamp = kT0;
  original.event_id = "original-id";
  original.data_cycle = 5;
  const SysTime now = kT0 + 901s;
  auto r = ReconcileTransition(Waiting(), ReconcileAction::kRepublish, Settings(), original, now,
                               "new-id");
  ASSERT_TRUE(r) << r.error().ToString();
  EXPECT_EQ(r->event, original);
  EXPECT_EQ(r->next.republish_count, 1);
  EXPECT_EQ(r->next.updated_at, now);
  EXPECT_EQ(r->next.status_changed_at, kT0);
  EXPECT_EQ(r->next.parts_changed_at, kT0) << "no part moved";
  EXPECT_EQ(r->next.parts, Waiting().parts);
}

TEST(ReconcileTransition, RepublishWithoutAnOriginalOfThisCycleMakesANewEvent) {
  StatusChangeEvent old_cycle;
  old_cycle.to_status = CampaignStatus::kWaitingForData;
  old_cycle.data_cycle = 4;
  old_cycle.event_id = "old";
  for (const auto& original : {std::optional<StatusChangeEvent>(), std::optional(old_cycle)}) {
    auto r = ReconcileTransition(Waiting(), ReconcileAction::kRepublish, Settings(), original,
                                 kT0 + 1h, "new-id");
    ASSERT_TRUE(r);
    ASSERT_TRUE(r->event);
    EXPECT_EQ(r->event->event_id, "new-id");
    EXPECT_EQ(r->event->data_cycle, 5);
    EXPECT_EQ(r->event->from_status, CampaignStatus::kDormant);
    EXPECT_EQ(r->event->to_status, CampaignStatus::kWaitingForData);
    EXPECT_EQ(r->event->timestamp, kT0 + 1h);
  }
}

TEST(ReconcileTransition, FailStuckNamesTheUnfinishedParts) {
  Campaign c = Waiting();
  c.republish_count = 3;
  c.updated_at = kT0 + 100s;
  auto r = ReconcileTransition(c, ReconcileAction::kFailStuck, Settings(), std::nullopt,
                               kT0 + 1000s, "e");
  ASSERT_TRUE(r) << r.error().ToString();
  EXPECT_EQ(r->next.status, CampaignStatus::kError);
  EXPECT_EQ(r->next.parts, c.parts) << "parts keep their status";
  EXPECT_EQ(r->next.error_text,
            "stuck in WAITING_FOR_DATA: local_market_data, recent_sales did not finish in data "
            "cycle 5 (no progress for 900 s after 3 republished events; reconciler)");
  ASSERT_TRUE(r->event);
  EXPECT_EQ(r->event->from_status, CampaignStatus::kWaitingForData);
  EXPECT_EQ(r->event->to_status, CampaignStatus::kError);
}

TEST(ReconcileTransition, RestartResetsTheCampaignAndCounts) {
  Campaign c = Errored();
  c.restart_count = 1;
  const SysTime now = kT0 + 7h;
  auto r = ReconcileTransition(c, ReconcileAction::kRestart, Settings(), std::nullopt, now, "e");
  ASSERT_TRUE(r) << r.error().ToString();
  EXPECT_EQ(r->next.status, CampaignStatus::kDormant);
  for (DataPart p : kAllDataParts) EXPECT_EQ(r->next.part(p), PartStatus::kDormant);
  EXPECT_EQ(r->next.error_text, "");
  EXPECT_EQ(r->next.restart_count, 2);
  EXPECT_EQ(r->next.parts_changed_at, now);
  EXPECT_EQ(r->next.status_changed_at, now);
  EXPECT_EQ(r->next.data_cycle, 5);
  ASSERT_TRUE(r->event);
  EXPECT_EQ(r->event->to_status, CampaignStatus::kDormant);
}

TEST(ReconcileTransition, ADecisionThatNoLongerHoldsIsFailedPrecondition) {
  Campaign moved = Waiting();
  moved.parts_changed_at = kT0 + 500s;
  auto r = ReconcileTransition(moved, ReconcileAction::kRepublish, Settings(), std::nullopt,
                               kT0 + 1000s, "e");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::kFailedPrecondition);
  EXPECT_THAT(r.error().message, HasSubstr("no longer needs republish"));

  Campaign c = Waiting();
  c.republish_count = 3;  // needs kFailStuck, not another republish
  EXPECT_FALSE(
      ReconcileTransition(c, ReconcileAction::kRepublish, Settings(), std::nullopt, kT0 + 1h, "e"));
  EXPECT_FALSE(ReconcileTransition(Waiting(), ReconcileAction::kRestart, Settings(), std::nullopt,
                                   kT0 + 100h, "e"));
}

TEST(Transitions, KeepTheReconcilerColumns) {
  RequiredParts all;
  Campaign c = Waiting();
  c.republish_count = 2;
  c.restart_count = 2;
  // A part finishing moves parts_changed_at; the fan-in clears restart_count.
  auto part = PartReadyTransition(c, DataPart::kLocalMarketData, 5, all, kT0 + 10s, "e");
  ASSERT_TRUE(part);
  EXPECT_EQ(part->next.parts_changed_at, kT0 + 10s);
  EXPECT_EQ(part->next.restart_count, 2);
  auto fan_in = PartReadyTransition(part->next, DataPart::kRecentSales, 5, all, kT0 + 20s, "e");
  ASSERT_TRUE(fan_in);
  EXPECT_EQ(fan_in->next.status, CampaignStatus::kReadyToCreateEmail);
  EXPECT_EQ(fan_in->next.parts_changed_at, kT0 + 20s);
  EXPECT_EQ(fan_in->next.restart_count, 0);

  // A new cycle clears republish_count and keeps restart_count.
  Campaign dormant = c;
  dormant.status = CampaignStatus::kDormant;
  auto start = StartTransition(dormant, all, kT0 + 30s, "e");
  ASSERT_TRUE(start);
  EXPECT_EQ(start->next.republish_count, 0);
  EXPECT_EQ(start->next.restart_count, 2);
  EXPECT_EQ(start->next.parts_changed_at, kT0 + 30s);

  // An operator's reset clears restart_count.
  auto reset = ResetTransition(Errored(), kT0 + 40s, "e");
  ASSERT_TRUE(reset);
  EXPECT_EQ(reset->next.restart_count, 0);
  EXPECT_EQ(reset->next.parts_changed_at, kT0 + 40s);
}

TEST(ReconcileAction, Names) {
  EXPECT_EQ(NamesOf(kAllReconcileActions), "republish fail_stuck restart");
}

}  // namespace
}  // namespace dripr
