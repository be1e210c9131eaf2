// FlatCombiner: calls queued while a batch runs go together in the next batch (up to max_batch),
// up to `combiners` batches run at once, and a batch that throws or miscounts fails its callers
// without leaving the combiner stuck. The first batch is held open by a gate the test opens;
// the test waits for the queue through stats(), never a sleep.

#include "dripr/core/flat_combiner.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <condition_variable>
#include <functional>
#include <map>
#include <mutex>
#include <numeric>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "support/poll.h"

namespace dripr {
namespace {

class FlatCombinerTest : public ::testing::Test {
 protected:
  using Body = std::function<std::vector<Result<int>>(std::span<int* const>, bool&)>;

  // Where batches wait until the test opens it (opening twice is fine).
  class Gate {
   public:
    void Open() {
      {
        std::lock_guard lock(mu_);
        open_ = true;
      }
      cv_.notify_all();
    }
    void Wait() {
      std::unique_lock lock(mu_);
      cv_.wait(lock, [&] { return open_; });
    }

   private:
    std::mutex mu_;
    std::condition_variable cv_;
    bool open_ = false;
  };

  ~FlatCombinerTest() override { Join(); }

  // Item 1's batch held, then 2, 3 and 4 in one batch after it, all four failing with
  // kInternal and `why` (body_ fails every batch).
  void FailEveryCallerOfABatch(CombiningLimits limits, std::string_view why) {
    ASSERT_NO_FATAL_FAILURE(StartHeld(1, limits));
    ASSERT_NO_FATAL_FAILURE(StartQueued({2, 3, 4}, limits));
    Join();
    EXPECT_THAT(sizes_, ::testing::ElementsAre(1, 3));
    ASSERT_EQ(results_.size(), 4u);
    for (const auto& [item, r] : results_) {
      ASSERT_FALSE(r) << item;
      EXPECT_EQ(r.error().code, ErrorCode::kInternal) << item;
      EXPECT_THAT(r.error().message, ::testing::HasSubstr(std::string(why))) << item;
    }
  }

  // The combiner's counts, every field of them, against `want`.
  void ExpectStats(const CombiningStats& want) {
    const CombiningStats s = combiner_.stats();
    EXPECT_EQ(s.batches, want.batches);
    EXPECT_EQ(s.combined, want.combined);
    EXPECT_EQ(s.ran_alone_after_failure, want.ran_alone_after_failure);
    EXPECT_EQ(s.queued, want.queued);
    EXPECT_EQ(s.running, want.running);
  }

  // `n` callers finished, each with its own item's result (TimesTen).
  void ExpectEachItsOwnResult(size_t n) {
    ASSERT_EQ(results_.size(), n);
    for (const auto& [item, r] : results_) {
      ASSERT_TRUE(r) << item << ": " << r.error().ToString();
      EXPECT_EQ(*r, item * 10) << item;
    }
  }

  // Each item's result is its value times ten.
  static std::vector<Result<int>> TimesTen(std::span<int* const> batch, bool& /*ran_alone*/) {
    std::vector<Result<int>> out;
    for (int* item : batch) out.emplace_back(*item * 10);
    return out;
  }

  // The run_batch every call gets: waits for the gate, records the batch's size, runs body_.
  auto Batch() {
    return [this](std::span<int* const> batch, bool& ran_alone) {
      gate_.Wait();
      {
        std::lock_guard lock(mu_);
        sizes_.push_back(static_cast<int>(batch.size()));
      }
      return body_(batch, ran_alone);
    };
  }

  // Runs `item` on a thread of its own; its result lands in results_[item].
  void Start(int item, CombiningLimits limits) {
    threads_.emplace_back([this, item, limits] {
      int mine = item;
      Result<int> r = combiner_.Run(mine, limits, Batch());
      std::lock_guard lock(mu_);
      results_.emplace(item, std::move(r));
    });
  }

  // Starts `item` and waits until its batch is running (held by the closed gate).
  void StartHeld(int item, CombiningLimits limits) {
    Start(item, limits);
    ASSERT_TRUE(testing::Eventually([&] { return combiner_.stats().running == 1; }));
  }

  // Starts `items` and waits until they are all queued behind the running batch.
  void StartQueued(const std::vector<int>& items, CombiningLimits limits) {
    for (int item : items) Start(item, limits);
    ASSERT_TRUE(testing::Eventually(
        [&] { return combiner_.stats().queued == static_cast<int>(items.size()); }));
  }

  // Opens the gate and joins every thread started so far.
  void Join() {
    gate_.Open();
    for (auto& t : threads_) t.join();
    threads_.clear();
  }

  FlatCombiner<int, Result<int>> combiner_;
  Gate gate_;
  Body body_ = TimesTen;
  std::mutex mu_;
  std::vector<int> sizes_;              // guarded by mu_
  std::map<int, Result<int>> results_;  // guarded by mu_; read after Join()
  std::vector<std::thread> threads_;
};

TEST_F(FlatCombinerTest, ALoneCallRunsABatchOfItsOwnItem) {
  gate_.Open();
  int item = 4;
  const Result<int> r = combiner_.Run(item, {.max_batch = 32}, Batch());
  ASSERT_TRUE(r) << r.error().ToString();
  EXPECT_EQ(*r, 40);
  EXPECT_THAT(sizes_, ::testing::ElementsAre(1));
  ExpectStats({.batches = 0, .combined = 0});  // a batch of one is not counted
}

TEST_F(FlatCombinerTest, CallsQueuedBehindARunningBatchRunInOneBatch) {
  const CombiningLimits limits{.max_batch = 32};
  ASSERT_NO_FATAL_FAILURE(StartHeld(1, limits));
  ASSERT_NO_FATAL_FAILURE(StartQueued({2, 3, 4, 5, 6}, limits));
  Join();
  EXPECT_THAT(sizes_, ::testing::ElementsAre(1, 5));
  ExpectEachItsOwnResult(6);
  ExpectStats({.batches = 1, .combined = 5});
}

TEST_F(FlatCombinerTest, BatchesHoldAtMostMaxBatchItems) {
  const CombiningLimits limits{.max_batch = 2};
  ASSERT_NO_FATAL_FAILURE(StartHeld(1, limits));
  ASSERT_NO_FATAL_FAILURE(StartQueued({2, 3, 4, 5, 6}, limits));
  Join();
  EXPECT_THAT(sizes_, ::testing::Each(::testing::Le(2)));
  EXPECT_EQ(std::accumulate(sizes_.begin(), sizes_.end(), 0), 6);
  ExpectEachItsOwnResult(6);
}

TEST_F(FlatCombinerTest, ASecondCombinerRunsWhileTheFirstBatchIsHeld) {
  const CombiningLimits limits{.max_batch = 32, .combiners = 2};
  ASSERT_NO_FATAL_FAILURE(StartHeld(1, limits));
  Start(2, limits);
  ASSERT_TRUE(testing::Eventually([&] { return combiner_.stats().running == 2; }))
      << "the second caller waited for the first batch";
  ASSERT_NO_FATAL_FAILURE(StartQueued({3}, limits));
  EXPECT_EQ(combiner_.stats().running, 2) << "no third batch beyond `combiners`";
  Join();
  EXPECT_THAT(sizes_, ::testing::ElementsAre(1, 1, 1));
  ExpectEachItsOwnResult(3);
}

// Many callers at once, each leaving as soon as it has its result while its batch's combiner
// still notifies the others (outside the lock): every caller gets its own item's result, and
// nobody waits forever. Under AddressSanitizer, a notify reaching a caller that had already
// left would be a use after its return.
TEST_F(FlatCombinerTest, ManyConcurrentCallersEachGetTheirOwnResult) {
  gate_.Open();
  constexpr int kThreads = 8;
  constexpr int kCalls = 500;
  const CombiningLimits limits{.max_batch = 4, .combiners = 2};
  for (int t = 0; t < kThreads; ++t) {
    threads_.emplace_back([this, t, limits] {
      for (int i = 0; i < kCalls; ++i) {
        int item = t * kCalls + i + 1;
        const Result<int> r = combiner_.Run(item, limits, Batch());
        std::lock_guard lock(mu_);
        results_.emplace(item, r);
      }
    });
  }
  Join();
  ExpectEachItsOwnResult(kThreads * kCalls);
  const CombiningStats s = combiner_.stats();
  EXPECT_EQ(s.queued, 0);
  EXPECT_EQ(s.running, 0);
}

TEST_F(FlatCombinerTest, CountsTheItemsOfCombinedBatchesThatRanAlone) {
  body_ = [](std::span<int* const> batch, bool& ran_alone) {
    ran_alone = true;
    return TimesTen(batch, ran_alone);
  };
  const CombiningLimits limits{.max_batch = 32};
  ASSERT_NO_FATAL_FAILURE(StartHeld(1, limits));
  ASSERT_NO_FATAL_FAILURE(StartQueued({2, 3, 4}, limits));
  Join();
  EXPECT_THAT(sizes_, ::testing::ElementsAre(1, 3));
  // The held batch of one is not counted.
  ExpectStats({.batches = 1, .combined = 3, .ran_alone_after_failure = 3});
}

TEST_F(FlatCombinerTest, ABatchThatThrowsFailsEachOfItsCallersAndLeavesTheCombinerUsable) {
  body_ = [](std::span<int* const>, bool&) -> std::vector<Result<int>> {
    throw std::runtime_error("disk on fire");
  };
  const CombiningLimits limits{.max_batch = 32};
  ASSERT_NO_FATAL_FAILURE(FailEveryCallerOfABatch(limits, "disk on fire"));

  body_ = TimesTen;
  int item = 7;
  const Result<int> r = combiner_.Run(item, limits, Batch());
  ASSERT_TRUE(r) << r.error().ToString();
  EXPECT_EQ(*r, 70);
  EXPECT_EQ(combiner_.stats().queued, 0);
  EXPECT_EQ(combiner_.stats().running, 0);
}

TEST_F(FlatCombinerTest, ABatchReturningTheWrongNumberOfResultsFailsEachOfItsCallers) {
  body_ = [](std::span<int* const> batch, bool& ran_alone) {
    std::vector<Result<int>> out = TimesTen(batch, ran_alone);
    out.pop_back();
    return out;
  };
  const CombiningLimits limits{.max_batch = 32};
  ASSERT_NO_FATAL_FAILURE(FailEveryCallerOfABatch(limits, "wrong number of results"));
}

}  // namespace
}  // namespace dripr
