// FetcherHeartbeat on a real SQLite store: the row exists from Start, is refreshed while the
// fetcher runs (and recreated if someone removed it), and is gone after Stop.

#include "dripr/fetcher/fetcher_heartbeat.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include "fetcher/local_pipeline.h"
#include "support/poll.h"

namespace dripr {
namespace {

using namespace std::chrono_literals;

class FetcherHeartbeatTest : public testing::LocalStoreTest {
 protected:
  std::vector<FetcherInfo> Rows() {
    auto r = store_->ListFetchers();
    EXPECT_TRUE(r) << r.error().ToString();
    return r ? *r : std::vector<FetcherInfo>{};
  }
};

TEST_F(FetcherHeartbeatTest, RegistersBeatsAndUnregisters) {
  FetcherHeartbeat hb(*store_, clock_, 10ms);
  EXPECT_TRUE(Rows().empty());
  hb.Start();
  auto rows = Rows();
  ASSERT_EQ(rows.size(), 1u);  // registered synchronously by Start
  EXPECT_EQ(rows[0].instance_id, hb.info().instance_id);
  EXPECT_EQ(rows[0].pid, static_cast<int64_t>(getpid()));
  EXPECT_EQ(rows[0].version, kDriprVersion);
  EXPECT_FALSE(rows[0].host.empty());
  EXPECT_EQ(rows[0].started_at, clock_.Now());

  clock_.Advance(7s);
  ASSERT_TRUE(testing::Eventually([&] {
    auto r = Rows();
    return r.size() == 1 && r[0].heartbeat_at == clock_.Now();
  }));
  // A removed row comes back with the next beat.
  ASSERT_TRUE(store_->UnregisterFetcher(hb.info().instance_id));
  ASSERT_TRUE(testing::Eventually([&] { return Rows().size() == 1; }));

  hb.Stop();
  EXPECT_TRUE(Rows().empty());
  const int64_t beats = hb.beats();
  EXPECT_GE(beats, 3);
  hb.Stop();  // idempotent
  EXPECT_EQ(hb.beats(), beats);
}

TEST_F(FetcherHeartbeatTest, TwoFetchersHaveTwoRows) {
  FetcherHeartbeat a(*store_, clock_, 1h), b(*store_, clock_, 1h);
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
