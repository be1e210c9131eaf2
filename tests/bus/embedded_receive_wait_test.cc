// The embedded queue's long poll waits on the broker's injected ticker: a receive returns
// empty exactly when its wait has passed on that ticker, and a send ends the wait without
// the time moving. No real time passes in these tests.
#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "bus/temp_dir.h"
#include "dripr/bus/embedded/embedded_bus.h"
#include "support/poll.h"

namespace dripr::testing {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;
using Durations = std::vector<Ticker::Duration>;

class EmbeddedReceiveWaitTest : public ::testing::Test {
 protected:
  void SetUp() override {
    EmbeddedBrokerOptions options;
    options.ticker = &ticker_;
    options.poll_interval = milliseconds(500);
    options.watched_poll_interval = milliseconds(500);  // the change watcher runs here
    auto b = EmbeddedBroker::Open(dir_.File("bus.db"), options);
    ASSERT_TRUE(b) << b.error().ToString();
    broker_ = *b;
    ASSERT_TRUE(broker_->DeclareQueue({.name = "q"}));
    auto q = broker_->OpenQueue("q");
    ASSERT_TRUE(q) << q.error().ToString();
    queue_ = std::move(*q);
  }

  // Polls (real time, bounded) until the blocked waits on the ticker are exactly `want`.
  bool WaitsAre(const Durations& want) {
    return Eventually([&] { return ticker_.Deadlines() == want; });
  }

  TempDir dir_;
  ManualTicker ticker_;
  std::shared_ptr<EmbeddedBroker> broker_;
  std::unique_ptr<EmbeddedQueue> queue_;
};

TEST_F(EmbeddedReceiveWaitTest, AnEmptyReceiveReturnsWhenItsWaitHasPassedOnTheTicker) {
  std::atomic<bool> returned = false;
  Result<std::vector<ReceivedMessage>> got;
  std::thread receiver([&] {
    got = queue_->Receive(1, seconds(5));
    returned = true;
  });
  // The wait is cut into fallback slices (the periodic re-check), each on the ticker.
  ASSERT_TRUE(WaitsAre({milliseconds(500)}));
  ticker_.Advance(milliseconds(4500));
  // Re-checked at 4.5 s and waiting again, now until the receive's own deadline.
  ASSERT_TRUE(WaitsAre({seconds(5)}));
  EXPECT_FALSE(returned);
  ticker_.Advance(milliseconds(500));
  receiver.join();
  ASSERT_TRUE(got) << got.error().ToString();
  EXPECT_TRUE(got->empty());
  EXPECT_EQ(ticker_.Elapsed(), seconds(5));
  EXPECT_TRUE(ticker_.Deadlines().empty());
}

TEST_F(EmbeddedReceiveWaitTest, ASendEndsTheWaitWithoutTheTickerMoving) {
  Result<std::vector<ReceivedMessage>> got;
  std::thread receiver([&] { got = queue_->Receive(1, seconds(20)); });
  ASSERT_TRUE(WaitsAre({milliseconds(500)}));
  ASSERT_TRUE(queue_->Send({.body = "hello"}));
  receiver.join();
  ASSERT_TRUE(got) << got.error().ToString();
  ASSERT_EQ(got->size(), 1u);
  EXPECT_EQ((*got)[0].body, "hello");
  EXPECT_EQ(ticker_.Elapsed(), Ticker::Duration::zero());
}

TEST_F(EmbeddedReceiveWaitTest, CancelReceivesEndsTheWaitInFlightOnlyWithoutTheTickerMoving) {
  Result<std::vector<ReceivedMessage>> got;
  std::thread receiver([&] { got = queue_->Receive(1, seconds(20)); });
  ASSERT_TRUE(WaitsAre({milliseconds(500)}));
  queue_->CancelReceives();
  receiver.join();
  ASSERT_TRUE(got) << got.error().ToString();
  EXPECT_TRUE(got->empty());
  EXPECT_EQ(ticker_.Elapsed(), Ticker::Duration::zero());
  // Neither a wake-up nor a timeout: the wait counts stay as they were.
  EXPECT_EQ(broker_->WakeCountsFor("q"), embedded::WakeHub::WakeCounts{});

  // A later receive is not affected: it waits, and a send still ends its wait.
  Result<std::vector<ReceivedMessage>> later;
  std::thread second([&] { later = queue_->Receive(1, seconds(20)); });
  ASSERT_TRUE(WaitsAre({milliseconds(500)}));
  ASSERT_TRUE(queue_->Send({.body = "after"}));
  second.join();
  ASSERT_TRUE(later) << later.error().ToString();
  ASSERT_EQ(later->size(), 1u);
  EXPECT_EQ((*later)[0].body, "after");
}

TEST_F(EmbeddedReceiveWaitTest, AZeroWaitNeverWaitsOnTheTicker) {
  auto got = queue_->Receive(1, milliseconds(0));
  ASSERT_TRUE(got) << got.error().ToString();
  EXPECT_TRUE(got->empty());
  EXPECT_EQ(ticker_.Elapsed(), Ticker::Duration::zero());
}

}  // namespace
}  // namespace dripr::testing
