// RateLimiter pacing with a hand-driven ticker (no sleeping).

#include <gtest/gtest.h>

#include <deque>
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

// The cluster stage, scripted: answers Reserve from `answers` (empty: zero wait) and records
// every call.
class ScriptedBudget final : public SharedBudget {
 public:
  Result<std::optional<std::chrono::microseconds>> Reserve(
      const std::string& name, std::chrono::microseconds spacing,
      std::chrono::microseconds max_wait) override {
    reserves.push_back({name, spacing, max_wait});
    if (answers.empty()) return std::optional<std::chrono::microseconds>(0us);
    auto a = answers.front();
    answers.pop_front();
    return a;
  }
  Status Pause(const std::string& name, std::chrono::microseconds pause) override {
    pauses.push_back({name, pause});
    return Ok();
  }
  struct Call {
    std::string name;
    std::chrono::microseconds spacing, max_wait;
  };
  std::deque<Result<std::optional<std::chrono::microseconds>>> answers;
  std::vector<Call> reserves;
  std::vector<std::pair<std::string, std::chrono::microseconds>> pauses;
};

TEST(RateLimiter, AsksTheClusterAfterTheProcessAndWaitsForItsSlot) {
  auto ticker = std::make_shared<ManualTicker>();
  auto budget = std::make_shared<ScriptedBudget>();
  budget->answers = {std::optional<std::chrono::microseconds>(0us),
                     std::optional<std::chrono::microseconds>(700ms)};  // others took slots
  RateLimiter limiter({.max_rps = 5, .burst = 1, .safety_margin = 0.1, .budget_name = "rentcast:k"},
                      ticker, budget);
  auto start = ticker->Now();
  ASSERT_TRUE(limiter.Acquire(start + 10s));
  ASSERT_TRUE(limiter.Acquire(start + 10s));
  ASSERT_EQ(budget->reserves.size(), 2u);
  EXPECT_EQ(budget->reserves[0].name, "rentcast:k");
  EXPECT_EQ(budget->reserves[0].spacing, 220ms) << "the same spacing as the process's";
  EXPECT_EQ(budget->reserves[0].max_wait, 10s) << "what is left before the deadline";
  EXPECT_EQ(budget->reserves[1].max_wait, 10s - 220ms);
  // Local slot at +220 ms, then the cluster's 700 ms later.
  EXPECT_EQ(ticker->Now() - start, 920ms);
}

TEST(RateLimiter, ClusterRefusalIsADeadlineAndAnUnreachableBudgetSendsNothing) {
  auto ticker = std::make_shared<ManualTicker>();
  auto budget = std::make_shared<ScriptedBudget>();
  budget->answers = {std::optional<std::chrono::microseconds>(),
                     Fail(ErrorCode::kUnavailable, "database down")};
  RateLimiter limiter({.max_rps = 5, .budget_name = "rentcast:k"}, ticker, budget);
  auto start = ticker->Now();
  auto refused = limiter.Acquire(start + 1s);
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code, ErrorCode::kDeadlineExceeded);
  auto down = limiter.Acquire(start + 1s);
  ASSERT_FALSE(down);
  EXPECT_EQ(down.error().code, ErrorCode::kUnavailable);
  EXPECT_NE(down.error().message.find("database down"), std::string::npos);
}

TEST(RateLimiter, PauseReachesTheCluster) {
  auto ticker = std::make_shared<ManualTicker>();
  auto budget = std::make_shared<ScriptedBudget>();
  RateLimiter limiter({.max_rps = 5, .budget_name = "rentcast:k"}, ticker, budget);
  limiter.PauseUntil(ticker->Now() + 3s);
  ASSERT_EQ(budget->pauses.size(), 1u);
  EXPECT_EQ(budget->pauses[0].first, "rentcast:k");
  EXPECT_EQ(budget->pauses[0].second, 3s);
  limiter.PauseUntil(ticker->Now() - 1s);
  EXPECT_EQ(budget->pauses.size(), 1u) << "a pause in the past is nothing to share";
}

TEST(RateLimiter, BudgetNameHidesTheKey) {
  const std::string name = RentCastBudgetName("secret-key-123");
  EXPECT_EQ(name.rfind("rentcast:", 0), 0u);
  EXPECT_EQ(name.size(), 9u + 16u);
  EXPECT_EQ(name.find("secret"), std::string::npos);
  EXPECT_EQ(name, RentCastBudgetName("secret-key-123")) << "stable across processes";
  EXPECT_NE(name, RentCastBudgetName("secret-key-124")) << "one budget per key";
}

}  // namespace
}  // namespace dripr
