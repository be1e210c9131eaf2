// FetcherHeartbeat on a real SQLite store and a manual ticker: the row exists from Start, is
// refreshed every interval while the fetcher runs (and recreated if someone removed it), and
// is gone after Stop.

#include "dripr/fetcher/fetcher_heartbeat.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include "fetcher/local_pipeline.h"
#include "support/poll.h"

namespace dripr {
namespace {

using namespace std::chrono_literals;
using Offsets = std::vector<Ticker::Duration>;

class FetcherHeartbeatTest : public testing::LocalStoreTest {
 protected:
  std::vector<FetcherInfo> Rows() {
    auto r = store_->ListFetchers();
    EXPECT_TRUE(r) << r.error().ToString();
    return r ? *r : std::vector<FetcherInfo>{};
  }
};

TEST_F(FetcherHeartbeatTest, RegistersBeatsAndUnregisters) {
  ManualTicker ticker;
  FetcherHeartbeat hb(*store_, clock_, ticker, 5s);
  EXPECT_TRUE(Rows().empty());
  hb.Start();
  auto rows = Rows();
  ASSERT_EQ(rows.size(), 1u);  // registered synchronously by Start
  EXPECT_EQ(rows[0].instance_id, hb.info().instance_id);
  EXPECT_EQ(rows[0].pid, static_cast<int64_t>(getpid()));
  EXPECT_EQ(rows[0].version, kDriprVersion);
  EXPECT_FALSE(rows[0].host.empty());
  EXPECT_EQ(rows[0].started_at, clock_.Now());
  EXPECT_EQ(hb.beats(), 1);

  // The thread waits one interval on the ticker, beats, and waits the next one.
  ASSERT_TRUE(testing::Eventually([&] { return ticker.Deadlines() == Offsets{5s}; }));
  clock_.Advance(7s);
  ticker.Advance(5s);
  ASSERT_TRUE(testing::Eventually([&] { return ticker.Deadlines() == Offsets{10s}; }));
  EXPECT_EQ(hb.beats(), 2);
  rows = Rows();
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].heartbeat_at, clock_.Now());
  // A removed row comes back with the next beat.
  ASSERT_TRUE(store_->UnregisterFetcher(hb.info().instance_id));
  EXPECT_TRUE(Rows().empty());
  ticker.Advance(5s);
  ASSERT_TRUE(testing::Eventually([&] { return ticker.Deadlines() == Offsets{15s}; }));
  EXPECT_EQ(Rows().size(), 1u);
  EXPECT_EQ(hb.beats(), 3);

  hb.Stop();  // ends the wait at once, without a beat
  EXPECT_TRUE(Rows().empty());
  EXPECT_EQ(hb.beats(), 3);
  hb.Stop();  // idempotent
  EXPECT_EQ(hb.beats(), 3);
  EXPECT_EQ(ticker.Elapsed(), 10s);
}

TEST_F(FetcherHeartbeatTest, TwoFetchersHaveTwoRows) {
  ManualTicker ticker;
  FetcherHeartbeat a(*store_, clock_, ticker, 1h), b(*store_, clock_, ticker, 1h);
  a.Start();
  b.Start();
  EXPECT_NE(a.info().instance_id, b.info().instance_id);
  EXPECT_EQ(Rows().size(), 2u);
  a.Stop();
  auto rows = Rows();
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].instance_id, b.info().instance_id);
}

TEST(FetcherAlive, YoungerThanThreeIntervals) {
  FetcherInfo f;
  f.heartbeat_at = SysTime{} + 100s;
  EXPECT_TRUE(FetcherAlive(f, SysTime{} + 100s, 5s));
  EXPECT_TRUE(FetcherAlive(f, SysTime{} + 114s, 5s));
  EXPECT_FALSE(FetcherAlive(f, SysTime{} + 115s, 5s));
}

}  // namespace
}  // namespace dripr
