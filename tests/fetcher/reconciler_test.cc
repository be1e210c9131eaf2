// The Reconciler on a real SQLite store with a manual clock: what a pass does, the dry run,
// the lease between instances (including a holder that dies without releasing it), two
// instances acting at once, and the thread's start/stop.

#include "dripr/fetcher/reconciler.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "dripr/core/ids.h"
#include "fetcher/local_pipeline.h"
#include "support/campaign_ids.h"
#include "support/poll.h"

namespace dripr {
namespace {

using ::testing::HasSubstr;
using namespace std::chrono_literals;

class ReconcilerTest : public testing::LocalStoreTest {
 protected:
  void SetUp() override {
    ASSERT_NO_FATAL_FAILURE(LocalStoreTest::SetUp());
    settings_.interval = 60s;
    settings_.stuck_after = 900s;
    settings_.max_republish = 2;
    settings_.restart_errored_after = 6h;
    settings_.max_restarts = 1;
  }

  // Another Store on the same file, as another process would have.
  StorePtr Open() { return local_.OpenAnother(&clock_); }

  ReconcilerOptions Options(const std::string& holder) {
    ReconcilerOptions o;
    o.settings = settings_;
    o.holder = holder;
    return o;
  }

  // Created, started, and its start event published (as by the relay).
  void Started(const std::string& id) {
    ASSERT_TRUE(store_->CreateCampaign(NewCampaign{id, "u", "02139", std::nullopt}));
    ASSERT_TRUE(store_->StartCampaign(Cid(id)));
    PublishAll();
  }
  void PublishAll() {
    auto rows = store_->ClaimOutbox(1000, 30s);
    ASSERT_TRUE(rows);
    std::vector<int64_t> ids;
    for (const auto& r : *rows) ids.push_back(r.id);
    ASSERT_TRUE(store_->MarkPublished(ids));
  }
  Campaign Get(const std::string& id) { return *store_->GetCampaign(Cid(id)); }
  size_t Events(const std::string& id) { return store_->OutboxForCampaign(Cid(id))->size(); }

  ReconcileSettings settings_;
};

TEST_F(ReconcilerTest, APassRepublishesStuckAndRestartsErroredCampaignsAndCountsThem) {
  Started("stuck");
  Started("errored");
  ASSERT_TRUE(store_->FailCampaign(Cid("errored"), DataPart::kRecentSales, 1, "provider said no"));
  clock_.Advance(6h);
  Started("fresh");

  Reconciler r(*store_, clock_, RealTicker(), Options("a"));
  auto pass = r.RunOnce();
  ASSERT_TRUE(pass) << pass.error().ToString();
  EXPECT_TRUE(pass->acted);
  ASSERT_EQ(pass->items.size(), 2u);
  EXPECT_EQ(pass->items[0].campaign_id, "stuck");
  EXPECT_EQ(pass->items[0].action, ReconcileAction::kRepublish);
  EXPECT_TRUE(pass->items[0].applied);
  EXPECT_THAT(pass->items[0].note, HasSubstr("published again (1 of 2)"));
  EXPECT_EQ(pass->items[1].campaign_id, "errored");
  EXPECT_EQ(pass->items[1].action, ReconcileAction::kRestart);
  EXPECT_THAT(pass->items[1].note, HasSubstr("was: provider said no"));
  EXPECT_EQ(pass->count(ReconcileAction::kRepublish), 1);
  EXPECT_EQ(pass->count(ReconcileAction::kRestart), 1);
  EXPECT_EQ(pass->count(ReconcileAction::kFailStuck), 0);

  EXPECT_EQ(Get("stuck").republish_count, 1);
  EXPECT_EQ(Events("stuck"), 2u);
  EXPECT_EQ(Get("errored").status, CampaignStatus::kDormant);
  EXPECT_EQ(Get("errored").restart_count, 1);
  EXPECT_EQ(Get("fresh").republish_count, 0);
  EXPECT_EQ(Events("fresh"), 1u);
}

TEST_F(ReconcilerTest, TheThreadKeepsItsLastPassForTheDashboard) {
  Started("stuck");
  clock_.Advance(1h);
  ManualTicker ticker;  // the thread's next pass is an hour of ticker time away
  Reconciler r(*store_, clock_, ticker, Options("a"));
  EXPECT_EQ(r.interval(), 60s);
  EXPECT_FALSE(r.LastPass());
  r.Start();
  ASSERT_TRUE(testing::Eventually([&] { return r.LastPass().has_value(); }));
  auto last = *r.LastPass();
  EXPECT_EQ(last.at, clock_.Now());
  EXPECT_TRUE(last.ok);
  EXPECT_TRUE(last.acted);
  EXPECT_EQ(last.looked_at, 1);
  EXPECT_EQ(last.counts[static_cast<size_t>(ReconcileAction::kRepublish)], 1);

  // Another instance's thread finds the lease taken: a pass that looked at nothing.
  auto second_store = Open();
  Reconciler b(*second_store, clock_, ticker, Options("b"));
  b.Start();
  ASSERT_TRUE(testing::Eventually([&] { return b.LastPass().has_value(); }));
  EXPECT_FALSE(b.LastPass()->acted);
  EXPECT_EQ(b.LastPass()->looked_at, 0);
  b.Stop();
  r.Stop();
}

TEST_F(ReconcilerTest, RepublishesAreStuckAfterApartAndThenTheCampaignFails) {
  Started("c");
  Reconciler r(*store_, clock_, RealTicker(), Options("a"));
  std::vector<ReconcileAction> actions;
  for (int minute = 1; minute <= 60; ++minute) {  // passes every minute for an hour
    clock_.Advance(60s);
    auto pass = r.RunOnce();
    ASSERT_TRUE(pass) << pass.error().ToString();
    PublishAll();
    for (const auto& item : pass->items) {
      ASSERT_TRUE(item.applied) << item.note;
      actions.push_back(item.action);
    }
  }
  EXPECT_EQ(actions, (std::vector{ReconcileAction::kRepublish, ReconcileAction::kRepublish,
                                  ReconcileAction::kFailStuck}));
  Campaign c = Get("c");
  EXPECT_EQ(c.status, CampaignStatus::kError);
  EXPECT_THAT(c.error_text, HasSubstr("local_market_data, active_listings, recent_sales"));
  // Restarted once after 6 h, then left in ERROR for a person.
  clock_.Advance(6h);
  ASSERT_EQ(r.RunOnce()->count(ReconcileAction::kRestart), 1);
  ASSERT_TRUE(store_->StartCampaign(Cid("c")));
  ASSERT_TRUE(store_->FailCampaign(Cid("c"), std::nullopt, std::nullopt, "again"));
  clock_.Advance(600h);
  auto pass = r.RunOnce();
  ASSERT_TRUE(pass);
  EXPECT_TRUE(pass->items.empty());
  EXPECT_EQ(Get("c").status, CampaignStatus::kError);
  EXPECT_EQ(Get("c").restart_count, 1);
}

TEST_F(ReconcilerTest, DryRunSaysWhatItWouldDoAndChangesNothing) {
  Started("stuck");
  clock_.Advance(1h);
  const Campaign before = Get("stuck");
  Reconciler r(*store_, clock_, RealTicker(), Options("a"));
  auto pass = r.RunOnce(/*dry_run=*/true);
  ASSERT_TRUE(pass);
  ASSERT_EQ(pass->items.size(), 1u);
  EXPECT_FALSE(pass->items[0].applied);
  EXPECT_THAT(pass->items[0].note, HasSubstr("would: data cycle 1 event published again"));
  EXPECT_EQ(pass->count(ReconcileAction::kRepublish), 0);
  EXPECT_EQ(Get("stuck"), before);
  EXPECT_EQ(Events("stuck"), 1u);
  // A dry run does not take the lease either.
  EXPECT_TRUE(*store_->AcquireLease(std::string(kReconcilerLeaseName), "other", 10s));
}

TEST_F(ReconcilerTest, OnlyTheLeaseHolderActsAndADeadHoldersLeaseLapses) {
  settings_.stuck_after = 100s;
  Started("c1");
  clock_.Advance(1h);
  StorePtr second_store = Open();
  Reconciler a(*store_, clock_, RealTicker(), Options("a"));
  Reconciler b(*second_store, clock_, RealTicker(), Options("b"));
  EXPECT_EQ(a.lease_ttl(), 120s);

  auto pa = a.RunOnce();
  ASSERT_TRUE(pa);
  EXPECT_TRUE(pa->acted);
  EXPECT_EQ(pa->count(ReconcileAction::kRepublish), 1);
  PublishAll();
  clock_.Advance(60s);
  auto pb = b.RunOnce();
  ASSERT_TRUE(pb);
  EXPECT_FALSE(pb->acted) << "a holds the lease";
  EXPECT_TRUE(pb->items.empty());
  pa = a.RunOnce();  // renews until +180 s
  ASSERT_TRUE(pa);
  EXPECT_TRUE(pa->acted);
  EXPECT_TRUE(pa->items.empty()) << "republished 60 s ago";

  // Now "a" is killed -9: it never renews or releases. b takes over one lease period after
  // a's last renewal, not before.
  clock_.Advance(119s);
  pb = b.RunOnce();
  ASSERT_TRUE(pb);
  EXPECT_FALSE(pb->acted);
  EXPECT_EQ(Get("c1").republish_count, 1);
  clock_.Advance(1s);
  pb = b.RunOnce();
  ASSERT_TRUE(pb);
  EXPECT_TRUE(pb->acted);
  EXPECT_EQ(pb->count(ReconcileAction::kRepublish), 1);
  EXPECT_EQ(Get("c1").republish_count, 2);
  pa = a.RunOnce();
  ASSERT_TRUE(pa);
  EXPECT_FALSE(pa->acted);
}

TEST_F(ReconcilerTest, TwoInstancesActingAtOnceApplyEachActionOnce) {
  constexpr int kCampaigns = 40;
  for (int i = 0; i < kCampaigns; ++i) Started("c" + std::to_string(i));
  clock_.Advance(1h);
  StorePtr second_store = Open();
  auto options = Options("");
  options.use_lease = false;  // as `dripr reconcile` next to a fetcher
  Reconciler a(*store_, clock_, RealTicker(), options);
  Reconciler b(*second_store, clock_, RealTicker(), options);
  Result<ReconcilePass> pa, pb;
  std::thread ta([&] { pa = a.RunOnce(); });
  std::thread tb([&] { pb = b.RunOnce(); });
  ta.join();
  tb.join();
  ASSERT_TRUE(pa) << pa.error().ToString();
  ASSERT_TRUE(pb) << pb.error().ToString();
  EXPECT_EQ(pa->count(ReconcileAction::kRepublish) + pb->count(ReconcileAction::kRepublish),
            kCampaigns);
  for (int i = 0; i < kCampaigns; ++i) {
    const std::string id = "c" + std::to_string(i);
    EXPECT_EQ(Get(id).republish_count, 1) << id;
    EXPECT_EQ(Events(id), 2u) << id;
  }
}

TEST_F(ReconcilerTest, ThreadPassesAtOnceReportsAndStopReleasesTheLease) {
  Started("c1");
  clock_.Advance(1h);
  std::atomic<int64_t> republished{0};
  auto options = Options("a");
  options.on_pass = [&](const ReconcilePass& p) {
    republished += p.count(ReconcileAction::kRepublish);
  };
  Reconciler r(*store_, clock_, RealTicker(), options);
  r.Start();
  ASSERT_TRUE(testing::Eventually([&] { return republished.load() == 1; }));
  r.Stop();
  EXPECT_EQ(Get("c1").republish_count, 1);
  StorePtr other = Open();
  EXPECT_TRUE(*other->AcquireLease(std::string(kReconcilerLeaseName), "b", 10s))
      << "released at stop: free before its ttl";
}

TEST_F(ReconcilerTest, IntervalZeroStartsNoThread) {
  Started("c1");
  clock_.Advance(1h);
  settings_.interval = 0s;
  Reconciler r(*store_, clock_, RealTicker(), Options("a"));
  r.Start();
  r.Stop();
  EXPECT_EQ(Get("c1").republish_count, 0);
}

}  // namespace
}  // namespace dripr
