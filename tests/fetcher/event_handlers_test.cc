// The three handlers on a real SQLite store with a scripted provider: radius widening,
// ranking, stale/duplicate/ignored events, unknown campaigns, market reuse, error kinds.

#include "dripr/fetcher/event_handlers.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "dripr/core/ids.h"
#include "dripr/sqlite/writer.h"
#include "fetcher/local_pipeline.h"
#include "support/campaign_ids.h"

namespace dripr {
namespace {

using namespace std::chrono_literals;

// Returns `count_at(radius)` listings/sales placed around the centre; counts calls.
class ScriptedProvider : public Provider {
 public:
  std::function<size_t(double)> count_at = [](double) { return 20; };
  std::optional<Error> error;  // returned by every call when set
  std::atomic<int> market_calls{0}, search_calls{0};
  std::vector<double> radii;
  std::function<void()> during_market;  // runs inside Market() when set

  std::string Name() const override { return "scripted"; }
  Result<MarketData> Market(const std::string& zip) override {
    ++market_calls;
    if (during_market) during_market();
    if (error) return std::unexpected(*error);
    MarketData m;
    m.zip_code = zip;
    m.current = {"2026-11", 500000.0, 300.0, 20.0, 100};
    m.previous = {"2026-08", 480000.0, 290.0, 25.0, 90};
    return m;
  }
  Result<std::vector<PropertyRecord>> ActiveListings(const SearchArea& a) override {
    return Search(a);
  }
  Result<std::vector<PropertyRecord>> RecentSales(const SearchArea& a, int) override {
    return Search(a);
  }

 private:
  Result<std::vector<PropertyRecord>> Search(const SearchArea& a) {
    ++search_calls;
    radii.push_back(a.radius_miles);
    if (error) return std::unexpected(*error);
    std::vector<PropertyRecord> out;
    size_t n = count_at(a.radius_miles);
    for (size_t i = 0; i < n; ++i) {
      PropertyRecord r;
      r.source_id = "p" + std::to_string(i);
      r.formatted_address = std::to_string(i) + " Elm St";
      r.zip_code = a.zip_code;
      // Farther and farther out; every other one without a price.
      r.location = GeoPoint{a.center.lat + 0.001 * static_cast<double>(i), a.center.lng};
      if (i % 2 == 0) r.price = 400000 + static_cast<int64_t>(i) * 1000;
      r.event_date = "2026-11-01";
      out.push_back(r);
    }
    return out;
  }
};

class HandlersTest : public testing::LocalStoreTest {
 protected:
  // Creates and starts a campaign; returns its start event.
  StatusChangeEvent Started(const std::string& id, bool with_property = true) {
    NewCampaign c{id, "u", "02139", std::nullopt};
    if (with_property) c.property = PropertyData{"1 Main St", {42.36, -71.10}, 450000};
    EXPECT_TRUE(store_->CreateCampaign(c));
    auto r = store_->StartCampaign(Cid(id));
    EXPECT_TRUE(r && r->event);
    return *r->event;
  }
  HandlerContext Ctx() { return HandlerContext{*store_, provider_, clock_, options_}; }
  static ReceivedMessage Message(const StatusChangeEvent& ev) {
    ReceivedMessage m;
    m.body = EncodeStatusChange(ev);
    m.receive_count = 1;
    return m;
  }
  // Commits of the store's file so far (sqlite/writer.h: one writer per file and process).
  uint64_t Commits() {
    auto writer = sqlite::Writer::For(local_.dir.File("t.db"), 5s);
    EXPECT_TRUE(writer) << writer.error().ToString();
    return writer ? (*writer)->commits() : 0;
  }
  // Whether the market lease of `zip` is free: the manual clock stands still, so a lease
  // still held (not released) has not expired either. Takes it and gives it back.
  bool LeaseFree(const std::string& zip) {
    const std::string name = "market:" + zip, probe = "probe-" + NewUuid();
    auto taken = store_->AcquireLease(name, probe, 10s);
    EXPECT_TRUE(taken) << taken.error().ToString();
    EXPECT_TRUE(store_->ReleaseLease(name, probe));
    return taken && *taken;
  }
  Campaign Get(const std::string& id) { return *store_->GetCampaign(Cid(id)); }

  ScriptedProvider provider_;
  FetchOptions options_;
};

TEST_F(HandlersTest, WidensTheRadiusUntilTenCandidatesAndStoresThemRanked) {
  provider_.count_at = [](double r) { return r < 4 ? size_t{3} : size_t{14}; };
  auto ev = Started("c1");
  auto ctx = Ctx();
  auto out = HandleActiveListingsEvent(ev, 1, ctx);
  EXPECT_EQ(out.verdict, Verdict::kDone) << out.reason;
  EXPECT_EQ(provider_.radii, (std::vector<double>{1, 2, 4}));
  auto rows = store_->GetActiveListings(Cid("c1"));
  ASSERT_TRUE(rows);
  ASSERT_EQ(rows->size(), 14u);
  for (size_t i = 0; i < rows->size(); ++i) EXPECT_EQ((*rows)[i].rank, static_cast<int>(i) + 1);
  // A priced, close record outranks an unpriced one next to it.
  EXPECT_TRUE((*rows)[0].record.price.has_value());
  EXPECT_EQ(Get("c1").part(DataPart::kActiveListings), PartStatus::kReady);
}

TEST_F(HandlersTest, TooFewAfterTheLastWideningIsAFailureNamingTheRadius) {
  provider_.count_at = [](double) { return size_t{5}; };
  auto ev = Started("c1");
  auto ctx = Ctx();
  auto out = HandleRecentSalesEvent(ev, 1, ctx);
  EXPECT_EQ(out.verdict, Verdict::kFail);
  EXPECT_EQ(out.reason, "only 5 recent_sales within 8 miles (need 10)");
  EXPECT_EQ(provider_.radii, (std::vector<double>{1, 2, 4, 8}));
}

TEST_F(HandlersTest, FanInHappensOnceWhenTheLastPartIsReady) {
  auto ev = Started("c1");
  auto ctx = Ctx();
  EXPECT_EQ(HandleLocalMarketDataEvent(ev, 1, ctx).verdict, Verdict::kDone);
  EXPECT_EQ(HandleActiveListingsEvent(ev, 1, ctx).verdict, Verdict::kDone);
  EXPECT_EQ(Get("c1").status, CampaignStatus::kWaitingForData);
  auto last = HandleRecentSalesEvent(ev, 1, ctx);
  EXPECT_NE(last.reason.find("campaign READY_TO_CREATE_EMAIL"), std::string::npos) << last.reason;
  EXPECT_EQ(Get("c1").status, CampaignStatus::kReadyToCreateEmail);
  // The same events again: acknowledged, nothing fetched, nothing changed.
  int calls = provider_.search_calls;
  auto again = HandleActiveListingsEvent(ev, 1, ctx);
  EXPECT_EQ(again.verdict, Verdict::kDone);
  EXPECT_EQ(again.reason, "stale: campaign is READY_TO_CREATE_EMAIL");
  EXPECT_EQ(provider_.search_calls, calls);
  auto events = store_->OutboxForCampaign(Cid("c1"));
  ASSERT_TRUE(events);
  EXPECT_EQ(events->size(), 2u);
}

TEST_F(HandlersTest, EventFromAnotherDataCycleIsStale) {
  auto ev = Started("c1");
  ev.data_cycle = 7;
  auto ctx = Ctx();
  auto out = HandleActiveListingsEvent(ev, 1, ctx);
  EXPECT_EQ(out.verdict, Verdict::kDone);
  EXPECT_EQ(out.reason, "stale: event for data cycle 7, campaign is in 1");
  EXPECT_EQ(provider_.search_calls, 0);
}

TEST_F(HandlersTest, EventsToOtherStatusesAreIgnored) {
  auto ev = Started("c1");
  ev.to_status = CampaignStatus::kReadyToCreateEmail;
  auto ctx = Ctx();
  auto out = HandleRecentSalesEvent(ev, 1, ctx);
  EXPECT_EQ(out.verdict, Verdict::kDone);
  EXPECT_EQ(out.reason, "ignored: event is to READY_TO_CREATE_EMAIL");
}

TEST_F(HandlersTest, UnknownCampaignIsRetriedThenAFailure) {
  StatusChangeEvent ev;
  ev.campaign_id = Cid("ghost");
  ev.zip_code = "02139";
  ev.to_status = CampaignStatus::kWaitingForData;
  auto ctx = Ctx();
  EXPECT_EQ(HandleActiveListingsEvent(ev, 1, ctx).verdict, Verdict::kRetry);
  EXPECT_EQ(HandleActiveListingsEvent(ev, 2, ctx).verdict, Verdict::kRetry);
  auto out = HandleActiveListingsEvent(ev, 3, ctx);
  EXPECT_EQ(out.verdict, Verdict::kFail);
  EXPECT_EQ(out.reason, "unknown campaign ghost");
}

TEST_F(HandlersTest, MarketDataIsReusedWithinTheWindowAndRefetchedAfter) {
  auto ctx = Ctx();
  EXPECT_EQ(HandleLocalMarketDataEvent(Started("a"), 1, ctx).verdict, Verdict::kDone);
  EXPECT_EQ(HandleLocalMarketDataEvent(Started("b"), 1, ctx).reason,
            "market data for 02139 reused");
  EXPECT_EQ(provider_.market_calls, 1);
  clock_.Advance(std::chrono::hours(24 * 31));
  EXPECT_EQ(HandleLocalMarketDataEvent(Started("c"), 1, ctx).reason,
            "market data for 02139 fetched");
  EXPECT_EQ(provider_.market_calls, 2);
}

TEST_F(HandlersTest, MarketDataOfOneZipIsFetchedOnceByConcurrentInstances) {
  // Two "instances" (stores on one database, handlers of their own), 5 threads each, 20
  // campaigns in one zip handled at once: whatever the interleaving, one provider call.
  StorePtr other = local_.OpenAnother(&clock_);
  ASSERT_NE(other, nullptr);
  std::vector<StatusChangeEvent> events;
  for (int i = 0; i < 20; ++i) events.push_back(Started("m" + std::to_string(i)));
  FetchOptions fast = options_;
  fast.market_flight.poll_interval = 5ms;
  PartEventHandler here(DataPart::kLocalMarketData, *store_, provider_, clock_, fast);
  PartEventHandler there(DataPart::kLocalMarketData, *other, provider_, clock_, fast);
  std::atomic<int> next{0}, fetched{0}, reused{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 10; ++t) {
    threads.emplace_back([&, t] {
      PartEventHandler& h = t % 2 == 0 ? here : there;
      for (int i = next++; i < 20; i = next++) {
        ReceivedMessage m;
        m.body = EncodeStatusChange(events[i]);
        m.receive_count = 1;
        HandlerOutcome out = h.Handle(m);
        EXPECT_EQ(out.verdict, Verdict::kDone) << out.reason;
        (out.reason.find("fetched") != std::string::npos ? fetched : reused)++;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(provider_.market_calls, 1);
  EXPECT_EQ(fetched, 1);
  EXPECT_EQ(reused, 19);
  for (int i = 0; i < 20; ++i) {
    EXPECT_EQ(Get("m" + std::to_string(i)).part(DataPart::kLocalMarketData), PartStatus::kReady);
  }
}

// The market lease (docs/decisions/cluster.md): one commit takes it, the commit that stores
// the data releases it; a failed or stale flight leaves no lease behind either.
TEST_F(HandlersTest, FetchedMarketDataIsOneCommitForTheLeaseAndOneForDataAndRelease) {
  PartEventHandler h(DataPart::kLocalMarketData, *store_, provider_, clock_, options_);
  auto m = Message(Started("a"));
  const uint64_t before = Commits();
  auto out = h.Handle(m);
  EXPECT_EQ(out.reason, "market data for 02139 fetched");
  EXPECT_EQ(Commits(), before + 2) << "take the lease; store the data and release the lease";
  EXPECT_TRUE(LeaseFree("02139")) << "released by the data's commit, not expired";
  EXPECT_EQ(Get("a").part(DataPart::kLocalMarketData), PartStatus::kReady);
  EXPECT_EQ(provider_.market_calls, 1);
}

TEST_F(HandlersTest, AFailedMarketCallReleasesTheLeaseAtOnce) {
  PartEventHandler h(DataPart::kLocalMarketData, *store_, provider_, clock_, options_);
  provider_.error = Error{ErrorCode::kUnavailable, "RentCast server error (503)"};
  auto m = Message(Started("a"));
  const uint64_t before = Commits();
  EXPECT_EQ(h.Handle(m).verdict, Verdict::kRetry);
  EXPECT_EQ(Commits(), before + 2) << "take the lease; release it (nothing to store)";
  EXPECT_TRUE(LeaseFree("02139"));

  provider_.error = Error{ErrorCode::kNotFound, "no such zip"};
  auto failed = h.Handle(Message(Started("b")));
  EXPECT_EQ(failed.verdict, Verdict::kFail);
  EXPECT_EQ(failed.reason, "no market data for zip 02139");
  EXPECT_TRUE(LeaseFree("02139"));
}

TEST_F(HandlersTest, AStaleMarketCommitStillReleasesTheLeaseInItsTransaction) {
  PartEventHandler h(DataPart::kLocalMarketData, *store_, provider_, clock_, options_);
  auto m = Message(Started("a"));
  // Another part fails the campaign while the market call runs.
  provider_.during_market = [&] {
    EXPECT_TRUE(store_->FailCampaign(Cid("a"), DataPart::kRecentSales, std::nullopt, "boom"));
  };
  const uint64_t before = Commits();
  auto out = h.Handle(m);
  EXPECT_EQ(out.verdict, Verdict::kDone);
  EXPECT_EQ(out.reason.rfind("stale at commit: ", 0), 0u) << out.reason;
  EXPECT_EQ(Commits(), before + 3) << "lease; the other part's failure; release (nothing stored)";
  EXPECT_TRUE(LeaseFree("02139"));
  auto stored = store_->LatestMarketData("02139");
  ASSERT_TRUE(stored);
  EXPECT_FALSE(stored->has_value());
}

TEST_F(HandlersTest, ProviderErrorsMapToRetryOrFailure) {
  auto ev = Started("c1");
  auto ctx = Ctx();
  provider_.error = Error{ErrorCode::kUnavailable, "RentCast server error (503)"};
  EXPECT_EQ(HandleActiveListingsEvent(ev, 1, ctx).verdict, Verdict::kRetry);
  provider_.error = Error{ErrorCode::kPermissionDenied, "RentCast rejected the API key (401)"};
  auto out = HandleActiveListingsEvent(ev, 1, ctx);
  EXPECT_EQ(out.verdict, Verdict::kFail);
  EXPECT_EQ(out.reason,
            "fetching active_listings: PERMISSION_DENIED: RentCast rejected the API key (401)");
}

TEST_F(HandlersTest, NoAddressCampaignSearchesAroundTheZipCentroidOrFailsWithoutOne) {
  auto ev = Started("news", /*with_property=*/false);
  auto ctx = Ctx();
  // No zip_codes loaded in this database: the failure says why.
  auto out = HandleActiveListingsEvent(ev, 1, ctx);
  EXPECT_EQ(out.verdict, Verdict::kFail);
  EXPECT_EQ(out.reason,
            "no coordinates for zip 02139 (no-address campaign and zip not in zip_codes)");
}

TEST_F(HandlersTest, OnFailurePutsPartAndCampaignInErrorWithTheReason) {
  auto ev = Started("c1");
  PartEventHandler h(DataPart::kRecentSales, *store_, provider_, clock_, options_);
  ReceivedMessage m;
  m.body = EncodeStatusChange(ev);
  m.receive_count = 1;
  ASSERT_TRUE(h.OnFailure(m, "only 5 recent_sales within 8 miles (need 10)"));
  auto c = Get("c1");
  EXPECT_EQ(c.status, CampaignStatus::kError);
  EXPECT_EQ(c.part(DataPart::kRecentSales), PartStatus::kError);
  EXPECT_EQ(c.error_text, "recent_sales: only 5 recent_sales within 8 miles (need 10)");
}

TEST_F(HandlersTest, MalformedMessageIsAFailureWithTheDecoderReason) {
  PartEventHandler h(DataPart::kActiveListings, *store_, provider_, clock_, options_);
  ReceivedMessage m;
  m.body = "{not json";
  auto out = h.Handle(m);
  EXPECT_EQ(out.verdict, Verdict::kFail);
  EXPECT_EQ(out.reason.rfind("malformed event: ", 0), 0u) << out.reason;
}

// HandleBatch (the consumer's batches, taken where the store batches parts: PostgreSQL) gives
// each message the outcome Handle would: a malformed, an ignored, a stale, an unknown and a
// duplicate event among ones that complete their part, one of them the campaign's last.
TEST_F(HandlersTest, ABatchGivesEachMessageTheOutcomeHandleWould) {
  PartEventHandler h(DataPart::kActiveListings, *store_, provider_, clock_, options_);
  auto ctx = Ctx();
  const auto first = Started("first");
  auto stale = Started("stale");
  stale.data_cycle = 7;
  auto ignored = Started("ignored");
  ignored.to_status = CampaignStatus::kReadyToCreateEmail;
  const auto dup = Started("dup");
  ASSERT_EQ(HandleActiveListingsEvent(dup, 1, ctx).verdict, Verdict::kDone);
  const auto last = Started("last");
  ASSERT_EQ(HandleLocalMarketDataEvent(last, 1, ctx).verdict, Verdict::kDone);
  ASSERT_EQ(HandleRecentSalesEvent(last, 1, ctx).verdict, Verdict::kDone);
  StatusChangeEvent ghost = first;
  ghost.campaign_id = Cid("ghost");
  std::vector<ReceivedMessage> ms = {Message(first),   Message(stale), Message(ghost),
                                     Message(ignored), Message(dup),   Message(last)};
  ReceivedMessage malformed;
  malformed.body = "{not json";
  ms.insert(ms.begin() + 2, malformed);
  const int searches = provider_.search_calls;

  const auto out = h.HandleBatch(ms);

  ASSERT_EQ(out.size(), ms.size());
  EXPECT_EQ(out[0].verdict, Verdict::kDone) << out[0].reason;
  EXPECT_EQ(out[0].reason, "20 of 20 active_listings within 1 mi");
  EXPECT_EQ(out[0].campaign_id, "first");
  EXPECT_EQ(out[1].reason, "stale: event for data cycle 7, campaign is in 1");
  EXPECT_EQ(out[2].verdict, Verdict::kFail);
  EXPECT_EQ(out[2].reason.rfind("malformed event: ", 0), 0u) << out[2].reason;
  EXPECT_EQ(out[3].verdict, Verdict::kRetry);
  EXPECT_EQ(out[3].reason, "campaign not found (yet)");
  EXPECT_EQ(out[4].reason, "ignored: event is to READY_TO_CREATE_EMAIL");
  EXPECT_EQ(out[5].verdict, Verdict::kDone);
  EXPECT_EQ(out[5].reason, "duplicate: active_listings is READY");
  EXPECT_EQ(out[6].verdict, Verdict::kDone);
  EXPECT_EQ(out[6].reason, "20 of 20 active_listings within 1 mi; campaign READY_TO_CREATE_EMAIL");
  EXPECT_EQ(provider_.search_calls, searches + 2) << "searched for the two that complete only";
  EXPECT_EQ(Get("first").part(DataPart::kActiveListings), PartStatus::kReady);
  EXPECT_EQ(store_->GetActiveListings(Cid("first"))->size(), 20u);
  EXPECT_EQ(Get("last").status, CampaignStatus::kReadyToCreateEmail);
  EXPECT_EQ(Get("stale").part(DataPart::kActiveListings), PartStatus::kWaitingForData);
  // The same messages one Handle at a time now: the completed ones are duplicates.
  for (size_t i : {0, 6}) {
    EXPECT_EQ(h.Handle(ms[i]).reason, i == 0 ? "duplicate: active_listings is READY"
                                             : "stale: campaign is READY_TO_CREATE_EMAIL");
  }
}

// A campaign's second message in one batch (a duplicate delivery) reads as the duplicate it is,
// after the first committed: one provider call, not two.
TEST_F(HandlersTest, ACampaignsSecondMessageInABatchIsADuplicateWithoutAProviderCall) {
  PartEventHandler h(DataPart::kRecentSales, *store_, provider_, clock_, options_);
  const auto ev = Started("twice");
  const auto out = h.HandleBatch(std::vector<ReceivedMessage>{Message(ev), Message(ev)});
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[0].reason, "20 of 20 recent_sales within 1 mi");
  EXPECT_EQ(out[1].verdict, Verdict::kDone);
  EXPECT_EQ(out[1].reason, "duplicate: recent_sales is READY");
  EXPECT_EQ(provider_.search_calls, 1);
  EXPECT_EQ(store_->GetRecentSales(Cid("twice"))->size(), 20u);
}

// Batches are taken only where the store makes them cheaper (Store::BatchesParts: not on
// SQLite's single writer) and the provider's calls cost only CPU (one after another in a
// batch), and never by the market handler (its single flight is per zip).
TEST_F(HandlersTest, OnlyListingsAndSalesTakeBatchesAndOnlyWithABatchingStoreAndACpuProvider) {
  for (DataPart p : kAllDataParts) {
    for (bool store_batches : {false, true}) {
      for (bool cpu_only : {false, true}) {
        const bool batches = p != DataPart::kLocalMarketData && store_batches && cpu_only;
        EXPECT_EQ(PartBatchSize(p, store_batches, cpu_only), batches ? 10 : 1)
            << ToString(p) << " store_batches=" << store_batches << " cpu_only=" << cpu_only;
      }
    }
  }
  ASSERT_FALSE(store_->BatchesParts());
  ASSERT_FALSE(provider_.CallsAreCpuOnly());
  for (DataPart p : kAllDataParts) {
    EXPECT_EQ(PartEventHandler(p, *store_, provider_, clock_, options_).MaxBatch(), 1);
  }
}

}  // namespace
}  // namespace dripr
