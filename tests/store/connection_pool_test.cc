// ConnectionPool (src/dripr/store/connection_pool.h): a returned connection goes straight to
// the oldest waiter, a closed connection's (or failed open's) slot too, and a waiter that
// times out leaves the queue. Fake connections; time is a ManualTicker.
#include "dripr/store/connection_pool.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <future>
#include <mutex>
#include <optional>
#include <thread>

#include "dripr/core/clock.h"
#include "support/poll.h"

namespace dripr {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

struct FakeConn {
  int id = 0;
  bool reusable = true;
};

using FakePool = ConnectionPool<FakeConn>;

class TestPool final : public FakePool {
 public:
  TestPool(int size, Ticker* ticker) : FakePool("Fake", size, milliseconds(1000), ticker) {}

  int opened() const { return opened_; }
  // Opens fail while set.
  void FailOpens(bool fail) { fail_opens_ = fail; }
  // Opens block until ReleaseOpens() while set.
  void HoldOpens() {
    std::lock_guard lock(open_mu_);
    hold_opens_ = true;
  }
  void ReleaseOpens() {
    {
      std::lock_guard lock(open_mu_);
      hold_opens_ = false;
    }
    open_cv_.notify_all();
  }
  bool OpenHeld() const { return opens_held_ > 0; }

 private:
  Result<std::unique_ptr<FakeConn>> Open() override {
    {
      std::unique_lock lock(open_mu_);
      ++opens_held_;
      open_cv_.wait(lock, [&] { return !hold_opens_; });
      --opens_held_;
    }
    if (fail_opens_) return Fail(ErrorCode::kUnavailable, "cannot connect");
    auto c = std::make_unique<FakeConn>();
    c->id = ++opened_;
    return c;
  }
  bool Reusable(const FakeConn& c) const override { return c.reusable; }

  std::atomic<int> opened_{0};
  std::atomic<bool> fail_opens_{false};
  std::mutex open_mu_;
  std::condition_variable open_cv_;
  bool hold_opens_ = false;  // guarded by open_mu_
  std::atomic<int> opens_held_{0};
};

using Got = std::unique_ptr<Result<FakePool::Lease>>;  // an Acquire's result from a thread

// The connection id a lease holds (0: the acquire failed).
int IdOf(Result<FakePool::Lease>& lease) { return lease ? (*lease)->id : 0; }
int IdOf(const Got& got) { return IdOf(*got); }

std::future<Got> AcquireOnAThread(TestPool& pool) {
  return std::async(std::launch::async,
                    [&pool] { return std::make_unique<Result<FakePool::Lease>>(pool.Acquire()); });
}

// Starts an Acquire on another thread and waits until it is queued in the pool.
std::future<Got> QueuedAcquire(TestPool& pool, int waiting_after) {
  auto f = AcquireOnAThread(pool);
  EXPECT_TRUE(testing::Eventually([&] { return pool.Waiting() == waiting_after; }));
  return f;
}

// A pool of one connection, leased by the test (`held_`) before each test starts.
class OneConnectionPoolTest : public ::testing::Test {
 protected:
  void SetUp() override {
    held_.emplace(pool_.Acquire());
    ASSERT_TRUE(*held_);
  }

  ManualTicker ticker_;
  TestPool pool_{1, &ticker_};
  std::optional<Result<FakePool::Lease>> held_;
};

TEST_F(OneConnectionPoolTest, AReturnedConnectionGoesToTheOldestWaiterNotToTheNextCaller) {
  auto first = QueuedAcquire(pool_, 1);
  auto second = QueuedAcquire(pool_, 2);

  held_.reset();  // returned: handed to `first` by the return itself, not left idle
  EXPECT_EQ(pool_.Waiting(), 1);
  // A caller arriving now queues behind `second`, even if `first` has not run yet.
  auto third = QueuedAcquire(pool_, 2);
  auto got_first = first.get();
  EXPECT_EQ(IdOf(got_first), 1);
  EXPECT_EQ(pool_.Waiting(), 2);  // nobody else was woken
  got_first.reset();
  auto got_second = second.get();
  EXPECT_EQ(IdOf(got_second), 1);
  EXPECT_EQ(pool_.Waiting(), 1);
  got_second.reset();
  auto got_third = third.get();
  EXPECT_EQ(IdOf(got_third), 1);
  EXPECT_EQ(pool_.opened(), 1);
  EXPECT_EQ(pool_.Waiting(), 0);
}

TEST_F(OneConnectionPoolTest, AClosedConnectionsSlotGoesToTheWaiterWhichOpensANewOne) {
  (**held_)->reusable = false;  // e.g. lost, or left inside a transaction
  auto waiter = QueuedAcquire(pool_, 1);
  held_.reset();
  auto got = waiter.get();
  ASSERT_TRUE(*got);
  EXPECT_EQ(IdOf(got), 2);
  EXPECT_EQ(pool_.opened(), 2);
}

TEST(ConnectionPoolTest, AFailedOpenGivesItsSlotToTheNextWaiter) {
  ManualTicker ticker;
  TestPool pool(1, &ticker);
  pool.HoldOpens();
  pool.FailOpens(true);
  auto opener = AcquireOnAThread(pool);
  ASSERT_TRUE(testing::Eventually([&] { return pool.OpenHeld(); }));
  auto waiter = QueuedAcquire(pool, 1);  // the one slot is taken by the open in progress
  pool.ReleaseOpens();
  auto failed = opener.get();
  ASSERT_FALSE(*failed);
  EXPECT_EQ(failed->error().message, "cannot connect");
  // The waiter was handed the slot and opened (failed too: opens still fail).
  auto also_failed = waiter.get();
  ASSERT_FALSE(*also_failed);
  EXPECT_EQ(also_failed->error().message, "cannot connect");
  EXPECT_EQ(pool.Waiting(), 0);
  pool.FailOpens(false);
  auto fresh = pool.Acquire();  // the slot was given back
  EXPECT_EQ(IdOf(fresh), 1);
}

TEST_F(OneConnectionPoolTest, AWaiterThatTimesOutLeavesTheQueue) {
  auto waiter = QueuedAcquire(pool_, 1);
  ticker_.Advance(milliseconds(1001));
  auto timed_out = waiter.get();
  ASSERT_FALSE(*timed_out);
  EXPECT_EQ(timed_out->error().code, ErrorCode::kUnavailable);
  EXPECT_EQ(timed_out->error().message, "Fake: all 1 pooled connections are busy");
  EXPECT_EQ(pool_.Waiting(), 0);
  held_.reset();  // nobody waits: the connection is kept idle for the next caller
  auto next = pool_.Acquire();
  EXPECT_EQ(IdOf(next), 1);
  EXPECT_EQ(pool_.opened(), 1);
}

TEST(ConnectionPoolTest, ManyThreadsShareFewConnectionsAndEveryAcquireIsServed) {
  TestPool pool(2, nullptr);
  std::atomic<int> served{0};
  std::atomic<int> in_use{0};
  std::atomic<int> most_in_use{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 200; ++i) {
        auto lease = pool.Acquire();
        if (!lease) continue;
        int now = ++in_use;
        int most = most_in_use.load();
        while (now > most && !most_in_use.compare_exchange_weak(most, now)) {
        }
        --in_use;
        ++served;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(served.load(), 8 * 200);
  EXPECT_LE(most_in_use.load(), 2);
  EXPECT_LE(pool.opened(), 2);
  EXPECT_EQ(pool.Waiting(), 0);
}

}  // namespace
}  // namespace dripr
