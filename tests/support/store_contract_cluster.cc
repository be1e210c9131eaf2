// Store contract suite, part 5: what instances sharing one database need to share one provider
// budget (docs/decisions/cluster.md) — the request budget (ReserveBudgetSlot, PauseBudget)
// and the cluster-wide single flight for market data (fetcher/market_flight.h over leases).

#include <gmock/gmock.h>

#include <algorithm>
#include <future>
#include <mutex>
#include <thread>

#include "dripr/fetcher/market_flight.h"
#include "support/campaign_ids.h"
#include "support/poll.h"
#include "support/store_contract.h"

namespace dripr {

void StoreContractClusterAnchor() {}

namespace {

using ::testing::HasSubstr;
using namespace std::chrono_literals;
using std::chrono::microseconds;

microseconds MustReserve(Store& s, const std::string& name, microseconds spacing,
                         microseconds max_wait = 1h) {
  auto r = s.ReserveBudgetSlot(name, spacing, max_wait);
  EXPECT_TRUE(r) << r.error().ToString();
  if (!r) return microseconds(-1);
  EXPECT_TRUE(r->has_value()) << "refused";
  return r->value_or(microseconds(-1));
}

TEST_P(StoreContractTest, BudgetSlotsAreSpacedAcrossInstances) {
  StorePtr other = db_.reopen(&clock_);  // another process on the same database
  EXPECT_EQ(MustReserve(store(), "rentcast:k", 200ms), 0ms) << "an idle budget grants at once";
  EXPECT_EQ(MustReserve(*other, "rentcast:k", 200ms), 200ms);
  EXPECT_EQ(MustReserve(store(), "rentcast:k", 200ms), 400ms);
  EXPECT_EQ(MustReserve(*other, "rentcast:other-key", 200ms), 0ms) << "budgets are per name";

  clock_.Advance(500ms);
  EXPECT_EQ(MustReserve(*other, "rentcast:k", 200ms), 100ms) << "the slot after +400 ms";
  clock_.Advance(10s);
  EXPECT_EQ(MustReserve(store(), "rentcast:k", 200ms), 0ms) << "idle time is not saved up";
  EXPECT_EQ(MustReserve(store(), "rentcast:k", 200ms), 200ms);
}

TEST_P(StoreContractTest, BudgetRefusalReservesNothing) {
  EXPECT_EQ(MustReserve(store(), "b", 300ms), 0ms);
  EXPECT_EQ(MustReserve(store(), "b", 300ms), 300ms);
  auto refused = store().ReserveBudgetSlot("b", 300ms, 599ms);
  ASSERT_TRUE(refused) << refused.error().ToString();
  EXPECT_FALSE(refused->has_value()) << "the next slot is 600 ms away";
  EXPECT_EQ(MustReserve(store(), "b", 300ms, 600ms), 600ms) << "the refused call took nothing";
}

TEST_P(StoreContractTest, BudgetPauseHoldsEveryInstance) {
  StorePtr other = db_.reopen(&clock_);
  EXPECT_EQ(MustReserve(store(), "b", 100ms), 0ms);
  ASSERT_TRUE(other->PauseBudget("b", 5s));  // another instance saw a 429 with Retry-After: 5
  EXPECT_EQ(MustReserve(store(), "b", 100ms), 5s);
  ASSERT_TRUE(store().PauseBudget("b", 1s)) << "a shorter pause";
  EXPECT_EQ(MustReserve(*other, "b", 100ms), 5100ms) << "does not shorten the longer one";
  ASSERT_TRUE(store().PauseBudget("fresh", 2s)) << "a budget nobody used yet";
  EXPECT_EQ(MustReserve(store(), "fresh", 100ms), 2s);
}

TEST_P(StoreContractTest, ConcurrentReservationsFromManyInstancesGetDistinctSlots) {
  constexpr int kStores = 2, kThreads = 3, kEach = 15;
  std::vector<StorePtr> stores;
  for (int i = 0; i < kStores; ++i) stores.push_back(db_.reopen(&clock_));
  std::mutex mu;
  std::vector<int64_t> waits;
  std::vector<std::thread> threads;
  for (int t = 0; t < kStores * kThreads; ++t) {
    threads.emplace_back([&, t] {
      Store& s = *stores[t % kStores];
      for (int i = 0; i < kEach; ++i) {
        auto w = s.ReserveBudgetSlot("b", 1ms, 1h);
        ASSERT_TRUE(w && w->has_value()) << (w ? "refused" : w.error().ToString());
        std::lock_guard lock(mu);
        waits.push_back(std::chrono::duration_cast<std::chrono::milliseconds>(**w).count());
      }
    });
  }
  for (auto& t : threads) t.join();
  std::sort(waits.begin(), waits.end());
  std::vector<int64_t> expected(kStores * kThreads * kEach);
  for (size_t i = 0; i < expected.size(); ++i) expected[i] = static_cast<int64_t>(i);
  EXPECT_EQ(waits, expected) << "the clock stands still: every slot 1 ms after the previous";
}

MarketFlightOptions FastFlights(std::chrono::seconds max_wait) {
  MarketFlightOptions o;
  o.lease_ttl = 10s;
  o.poll_interval = 5ms;
  o.max_wait = max_wait;
  return o;
}

// Lease 3 s: renewed every second of the ticker.
MarketFlightOptions RenewedEverySecond() {
  MarketFlightOptions o = FastFlights(0s);
  o.lease_ttl = 3s;
  return o;
}

TEST_P(StoreContractTest, MarketFlightIsOnePerZipAcrossInstances) {
  const int64_t cycle = CreateAndStart("c-1");
  StorePtr other = db_.reopen(&clock_);
  MarketFlights here(store(), RealTicker(), FastFlights(30s));
  MarketFlights there(*other, RealTicker(), FastFlights(30s));

  auto first = here.Begin("02139", 24h);
  ASSERT_TRUE(first) << first.error().ToString();
  ASSERT_NE(first->flight, nullptr) << "nobody holds the zip: this caller fetches";
  EXPECT_FALSE(first->stored);

  // Another instance asks meanwhile: it waits for the data instead of calling the provider.
  auto waiter = std::async(std::launch::async, [&] { return there.Begin("02139", 24h); });
  ASSERT_TRUE(testing::Eventually([&] { return there.waits_started() == 1; }))
      << "it found the lease held and waits";
  EXPECT_EQ(waiter.wait_for(0ms), std::future_status::timeout) << "it must wait";
  auto done = store().CompletePart(Cid("c-1"), cycle, MarketPart("2026-10", 512000));
  ASSERT_TRUE(done && done->changed);
  first->flight.reset();  // released after the commit

  auto second = waiter.get();
  ASSERT_TRUE(second) << second.error().ToString();
  EXPECT_EQ(second->flight, nullptr);
  ASSERT_TRUE(second->stored);
  EXPECT_EQ(second->stored->current.month, "2026-10");
  EXPECT_EQ(here.led(), 1u);
  EXPECT_EQ(there.led(), 0u);
  EXPECT_EQ(there.waited(), 1u);

  auto later = there.Begin("02139", 24h);
  ASSERT_TRUE(later && later->stored && !later->flight) << "reused while young enough";
  auto other_zip = there.Begin("10001", 24h);
  ASSERT_TRUE(other_zip && other_zip->flight) << "flights are per zip";
}

TEST_P(StoreContractTest, MarketFlightLoadLeadsTheFlightWhenItsReadTookTheLease) {
  const int64_t cycle = CreateAndStart("c-1");
  StorePtr other = db_.reopen(&clock_);
  MarketFlights here(store(), RealTicker(), FastFlights(30s));
  MarketFlights there(*other, RealTicker(), FastFlights(30s));

  auto first = here.Load(Cid("c-1"), 24h);
  ASSERT_TRUE(first) << first.error().ToString();
  EXPECT_EQ(first->campaign, MustGet("c-1"));
  ASSERT_NE(first->turn.flight, nullptr) << "no data, nobody holds the zip: this caller fetches";
  EXPECT_FALSE(first->turn.stored);
  EXPECT_EQ(here.led(), 1u);

  auto second = there.Load(Cid("c-1"), 24h);
  ASSERT_TRUE(second) << second.error().ToString();
  EXPECT_EQ(second->turn.flight, nullptr) << "the lease is held: Begin waits for it";
  EXPECT_FALSE(second->turn.stored);

  // The flight ends without a commit (its provider call failed): the lease is free again.
  first->turn.flight.reset();
  EXPECT_TRUE(*other->AcquireLease(MarketLeaseName("02139"), "x", 10s)) << "released";
  ASSERT_TRUE(other->ReleaseLease(MarketLeaseName("02139"), "x"));

  auto done = store().CompletePart(Cid("c-1"), cycle, MarketPart("2026-10", 512000));
  ASSERT_TRUE(done && done->changed);
  auto reused = there.Load(Cid("c-1"), 24h);
  ASSERT_TRUE(reused) << reused.error().ToString();
  EXPECT_EQ(reused->turn.flight, nullptr);
  ASSERT_TRUE(reused->turn.stored);
  EXPECT_EQ(reused->turn.stored->current.month, "2026-10");
  EXPECT_EQ(there.led(), 0u);
}

TEST_P(StoreContractTest, MarketFlightOfADeadHolderIsTakenOverAfterItsLease) {
  // A holder that was kill -9'd: its lease row stays until it expires.
  ASSERT_TRUE(*store().AcquireLease("market:02139", "dead-holder", 10s));
  StorePtr other = db_.reopen(&clock_);
  MarketFlights flights(*other, RealTicker(), FastFlights(0s));

  auto refused = flights.Begin("02139", 24h);
  ASSERT_FALSE(refused) << "the lease is held and the wait limit is 0";
  EXPECT_EQ(refused.error().code, ErrorCode::kDeadlineExceeded);
  EXPECT_THAT(refused.error().message, HasSubstr("zip 02139"));

  clock_.Advance(10s);
  auto taken = flights.Begin("02139", 24h);
  ASSERT_TRUE(taken) << taken.error().ToString();
  EXPECT_NE(taken->flight, nullptr) << "expired: taken over";
  EXPECT_FALSE(*store().AcquireLease("market:02139", "dead-holder", 10s)) << "and held";
  taken->flight.reset();
  EXPECT_TRUE(*store().AcquireLease("market:02139", "someone", 10s)) << "released at the end";
}

TEST_P(StoreContractTest, MarketFlightRenewsItsLeaseWhileTheCallRuns) {
  ManualTicker ticker;
  MarketFlights flights(store(), ticker, RenewedEverySecond());
  StorePtr other = db_.reopen(&clock_);

  auto turn = flights.Begin("02139", 24h);
  ASSERT_TRUE(turn && turn->flight);
  ASSERT_TRUE(testing::Eventually([&] { return ticker.Deadlines().size() == 1; }));
  clock_.Advance(2s);
  ticker.Advance(1s);  // the renewer wakes and renews until clock + 3 s
  ASSERT_TRUE(testing::Eventually([&] {
    auto d = ticker.Deadlines();
    return d.size() == 1 && d[0] == 2s;  // waiting for its next renewal
  }));
  clock_.Advance(2s);  // 4 s after Begin: the first lease would have lapsed
  EXPECT_FALSE(*other->AcquireLease("market:02139", "another", 3s)) << "renewed";
  turn->flight.reset();
  EXPECT_TRUE(*other->AcquireLease("market:02139", "another", 3s));
}

TEST_P(StoreContractTest, LoadForMarketReadsTheCampaignAndItsZipsFreshMarketData) {
  const int64_t cycle = CreateAndStart("c-1");
  const std::chrono::seconds reuse = std::chrono::days(30);
  auto in = store().LoadForMarket(Cid("c-1"), reuse);
  ASSERT_TRUE(in) << in.error().ToString();
  EXPECT_EQ(in->campaign, MustGet("c-1"));
  EXPECT_FALSE(in->stored.has_value());

  ASSERT_TRUE(store().CompletePart(Cid("c-1"), cycle, MarketPart("2026-10", 512000)));
  in = store().LoadForMarket(Cid("c-1"), reuse);
  ASSERT_TRUE(in) << in.error().ToString();
  EXPECT_EQ(in->campaign, MustGet("c-1"));
  ASSERT_TRUE(in->stored.has_value());
  EXPECT_EQ(in->stored->zip_code, "02139");
  EXPECT_EQ(in->stored->current.average_price, 512000);

  clock_.Advance(reuse + 1s);  // older than the window: not reused
  in = store().LoadForMarket(Cid("c-1"), reuse);
  ASSERT_TRUE(in) << in.error().ToString();
  EXPECT_FALSE(in->stored.has_value());

  auto missing = store().LoadForMarket(Cid("nope"), reuse);
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code, ErrorCode::kNotFound);

  // Another zip's fresh data is not this campaign's.
  NewCampaign elsewhere = NewCampaignFor("c-2");
  elsewhere.zip_code = "10001";
  ASSERT_TRUE(store().CreateCampaign(elsewhere));
  auto started = store().StartCampaign(Cid("c-2"));
  ASSERT_TRUE(started) << started.error().ToString();
  ASSERT_TRUE(store().CompletePart(Cid("c-2"), started->campaign.data_cycle,
                                   MarketPart("2026-11", 777000)));
  in = store().LoadForMarket(Cid("c-1"), reuse);
  ASSERT_TRUE(in) << in.error().ToString();
  EXPECT_FALSE(in->stored.has_value());
  in = store().LoadForMarket(Cid("c-2"), reuse);
  ASSERT_TRUE(in) << in.error().ToString();
  ASSERT_TRUE(in->stored.has_value());
  EXPECT_EQ(in->stored->zip_code, "10001");
  EXPECT_EQ(in->stored->current.average_price, 777000);
}

// A waiting campaign whose row does not read (a part status another program wrote): the call
// fails, and leaves the zip's lease free for the other campaigns of the zip (the lease
// statement, which reads only the campaign's state and zip, may have taken it).
TEST_P(StoreContractTest, LoadForMarketOrLeaseOfARowThatDoesNotReadLeavesTheLeaseFree) {
  CreateAndStart("c-1");
  ASSERT_TRUE(db_.exec_sql("UPDATE campaigns SET recent_sale_status = 'PENDING' WHERE id = 'c-1'"));
  auto load = store().LoadForMarketOrLease(Cid("c-1"), std::chrono::days(30), "a", 10s);
  ASSERT_FALSE(load);
  EXPECT_EQ(load.error().code, ErrorCode::kDataLoss) << load.error().ToString();
  EXPECT_TRUE(*store().AcquireLease(MarketLeaseName("02139"), "x", 10s)) << "still held by a";
}

TEST_P(StoreContractTest, LoadForMarketOrLeaseTakesTheZipsLeaseOnlyWithoutDataForAWaitingCampaign) {
  const int64_t cycle = CreateAndStart("c-1");
  StorePtr other = db_.reopen(&clock_);
  const std::chrono::seconds reuse = std::chrono::days(30);

  // No data: the campaign and the lease, which the next caller finds held.
  auto load = store().LoadForMarketOrLease(Cid("c-1"), reuse, "a", 10s);
  ASSERT_TRUE(load) << load.error().ToString();
  EXPECT_EQ(load->campaign, MustGet("c-1"));
  EXPECT_TRUE(load->turn.held);
  EXPECT_FALSE(load->turn.stored.has_value());
  EXPECT_FALSE(*other->AcquireLease(MarketLeaseName("02139"), "x", 10s)) << "a holds it";
  load = other->LoadForMarketOrLease(Cid("c-1"), reuse, "b", 10s);
  ASSERT_TRUE(load) << load.error().ToString();
  EXPECT_EQ(load->campaign, MustGet("c-1"));
  EXPECT_FALSE(load->turn.held);
  EXPECT_FALSE(load->turn.stored.has_value());
  // The holder asking again renews its own lease.
  load = store().LoadForMarketOrLease(Cid("c-1"), reuse, "a", 10s);
  ASSERT_TRUE(load) << load.error().ToString();
  EXPECT_TRUE(load->turn.held);

  // A campaign that does not wait for its market data takes no lease (a DORMANT one here),
  // nor does a missing one.
  ASSERT_TRUE(store().CreateCampaign(NewCampaignFor("c-2")));
  ASSERT_TRUE(store().ReleaseLease(MarketLeaseName("02139"), "a"));
  load = store().LoadForMarketOrLease(Cid("c-2"), reuse, "d", 10s);
  ASSERT_TRUE(load) << load.error().ToString();
  EXPECT_EQ(load->campaign.status, CampaignStatus::kDormant);
  EXPECT_FALSE(load->turn.held);
  EXPECT_FALSE(load->turn.stored.has_value());
  auto missing = store().LoadForMarketOrLease(Cid("nope"), reuse, "d", 10s);
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code, ErrorCode::kNotFound);
  EXPECT_TRUE(*other->AcquireLease(MarketLeaseName("02139"), "x", 10s)) << "nobody took it";
  ASSERT_TRUE(other->ReleaseLease(MarketLeaseName("02139"), "x"));

  // Data within the window: returned, and no lease taken. Once the part is READY the
  // campaign no longer waits for it either.
  ASSERT_TRUE(store().CompletePart(Cid("c-1"), cycle, MarketPart("2026-10", 512000)));
  load = other->LoadForMarketOrLease(Cid("c-1"), reuse, "b", 10s);
  ASSERT_TRUE(load) << load.error().ToString();
  EXPECT_FALSE(load->turn.held);
  ASSERT_TRUE(load->turn.stored.has_value());
  EXPECT_EQ(load->turn.stored->zip_code, "02139");
  EXPECT_EQ(load->turn.stored->current.average_price, 512000);
  EXPECT_TRUE(*store().AcquireLease(MarketLeaseName("02139"), "c", 10s)) << "b took no lease";
  ASSERT_TRUE(store().ReleaseLease(MarketLeaseName("02139"), "c"));

  // Another waiting campaign of the same zip, its data older than the window: no data, so
  // the lease.
  const int64_t cycle3 = CreateAndStart("c-3");
  ASSERT_GT(cycle3, 0);
  clock_.Advance(reuse + 1s);
  load = other->LoadForMarketOrLease(Cid("c-3"), reuse, "b", 10s);
  ASSERT_TRUE(load) << load.error().ToString();
  EXPECT_TRUE(load->turn.held);
  EXPECT_FALSE(load->turn.stored.has_value());
}

TEST_P(StoreContractTest, MarketDataOrLeaseReadsElseTakesTheLease) {
  const int64_t cycle = CreateAndStart("c-1");
  StorePtr other = db_.reopen(&clock_);
  const std::chrono::seconds reuse = std::chrono::days(30);
  const LeaseRef a{"market:02139", "a"};
  const LeaseRef b{"market:02139", "b"};

  // No data: the first caller takes the lease, the next one finds it held.
  auto turn = store().MarketDataOrLease("02139", reuse, a, 10s, /*read_first=*/true);
  ASSERT_TRUE(turn) << turn.error().ToString();
  EXPECT_TRUE(turn->held);
  EXPECT_FALSE(turn->stored.has_value());
  turn = other->MarketDataOrLease("02139", reuse, b, 10s, /*read_first=*/true);
  ASSERT_TRUE(turn) << turn.error().ToString();
  EXPECT_FALSE(turn->held);
  EXPECT_FALSE(turn->stored.has_value());

  // The holder commits its data and releases the lease: the next caller reads it and takes no
  // lease.
  PartData data = MarketPart("2026-10", 512000);
  data.release_lease = a;
  ASSERT_TRUE(store().CompletePart(Cid("c-1"), cycle, data));
  turn = other->MarketDataOrLease("02139", reuse, b, 10s, /*read_first=*/true);
  ASSERT_TRUE(turn) << turn.error().ToString();
  EXPECT_FALSE(turn->held);
  ASSERT_TRUE(turn->stored.has_value());
  EXPECT_EQ(turn->stored->current.average_price, 512000);
  EXPECT_TRUE(*store().AcquireLease("market:02139", "c", 10s)) << "b took no lease";
  ASSERT_TRUE(store().ReleaseLease("market:02139", "c"));

  // Without the first read (the caller has just read nothing): the lease is taken, the data
  // read again is found, and the lease given back.
  turn = other->MarketDataOrLease("02139", reuse, b, 10s, /*read_first=*/false);
  ASSERT_TRUE(turn) << turn.error().ToString();
  EXPECT_FALSE(turn->held);
  ASSERT_TRUE(turn->stored.has_value());
  EXPECT_EQ(turn->stored->current.month, "2026-10");
  EXPECT_TRUE(*store().AcquireLease("market:02139", "c", 10s)) << "released again";

  // Data older than the window is no data.
  clock_.Advance(reuse + 11s);
  turn = other->MarketDataOrLease("02139", reuse, b, 10s, /*read_first=*/true);
  ASSERT_TRUE(turn) << turn.error().ToString();
  EXPECT_TRUE(turn->held) << "c's lease expired";
  EXPECT_FALSE(turn->stored.has_value());
}

TEST_P(StoreContractTest, CompletePartReleasesTheLeaseInItsOwnTransaction) {
  const int64_t cycle = CreateAndStart("c-1");
  StorePtr other = db_.reopen(&clock_);
  ASSERT_TRUE(*store().AcquireLease("market:02139", "h", 10s));
  PartData data = MarketPart("2026-10", 512000);
  data.release_lease = LeaseRef{"market:02139", "h"};
  auto done = store().CompletePart(Cid("c-1"), cycle, data);
  ASSERT_TRUE(done) << done.error().ToString();
  EXPECT_TRUE(done->changed);
  EXPECT_TRUE(*other->AcquireLease("market:02139", "next", 10s)) << "released, not expired";

  // A stale commit (the part is READY already) stores nothing and still releases.
  ASSERT_TRUE(*store().AcquireLease("market:10001", "h", 10s));
  data.release_lease = LeaseRef{"market:10001", "h"};
  auto stale = store().CompletePart(Cid("c-1"), cycle, data);
  ASSERT_TRUE(stale) << stale.error().ToString();
  EXPECT_FALSE(stale->changed);
  EXPECT_TRUE(*other->AcquireLease("market:10001", "next", 10s));

  // Only the holder's lease goes: "next" holds market:10001 now.
  data.release_lease = LeaseRef{"market:10001", "h"};
  ASSERT_TRUE(store().CompletePart(Cid("c-1"), cycle, data));
  EXPECT_FALSE(*store().AcquireLease("market:10001", "h", 10s)) << "someone else's lease stays";

  // A transaction that fails releases nothing: the caller releases separately.
  ASSERT_TRUE(*store().AcquireLease("market:60601", "h", 10s));
  data.release_lease = LeaseRef{"market:60601", "h"};
  auto missing = store().CompletePart(Cid("ghost"), 1, data);
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code, ErrorCode::kNotFound);
  EXPECT_FALSE(*other->AcquireLease("market:60601", "next", 10s)) << "rolled back: still held";
}

TEST_P(StoreContractTest, MarketFlightsRenewEveryFlightFromOneThread) {
  ManualTicker ticker;
  MarketFlights flights(store(), ticker, RenewedEverySecond());
  StorePtr other = db_.reopen(&clock_);
  EXPECT_EQ(flights.renewer_threads(), 0u) << "started with the first flight";
  // The renewer waits for its next renewal due `at` (from the ticker's start), alone.
  auto waits_for = [&](Ticker::Duration at) {
    return ticker.Deadlines() == std::vector<Ticker::Duration>{at};
  };

  auto a = flights.Begin("02139", 24h);
  auto b = flights.Begin("10001", 24h);
  ASSERT_TRUE(a && a->flight && b && b->flight);
  EXPECT_EQ(flights.renewer_threads(), 1u) << "one thread for both flights";
  ASSERT_TRUE(testing::Eventually([&] { return waits_for(1s); }));
  clock_.Advance(2s);
  ticker.Advance(1s);  // both due: renewed until clock + 3 s
  ASSERT_TRUE(testing::Eventually([&] { return waits_for(2s); }));

  // `a` hands its lease to the commit: no more renewals of it, and it is not released yet.
  LeaseRef lease = a->flight->ReleaseInCommit();
  EXPECT_EQ(lease.name, "market:02139");
  clock_.Advance(1s);
  ticker.Advance(1s);  // only b is renewed (until clock + 3 s = 6 s after Begin)
  ASSERT_TRUE(testing::Eventually([&] { return waits_for(3s); }));
  clock_.Advance(2s);  // 5 s: a's last renewal (until 5 s) has lapsed, b's has not
  EXPECT_TRUE(*other->AcquireLease("market:02139", "another", 3s)) << "a no longer renewed";
  EXPECT_FALSE(*other->AcquireLease("market:10001", "another", 3s)) << "b renewed";
  a->flight.reset();  // its commit did not release (no Released()): a no-op release
  b->flight.reset();
  EXPECT_TRUE(*other->AcquireLease("market:10001", "another", 3s)) << "released at the end";
  EXPECT_FALSE(*other->AcquireLease("market:02139", "third", 3s)) << "another's lease stays";
  EXPECT_EQ(flights.renewer_threads(), 1u);
}

}  // namespace
}  // namespace dripr
