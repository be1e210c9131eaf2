// Store contract suite, part 3: what operators recover and watch with — RetryCampaign, the
// outbox backlog and the data-fetcher heartbeats (`dripr campaign retry`, `dripr queues`).

#include <gmock/gmock.h>

#include "support/campaign_ids.h"
#include "support/store_contract.h"

namespace dripr {

// Referenced from StoreBackendName so that the linker keeps this file's tests.
void StoreContractRecoveryAnchor() {}

namespace {

using ::testing::HasSubstr;
using namespace std::chrono_literals;

TEST_P(StoreContractTest, RetryStartsANewCycleOfAnErrorCampaign) {
  int64_t cycle = CreateAndStart("c-1");
  ASSERT_TRUE(store().CompletePart(Cid("c-1"), cycle, MarketPart("2026-11", 500000)));
  ASSERT_TRUE(store().FailCampaign(Cid("c-1"), DataPart::kActiveListings, cycle, "boom"));
  clock_.Advance(1min);
  auto retry = store().RetryCampaign(Cid("c-1"));
  ASSERT_TRUE(retry) << retry.error().ToString();
  ASSERT_TRUE(retry->changed) << retry->reason;
  EXPECT_EQ(retry->campaign.status, CampaignStatus::kWaitingForData);
  EXPECT_EQ(retry->campaign.data_cycle, cycle + 1);
  for (DataPart p : kAllDataParts) {
    EXPECT_EQ(retry->campaign.part(p), PartStatus::kWaitingForData) << ToString(p);
  }
  EXPECT_EQ(retry->campaign.error_text, "");
  EXPECT_EQ(retry->campaign.status_changed_at, clock_.Now());
  EXPECT_EQ(MustGet("c-1"), retry->campaign);
  ASSERT_TRUE(retry->event.has_value());
  EXPECT_EQ(retry->event->from_status, CampaignStatus::kError);
  EXPECT_EQ(retry->event->to_status, CampaignStatus::kWaitingForData);
  EXPECT_EQ(retry->event->data_cycle, cycle + 1);
  auto outbox = MustOutbox("c-1");
  ASSERT_EQ(outbox.size(), 3u);  // start, fail, retry
  EXPECT_EQ(outbox.back().body, EncodeStatusChange(*retry->event));

  // A copy of the failed cycle's event (e.g. redriven from a DLQ) is now stale.
  auto stale = store().CompletePart(Cid("c-1"), cycle, ListingsPart(3, "old"));
  ASSERT_TRUE(stale);
  EXPECT_FALSE(stale->changed);
  EXPECT_THAT(stale->reason, HasSubstr("stale"));
  // The new cycle completes.
  ASSERT_TRUE(store().CompletePart(Cid("c-1"), cycle + 1, MarketPart("2026-11", 500000)));
  ASSERT_TRUE(store().CompletePart(Cid("c-1"), cycle + 1, ListingsPart(3, "new")));
  auto done = store().CompletePart(Cid("c-1"), cycle + 1, SalesPart(3, "new"));
  ASSERT_TRUE(done);
  EXPECT_EQ(done->campaign.status, CampaignStatus::kReadyToCreateEmail);
}

TEST_P(StoreContractTest, RetryOfACampaignNotInErrorChangesNothing) {
  ASSERT_TRUE(store().CreateCampaign(NewCampaignFor("d")));
  auto dormant = store().RetryCampaign(Cid("d"));
  ASSERT_TRUE(dormant);
  EXPECT_FALSE(dormant->changed);
  EXPECT_EQ(dormant->reason, "campaign d is DORMANT, not ERROR");
  EXPECT_FALSE(dormant->event.has_value());

  CreateAndStart("w");
  auto waiting = store().RetryCampaign(Cid("w"));
  ASSERT_TRUE(waiting);
  EXPECT_FALSE(waiting->changed);
  EXPECT_EQ(waiting->reason, "campaign w is WAITING_FOR_DATA, not ERROR");
  EXPECT_EQ(MustOutbox("w").size(), 1u);
  EXPECT_TRUE(MustOutbox("d").empty());

  auto missing = store().RetryCampaign(Cid("nope"));
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code, ErrorCode::kNotFound);
}

TEST_P(StoreContractTest, RetryHonoursTheRequiredParts) {
  Remake(RequiredParts::Of({DataPart::kLocalMarketData}));
  int64_t cycle = CreateAndStart("c-1");
  ASSERT_TRUE(store().FailCampaign(Cid("c-1"), DataPart::kLocalMarketData, cycle, "boom"));
  auto retry = store().RetryCampaign(Cid("c-1"));
  ASSERT_TRUE(retry && retry->changed);
  EXPECT_EQ(retry->campaign.part(DataPart::kLocalMarketData), PartStatus::kWaitingForData);
  EXPECT_EQ(retry->campaign.part(DataPart::kActiveListings), PartStatus::kDormant);
  EXPECT_EQ(retry->campaign.part(DataPart::kRecentSales), PartStatus::kDormant);
}

TEST_P(StoreContractTest, PendingOutboxCountsUnpublishedRowsAndTheOldestAge) {
  auto empty = store().PendingOutbox();
  ASSERT_TRUE(empty) << empty.error().ToString();
  EXPECT_EQ(empty->pending, 0);
  EXPECT_FALSE(empty->oldest_created.has_value());

  const SysTime first = clock_.Now();
  CreateAndStart("a");
  clock_.Advance(5s);
  CreateAndStart("b");
  auto two = store().PendingOutbox();
  ASSERT_TRUE(two);
  EXPECT_EQ(two->pending, 2);
  EXPECT_EQ(two->oldest_created, first);

  auto claimed = store().ClaimOutbox(1, 30s);
  ASSERT_TRUE(claimed && claimed->size() == 1u);
  ASSERT_TRUE(store().MarkPublished({claimed->front().id}));
  auto one = store().PendingOutbox();
  ASSERT_TRUE(one);
  EXPECT_EQ(one->pending, 1);
  EXPECT_EQ(one->oldest_created, first + 5s);
}

FetcherInfo Fetcher(const std::string& id, SysTime started) {
  FetcherInfo f;
  f.instance_id = id;
  f.host = "host-" + id;
  f.pid = 4242;
  f.version = "1.2.3";
  f.started_at = started;
  return f;
}

TEST_P(StoreContractTest, FetcherHeartbeatsRegisterRefreshAndUnregister) {
  auto none = store().ListFetchers();
  ASSERT_TRUE(none) << none.error().ToString();
  EXPECT_TRUE(none->empty());

  const SysTime t0 = clock_.Now();
  ASSERT_TRUE(store().HeartbeatFetcher(Fetcher("f-1", t0)));
  clock_.Advance(2s);
  ASSERT_TRUE(store().HeartbeatFetcher(Fetcher("f-2", t0 + 2s)));
  clock_.Advance(3s);
  ASSERT_TRUE(store().HeartbeatFetcher(Fetcher("f-1", t0)));  // f-1 beats again

  auto list = store().ListFetchers();
  ASSERT_TRUE(list);
  ASSERT_EQ(list->size(), 2u);
  EXPECT_EQ((*list)[0].instance_id, "f-1");  // newest heartbeat first
  EXPECT_EQ((*list)[0].host, "host-f-1");
  EXPECT_EQ((*list)[0].pid, 4242);
  EXPECT_EQ((*list)[0].version, "1.2.3");
  EXPECT_EQ((*list)[0].started_at, t0);
  EXPECT_EQ((*list)[0].heartbeat_at, t0 + 5s);
  EXPECT_EQ((*list)[1].instance_id, "f-2");
  EXPECT_EQ((*list)[1].heartbeat_at, t0 + 2s);

  // Alive = heartbeat younger than three intervals.
  EXPECT_TRUE(FetcherAlive((*list)[1], t0 + 2s + 14999ms, 5s));
  EXPECT_FALSE(FetcherAlive((*list)[1], t0 + 2s + 15s, 5s));

  ASSERT_TRUE(store().UnregisterFetcher("f-1"));
  ASSERT_TRUE(store().UnregisterFetcher("f-1"));  // absent: not an error
  auto left = store().ListFetchers();
  ASSERT_TRUE(left);
  ASSERT_EQ(left->size(), 1u);
  EXPECT_EQ(left->front().instance_id, "f-2");

  auto bad = store().HeartbeatFetcher(Fetcher("", t0));
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().code, ErrorCode::kInvalidArgument);
}

}  // namespace
}  // namespace dripr
