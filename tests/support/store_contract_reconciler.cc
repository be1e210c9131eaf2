// Store contract suite, part 3: what the reconciler needs — parts_changed_at kept by every
// transition, the candidate query, ReconcileCampaign, and named leases.

#include <gmock/gmock.h>

#include "dripr/domain/event.h"
#include "support/campaign_ids.h"
#include "support/store_contract.h"

namespace dripr {

void StoreContractReconcilerAnchor() {}

namespace {

using ::testing::HasSubstr;
using namespace std::chrono_literals;

ReconcileSettings Settings() {
  return {
      .stuck_after = 900s, .max_republish = 2, .restart_errored_after = 3600s, .max_restarts = 2};
}

std::vector<std::string> Ids(const std::vector<Campaign>& cs) {
  std::vector<std::string> out;
  for (const auto& c : cs) out.push_back(c.id.str());
  return out;
}

// Publishes (marks) every pending outbox row, as the relay would.
void PublishAll(Store& store) {
  auto rows = store.ClaimOutbox(1000, 30s);
  ASSERT_TRUE(rows) << rows.error().ToString();
  std::vector<int64_t> ids;
  for (const auto& r : *rows) ids.push_back(r.id);
  ASSERT_TRUE(store.MarkPublished(ids));
}

TEST_P(StoreContractTest, EveryTransitionKeepsPartsChangedAt) {
  ASSERT_TRUE(store().CreateCampaign(NewCampaignFor("c-1")));
  EXPECT_EQ(MustGet("c-1").parts_changed_at, clock_.Now());
  clock_.Advance(10s);
  ASSERT_TRUE(store().StartCampaign(Cid("c-1")));
  Campaign c = MustGet("c-1");
  EXPECT_EQ(c.parts_changed_at, clock_.Now());
  EXPECT_EQ(c.republish_count, 0);

  clock_.Advance(10s);
  auto done = store().CompletePart(Cid("c-1"), 1, ListingsPart(2, "a"));
  ASSERT_TRUE(done && done->changed);
  EXPECT_EQ(MustGet("c-1").parts_changed_at, clock_.Now());

  clock_.Advance(10s);
  auto failed = store().FailCampaign(Cid("c-1"), DataPart::kRecentSales, 1, "boom");
  ASSERT_TRUE(failed && failed->changed);
  EXPECT_EQ(MustGet("c-1").parts_changed_at, clock_.Now());

  clock_.Advance(10s);
  auto reset = store().ResetCampaign(Cid("c-1"));
  ASSERT_TRUE(reset && reset->changed);
  c = MustGet("c-1");
  EXPECT_EQ(c.parts_changed_at, clock_.Now());
  EXPECT_EQ(c, reset->campaign);
}

// A campaign row another program wrote with a status text no version knows is left out of the
// list reads (with a warning), not their failure: before, the oldest such row failed every
// reconciler pass for every campaign, and every page of the dashboard that held it.
TEST_P(StoreContractTest, ACampaignRowThatDoesNotReadIsLeftOutOfListReads) {
  CreateAndStart("bad");
  CreateAndStart("stuck");
  ASSERT_NO_FATAL_FAILURE(PublishAll(store()));
  ASSERT_TRUE(
      db_.exec_sql("UPDATE campaigns SET active_listing_status = 'PENDING' WHERE id = 'bad'"));
  clock_.Advance(1h);
  auto found = store().FindReconcileCandidates(clock_.Now(), std::nullopt, 3, 100);
  ASSERT_TRUE(found) << found.error().ToString();
  EXPECT_EQ(Ids(*found), std::vector<std::string>{"stuck"});
  auto all = store().ListCampaigns(std::nullopt);
  ASSERT_TRUE(all) << all.error().ToString();
  EXPECT_EQ(Ids(*all), std::vector<std::string>{"stuck"});
  auto page = store().ListCampaignsPage(CampaignPageQuery{});
  ASSERT_TRUE(page) << page.error().ToString();
  EXPECT_EQ(Ids(*page), std::vector<std::string>{"stuck"});
  // Read alone, it still says what is wrong with it.
  auto bad = store().GetCampaign(Cid("bad"));
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().code, ErrorCode::kDataLoss);
}

// status_changed_at is nullable in every schema (rows other producers write): such a row
// changed status no later than its last update, not in 1970, and a transition writes that back.
TEST_P(StoreContractTest, ANullStatusChangedAtReadsAsTheLastUpdate) {
  CreateAndStart("c-1");
  const SysTime started = clock_.Now();
  ASSERT_TRUE(
      db_.exec_sql("UPDATE campaigns SET status_changed_at = NULL, parts_changed_at = "
                   "NULL WHERE id = 'c-1'"));
  Campaign c = MustGet("c-1");
  EXPECT_EQ(c.status_changed_at, started);
  EXPECT_EQ(c.parts_changed_at, started);
  // A part's completion keeps the campaign's status, so it writes the time it read back.
  clock_.Advance(10s);
  auto part = store().CompletePart(Cid("c-1"), 1, ListingsPart(1, "a"));
  ASSERT_TRUE(part && part->changed);
  EXPECT_EQ(MustGet("c-1").status_changed_at, started);
}

TEST_P(StoreContractTest, FailWithoutAPartLeavesPartsChangedAt) {
  CreateAndStart("c-1");
  const SysTime started = clock_.Now();
  clock_.Advance(10s);
  auto failed = store().FailCampaign(Cid("c-1"), std::nullopt, std::nullopt, "bad event");
  ASSERT_TRUE(failed && failed->changed);
  EXPECT_EQ(MustGet("c-1").parts_changed_at, started);
  EXPECT_EQ(MustGet("c-1").updated_at, clock_.Now());
}

TEST_P(StoreContractTest, CandidatesAreUnmovedWaitingCampaignsWithoutPendingEvents) {
  CreateAndStart("old");
  clock_.Advance(100s);
  CreateAndStart("moved");
  CreateAndStart("pending");
  ASSERT_TRUE(store().CreateCampaign(NewCampaignFor("dormant")));
  PublishAll(store());
  clock_.Advance(100s);
  ASSERT_TRUE(store().CompletePart(Cid("moved"), 1, ListingsPart(1, "m")));
  // "pending" has an event the relay has not published yet: not lost, not a candidate.
  ASSERT_TRUE(store().FailCampaign(Cid("pending"), std::nullopt, std::nullopt, "x"));
  ASSERT_TRUE(store().ResetCampaign(Cid("pending")));
  ASSERT_TRUE(store().StartCampaign(Cid("pending")));

  // now = start + 200 s. Unmoved for >= 150 s: only "old".
  auto found = store().FindReconcileCandidates(clock_.Now() - 150s, std::nullopt, 3, 100);
  ASSERT_TRUE(found) << found.error().ToString();
  EXPECT_EQ(Ids(*found), std::vector<std::string>{"old"});
  // The bound is inclusive: "moved" moved exactly now.
  found = store().FindReconcileCandidates(clock_.Now(), std::nullopt, 3, 100);
  ASSERT_TRUE(found);
  EXPECT_EQ(Ids(*found), (std::vector<std::string>{"old", "moved"}));
  found = store().FindReconcileCandidates(clock_.Now(), std::nullopt, 3, 1);
  ASSERT_TRUE(found);
  EXPECT_EQ(Ids(*found), std::vector<std::string>{"old"});
}

TEST_P(StoreContractTest, CandidatesIncludeOldErroredCampaignsBelowTheRestartLimit) {
  CreateAndStart("e-old");
  CreateAndStart("e-new");
  ASSERT_TRUE(store().FailCampaign(Cid("e-old"), DataPart::kActiveListings, 1, "boom"));
  clock_.Advance(1h);
  ASSERT_TRUE(store().FailCampaign(Cid("e-new"), DataPart::kActiveListings, 1, "boom"));
  PublishAll(store());
  auto found = store().FindReconcileCandidates(clock_.Now() - 900s, std::nullopt, 3, 100);
  ASSERT_TRUE(found);
  EXPECT_TRUE(found->empty()) << "errored campaigns only when asked for";
  found = store().FindReconcileCandidates(clock_.Now() - 900s, clock_.Now() - 1800s, 3, 100);
  ASSERT_TRUE(found);
  EXPECT_EQ(Ids(*found), std::vector<std::string>{"e-old"});
  found = store().FindReconcileCandidates(clock_.Now() - 900s, clock_.Now() - 1800s, 0, 100);
  ASSERT_TRUE(found);
  EXPECT_TRUE(found->empty()) << "restart_count 0 is not below a limit of 0";
}

TEST_P(StoreContractTest, RepublishWritesTheCyclesOriginalEventAgainAndCounts) {
  CreateAndStart("c-1");
  const StatusChangeEvent original = *DecodeStatusChange(MustOutbox("c-1")[0].body);
  PublishAll(store());
  clock_.Advance(899s);
  auto early = store().ReconcileCampaign(Cid("c-1"), ReconcileAction::kRepublish, Settings());
  ASSERT_TRUE(early) << early.error().ToString();
  EXPECT_FALSE(early->changed);
  EXPECT_THAT(early->reason, HasSubstr("no longer needs republish"));
  EXPECT_EQ(MustOutbox("c-1").size(), 1u);

  clock_.Advance(1s);
  auto r = store().ReconcileCampaign(Cid("c-1"), ReconcileAction::kRepublish, Settings());
  ASSERT_TRUE(r) << r.error().ToString();
  ASSERT_TRUE(r->changed) << r->reason;
  EXPECT_EQ(r->campaign.republish_count, 1);
  EXPECT_EQ(r->campaign.status, CampaignStatus::kWaitingForData);
  EXPECT_EQ(r->campaign.updated_at, clock_.Now());
  EXPECT_EQ(MustGet("c-1"), r->campaign);
  auto rows = MustOutbox("c-1");
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(*DecodeStatusChange(rows[1].body), original) << "same event, same event_id";
  EXPECT_EQ(r->event, original);

  // At once again: the republish itself counts as a move of the row, so not yet.
  auto again = store().ReconcileCampaign(Cid("c-1"), ReconcileAction::kRepublish, Settings());
  ASSERT_TRUE(again);
  EXPECT_FALSE(again->changed);
  EXPECT_EQ(MustOutbox("c-1").size(), 2u);
}

TEST_P(StoreContractTest, StuckCampaignFailsAfterTheRepublishLimitNamingItsParts) {
  CreateAndStart("c-1");
  ASSERT_TRUE(store().CompletePart(Cid("c-1"), 1, ListingsPart(1, "a")));
  for (int i = 0; i < 2; ++i) {
    clock_.Advance(900s);
    auto r = store().ReconcileCampaign(Cid("c-1"), ReconcileAction::kRepublish, Settings());
    ASSERT_TRUE(r && r->changed);
  }
  clock_.Advance(900s);
  auto not_yet = store().ReconcileCampaign(Cid("c-1"), ReconcileAction::kRepublish, Settings());
  ASSERT_TRUE(not_yet);
  EXPECT_FALSE(not_yet->changed) << "the limit is 2";
  auto failed = store().ReconcileCampaign(Cid("c-1"), ReconcileAction::kFailStuck, Settings());
  ASSERT_TRUE(failed) << failed.error().ToString();
  ASSERT_TRUE(failed->changed) << failed->reason;
  Campaign c = MustGet("c-1");
  EXPECT_EQ(c.status, CampaignStatus::kError);
  EXPECT_EQ(c.part(DataPart::kActiveListings), PartStatus::kReady);
  EXPECT_THAT(c.error_text, HasSubstr("stuck"));
  EXPECT_THAT(c.error_text, HasSubstr("local_market_data, recent_sales"));
  EXPECT_THAT(c.error_text, HasSubstr("2 republished events"));
  auto rows = MustOutbox("c-1");
  EXPECT_EQ(DecodeStatusChange(rows.back().body)->to_status, CampaignStatus::kError);

  // A new cycle starts counting republishes again.
  clock_.Advance(1s);
  ASSERT_TRUE(store().ResetCampaign(Cid("c-1")));
  ASSERT_TRUE(store().StartCampaign(Cid("c-1")));
  EXPECT_EQ(MustGet("c-1").republish_count, 0);
}

TEST_P(StoreContractTest, ErroredCampaignIsRestartedUpToTheLimit) {
  CreateAndStart("c-1");
  for (int i = 1; i <= 2; ++i) {
    ASSERT_TRUE(store().FailCampaign(Cid("c-1"), DataPart::kRecentSales, std::nullopt, "boom"));
    clock_.Advance(3599s);
    auto early = store().ReconcileCampaign(Cid("c-1"), ReconcileAction::kRestart, Settings());
    ASSERT_TRUE(early);
    EXPECT_FALSE(early->changed);
    clock_.Advance(1s);
    auto r = store().ReconcileCampaign(Cid("c-1"), ReconcileAction::kRestart, Settings());
    ASSERT_TRUE(r) << r.error().ToString();
    ASSERT_TRUE(r->changed) << r->reason;
    Campaign c = MustGet("c-1");
    EXPECT_EQ(c.status, CampaignStatus::kDormant);
    for (DataPart p : kAllDataParts) EXPECT_EQ(c.part(p), PartStatus::kDormant);
    EXPECT_EQ(c.error_text, "");
    EXPECT_EQ(c.restart_count, i);
    EXPECT_EQ(c.parts_changed_at, clock_.Now());
    ASSERT_TRUE(store().StartCampaign(Cid("c-1")));
    EXPECT_EQ(MustGet("c-1").restart_count, i) << "a new cycle keeps the count";
  }
  ASSERT_TRUE(store().FailCampaign(Cid("c-1"), DataPart::kRecentSales, std::nullopt, "boom"));
  clock_.Advance(24h);
  auto limit = store().ReconcileCampaign(Cid("c-1"), ReconcileAction::kRestart, Settings());
  ASSERT_TRUE(limit);
  EXPECT_FALSE(limit->changed);
  EXPECT_EQ(MustGet("c-1").status, CampaignStatus::kError);

  // An operator's reset gives the restarts back.
  ASSERT_TRUE(store().ResetCampaign(Cid("c-1")));
  EXPECT_EQ(MustGet("c-1").restart_count, 0);
}

TEST_P(StoreContractTest, ReconcileOfAMissingCampaignIsNotFound) {
  auto r = store().ReconcileCampaign(Cid("nope"), ReconcileAction::kRestart, Settings());
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::kNotFound);
}

TEST_P(StoreContractTest, LeaseIsExclusiveRenewableAndLapses) {
  auto a = store().AcquireLease("reconciler", "a", 10s);
  ASSERT_TRUE(a) << a.error().ToString();
  EXPECT_TRUE(*a);
  StorePtr other = db_.reopen(&clock_);  // another process
  auto b = other->AcquireLease("reconciler", "b", 10s);
  ASSERT_TRUE(b) << b.error().ToString();
  EXPECT_FALSE(*b);
  EXPECT_TRUE(*other->AcquireLease("something-else", "b", 10s)) << "leases are per name";

  clock_.Advance(9s);
  EXPECT_TRUE(*store().AcquireLease("reconciler", "a", 10s)) << "renewal";
  clock_.Advance(9s);
  EXPECT_FALSE(*other->AcquireLease("reconciler", "b", 10s)) << "renewed until +19 s";
  clock_.Advance(1s);
  EXPECT_TRUE(*other->AcquireLease("reconciler", "b", 10s)) << "lapsed: taken over";
  EXPECT_FALSE(*store().AcquireLease("reconciler", "a", 10s));

  ASSERT_TRUE(store().ReleaseLease("reconciler", "a")) << "not the holder: no-op";
  EXPECT_FALSE(*store().AcquireLease("reconciler", "a", 10s));
  ASSERT_TRUE(other->ReleaseLease("reconciler", "b"));
  EXPECT_TRUE(*store().AcquireLease("reconciler", "a", 10s)) << "released: free at once";
}

}  // namespace
}  // namespace dripr
