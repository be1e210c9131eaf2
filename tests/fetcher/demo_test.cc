// The demo's library part (fetcher/demo.h): the same campaigns every run, built from the
// centroid loader; a run that starts them and reports progress; the latency summary.

#include "dripr/fetcher/demo.h"

#include <gtest/gtest.h>

#include "bus/temp_dir.h"
#include "dripr/core/time.h"
#include "support/campaign_ids.h"
#include "support/ctest_env.h"

namespace dripr {
namespace {

using namespace std::chrono_literals;

ZipCentroids TenZips() {
  std::vector<std::pair<std::string, GeoPoint>> z;
  for (int i = 0; i < 10; ++i) z.push_back({"0210" + std::to_string(i), {42.0 + i, -71.0 - i}});
  return ZipCentroids::FromList(z);
}

TEST(DemoCampaigns, SpreadOverTheZipsEveryThirdWithoutAddress) {
  auto plan = DemoCampaigns(TenZips(), 5);
  ASSERT_EQ(plan.size(), 5u);
  // step 2: zips 1, 3, 5, 7, 9 (the middle of each stretch).
  EXPECT_EQ(plan[0].id, "demo-0001");
  EXPECT_EQ(plan[0].zip_code, "02101");
  EXPECT_EQ(plan[4].zip_code, "02109");
  EXPECT_EQ(plan[0].user_id, "agent-1");
  EXPECT_EQ(plan[4].user_id, "agent-5");
  ASSERT_TRUE(plan[0].property.has_value());
  EXPECT_EQ(plan[0].property->formatted_address, "100 Maple St, 02101");
  EXPECT_DOUBLE_EQ(plan[0].property->location.lat, 43.0 - 0.008);
  EXPECT_DOUBLE_EQ(plan[0].property->location.lng, -72.0 + 0.004);
  EXPECT_EQ(plan[0].property->current_value, 250000);
  EXPECT_EQ(plan[1].property->current_value, 250000 + 7919);
  EXPECT_FALSE(plan[2].property.has_value());  // every third: a no-address newsletter
  EXPECT_TRUE(plan[3].property.has_value());

  // The same every run; more campaigns than zips wrap around.
  EXPECT_EQ(DemoCampaigns(TenZips(), 5)[3].property->formatted_address,
            plan[3].property->formatted_address);
  auto many = DemoCampaigns(TenZips(), 25);
  ASSERT_EQ(many.size(), 25u);
  EXPECT_EQ(many[24].id, "demo-0025");
  EXPECT_TRUE(DemoCampaigns(ZipCentroids(), 5).empty());
  EXPECT_TRUE(DemoCampaigns(TenZips(), 0).empty());
}

TEST(DemoCampaigns, TheRealCentroidFileLoads) {
  const std::string dir = testing::DataDir();
  ASSERT_FALSE(dir.empty());
  auto zips = ZipCentroids::LoadFile(dir + "/zip_codes.csv");
  ASSERT_TRUE(zips) << zips.error().ToString();
  auto plan = DemoCampaigns(*zips, 100);
  ASSERT_EQ(plan.size(), 100u);
  for (const auto& c : plan) EXPECT_EQ(c.zip_code.size(), 5u) << c.id;
}

// A SQLite store in `dir`, migrated; null when that failed.
StorePtr MigratedStore(const testing::TempDir& dir) {
  StoreOptions o;
  o.database_url = "sqlite:" + dir.File("t.db");
  auto store = OpenStore(o);
  if (!store || !(*store)->Migrate()) return nullptr;
  return std::move(*store);
}

TEST(RunDemo, StartsEveryCampaignAndReportsProgressUntilTheDeadline) {
  testing::TempDir dir;
  StoreOptions o;
  o.database_url = "sqlite:" + dir.File("t.db");
  auto store = OpenStore(o);
  ASSERT_TRUE(store) << store.error().ToString();
  ASSERT_TRUE((*store)->Migrate());
  auto plan = DemoCampaigns(TenZips(), 3);
  // A ticker that jumps past the deadline after the first progress report; nobody fetches.
  ManualTicker ticker;
  int reports = 0;
  auto run = RunDemo(**store, plan, ticker, 120s, [&](const DemoProgress& p) {
    ++reports;
    EXPECT_EQ(p.total, 3);
    EXPECT_EQ(p.ready, 0);
    EXPECT_FALSE(p.finished);
    ticker.Advance(121s);
  });
  ASSERT_TRUE(run) << run.error().ToString();
  EXPECT_EQ(reports, 2);  // one at t0, one past the deadline
  // The refresh waits on the ticker: one wait of kDemoRefresh, after the first report.
  EXPECT_EQ(ticker.Sleeps(), (std::vector<Ticker::Duration>{121s + kDemoRefresh}));
  EXPECT_EQ(run->ids,
            (std::vector<CampaignId>{Cid("demo-0001"), Cid("demo-0002"), Cid("demo-0003")}));
  EXPECT_DOUBLE_EQ(run->last.seconds, 121.1);  // 121 s + one refresh of 100 ms
  for (const auto& id : run->ids) {
    auto c = (*store)->GetCampaign(id);
    ASSERT_TRUE(c);
    EXPECT_EQ(c->status, CampaignStatus::kWaitingForData);
    EXPECT_EQ(run->started_at[id], c->status_changed_at);
  }

  // A second run with the same ids fails on create: the store's error is returned.
  auto again = RunDemo(**store, plan, ticker, 120s, nullptr);
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().code, ErrorCode::kAlreadyExists);
}

TEST(RunDemo, EndsWhenEveryCampaignIsReadyOrError) {
  testing::TempDir dir;
  StorePtr store = MigratedStore(dir);
  ASSERT_TRUE(store);
  ManualTicker ticker;
  std::vector<DemoProgress> seen;
  auto run = RunDemo(*store, DemoCampaigns(TenZips(), 2), ticker, 120s, [&](const DemoProgress& p) {
    seen.push_back(p);
    for (const char* id : {"demo-0001", "demo-0002"}) {
      ASSERT_TRUE(store->FailCampaign(Cid(id), std::nullopt, std::nullopt, "x"));
    }
  });
  ASSERT_TRUE(run) << run.error().ToString();
  // Only the one refresh moved the ticker: the run ended because all finished.
  ASSERT_EQ(seen.size(), 2u);
  EXPECT_EQ(ticker.Elapsed(), kDemoRefresh);
  EXPECT_FALSE(seen[0].finished);
  EXPECT_TRUE(seen[1].finished);
  EXPECT_EQ(run->last.failed, 2);
  EXPECT_EQ(run->last.ready, 0);
}

TEST(RunDemo, CountsOnlyCampaignsThatFinishedDuringTheRun) {
  testing::TempDir dir;
  StorePtr store = MigratedStore(dir);
  ASSERT_TRUE(store);
  // One campaign already in ERROR before the run.
  NewCampaign old;
  old.id = "old-1";
  old.zip_code = "10001";
  old.user_id = "agent-1";
  ASSERT_TRUE(store->CreateCampaign(old));
  ASSERT_TRUE(store->StartCampaign(Cid("old-1")));
  ASSERT_TRUE(store->FailCampaign(Cid("old-1"), std::nullopt, std::nullopt, "x"));
  ManualTicker ticker;
  std::vector<DemoProgress> seen;
  auto run = RunDemo(*store, DemoCampaigns(TenZips(), 2), ticker, 120s, [&](const DemoProgress& p) {
    seen.push_back(p);
    if (seen.size() == 1) {
      ASSERT_TRUE(store->FailCampaign(Cid("demo-0001"), std::nullopt, std::nullopt, "x"));
      ticker.Advance(121s);  // past the deadline: the next report is the last
    }
  });
  ASSERT_TRUE(run) << run.error().ToString();
  ASSERT_EQ(seen.size(), 2u);
  EXPECT_EQ(seen[0].failed, 0);  // old-1 is not the run's
  EXPECT_EQ(seen[1].failed, 1);
  EXPECT_EQ(seen[1].ready, 0);
  EXPECT_FALSE(seen[1].finished);  // demo-0002 is still waiting
}

TEST(RecordedSeconds, FromTheFirstStartToTheLastFinishAsStored) {
  const SysTime t0 = ParseIso8601("2026-12-01T06:00:00.000Z").value();
  DemoRun run;
  run.started_at[Cid("demo-0001")] = t0 + 5ms;
  run.started_at[Cid("demo-0002")] = t0;
  auto done = [&](const char* id, CampaignStatus s, std::chrono::milliseconds at) {
    Campaign c;
    c.id = Cid(id);
    c.status = s;
    c.status_changed_at = t0 + at;
    return c;
  };
  std::vector<Campaign> finished{done("demo-0001", CampaignStatus::kReadyToCreateEmail, 1250ms),
                                 done("demo-0002", CampaignStatus::kError, 1750ms)};
  auto s = RecordedSeconds(run, finished);
  ASSERT_TRUE(s.has_value());
  EXPECT_DOUBLE_EQ(*s, 1.75);

  // One still waiting: no recorded end.
  finished[1].status = CampaignStatus::kWaitingForData;
  EXPECT_FALSE(RecordedSeconds(run, finished).has_value());
  // Nothing finished after the start (a clock step back): no recorded span.
  finished[1] = done("demo-0002", CampaignStatus::kReadyToCreateEmail, -1ms);
  finished[0] = done("demo-0001", CampaignStatus::kReadyToCreateEmail, 0ms);
  EXPECT_FALSE(RecordedSeconds(run, finished).has_value());
  EXPECT_FALSE(RecordedSeconds(DemoRun{}, finished).has_value());
}

TEST(SummarizeLatencies, PercentilesOfTheSortedValues) {
  auto s = SummarizeLatencies({5, 1, 4, 2, 3, 10, 9, 8, 7, 6});
  EXPECT_EQ(s.p50, 6);
  EXPECT_EQ(s.p95, 10);
  EXPECT_EQ(s.max, 10);
  auto none = SummarizeLatencies({});
  EXPECT_EQ(none.p50, 0);
  EXPECT_EQ(none.max, 0);
}

}  // namespace
}  // namespace dripr
