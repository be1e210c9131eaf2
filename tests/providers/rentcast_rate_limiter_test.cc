// RateLimiter pacing with a hand-driven ticker (no sleeping).

#include <gtest/gtest.h>

#include <thread>

#include "dripr/providers/rentcast/rate_limiter.h"

namespace dripr {
namespace {

using namespace std::chrono_literals;

TEST(RateLimiter, SpacesRequestsByIntervalWithSafetyMargin) {
  auto ticker = std::make_shared<ManualTicker>();
  RateLimiter limiter({.max_rps = 5, .burst = 1, .safety_margin = 0.1}, ticker);
  auto start = ticker->Now();
  for (int i = 0; i < 4; ++i) ASSERT_TRUE(limiter.Acquire(start + 10s));
  // 1.1 / 5 = 220 ms apart; the first is immediate.
  EXPECT_EQ(ticker->Sleeps(), (std::vector<Ticker::Duration>{0ms, 220ms, 440ms, 660ms}));
  EXPECT_EQ(ticker->Now() - start, 660ms);
}

TEST(RateLimiter, IdleTimeDoesNotAccumulateBeyondTheBurst) {
  auto ticker = std::make_shared<ManualTicker>();
  RateLimiter limiter({.max_rps = 10, .burst = 3, .safety_margin = 0}, ticker);
  auto start = ticker->Now();
  ticker->Advance(10s);  // long idle: at most `burst` requests back to back
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(limiter.Acquire(start + 1h));
  auto sleeps = ticker->Sleeps();
  ASSERT_EQ(sleeps.size(), 5u);
  EXPECT_EQ(sleeps[0], 10s);
  EXPECT_EQ(sleeps[1], 10s);
  EXPECT_EQ(sleeps[2], 10s);
  EXPECT_EQ(sleeps[3], 10s + 100ms);
  EXPECT_EQ(sleeps[4], 10s + 200ms);
}

TEST(RateLimiter, RefusesWithoutConsumingWhenTheSlotIsPastTheDeadline) {
  auto ticker = std::make_shared<ManualTicker>();
  RateLimiter limiter({.max_rps = 1, .burst = 1, .safety_margin = 0}, ticker);
  auto start = ticker->Now();
  ASSERT_TRUE(limiter.Acquire(start + 10s));
  EXPECT_FALSE(limiter.Acquire(start + 500ms));  // next slot is at +1 s
  EXPECT_TRUE(limiter.Acquire(start + 1s));      // the refused call took nothing
  EXPECT_EQ(ticker->Now() - start, 1s);
}

TEST(RateLimiter, PauseUntilHoldsEveryCaller) {
  auto ticker = std::make_shared<ManualTicker>();
  RateLimiter limiter({.max_rps = 10, .burst = 1, .safety_margin = 0}, ticker);
  auto start = ticker->Now();
  limiter.PauseUntil(start + 3s);
  ASSERT_TRUE(limiter.Acquire(start + 1h));
  ASSERT_TRUE(limiter.Acquire(start + 1h));
  EXPECT_EQ(ticker->Sleeps(), (std::vector<Ticker::Duration>{3s, 3s + 100ms}));
}

TEST(RateLimiter, ConcurrentCallersGetDistinctSlots) {
  auto ticker = std::make_shared<ManualTicker>();
  RateLimiter limiter({.max_rps = 4, .burst = 1, .safety_margin = 0}, ticker);
  auto start = ticker->Now();
  std::vector<std::thread> threads;
  for (int i = 0; i < 8; ++i) {
    threads.emplace_back([&] {
      for (int k = 0; k < 5; ++k) ASSERT_TRUE(limiter.Acquire(start + 1h));
    });
  }
  for (auto& t : threads) t.join();
  auto sleeps = ticker->Sleeps();
  ASSERT_EQ(sleeps.size(), 40u);
  std::sort(sleeps.begin(), sleeps.end());
  for (size_t i = 0; i < sleeps.size(); ++i) EXPECT_EQ(sleeps[i], 250ms * static_cast<int>(i));
}

}  // namespace
}  // namespace dripr
