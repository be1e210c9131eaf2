// The overview chart's server-side history (fetcher/status_history.h), on a manual clock:
// fixed spacing, fixed memory, the window, and a clock stepped back.

#include "dripr/fetcher/status_history.h"

#include <gtest/gtest.h>

namespace dripr {
namespace {

using namespace std::chrono_literals;

StatusCounts Dormant(int64_t n) {
  StatusCounts c{};
  c[0] = n;
  return c;
}

class StatusHistoryTest : public ::testing::Test {
 protected:
  ManualClock clock_{SysTime{} + 1'000'000s};
};

TEST_F(StatusHistoryTest, KeepsOneSampleAnIntervalOldestFirst) {
  StatusHistory h(10s, 60s);
  EXPECT_EQ(h.capacity(), 6u);
  EXPECT_TRUE(h.Samples(clock_.Now()).empty());
  for (int i = 0; i < 3; ++i) {
    h.Record(clock_.Now(), Dormant(i));
    clock_.Advance(10s);
  }
  auto s = h.Samples(clock_.Now());
  ASSERT_EQ(s.size(), 3u);
  EXPECT_EQ(s[0].counts[0], 0);
  EXPECT_EQ(s[2].counts[0], 2);
  EXPECT_EQ(s[2].at - s[0].at, 20s);
}

TEST_F(StatusHistoryTest, ASampleSoonerThanHalfAnIntervalReplacesTheLast) {
  StatusHistory h(10s, 60s);
  h.Record(clock_.Now(), Dormant(1));
  clock_.Advance(4s);
  h.Record(clock_.Now(), Dormant(2));
  auto s = h.Samples(clock_.Now());
  ASSERT_EQ(s.size(), 1u);
  EXPECT_EQ(s[0].counts[0], 2);
  EXPECT_EQ(s[0].at, clock_.Now());
  clock_.Advance(6s);  // 6 s after the replaced sample: at least half an interval
  h.Record(clock_.Now(), Dormant(3));
  EXPECT_EQ(h.Samples(clock_.Now()).size(), 2u);
}

TEST_F(StatusHistoryTest, MemoryIsFixedAndTheOldestFallOff) {
  StatusHistory h(10s, 60s);
  for (int i = 0; i < 100; ++i) {
    h.Record(clock_.Now(), Dormant(i));
    clock_.Advance(10s);
  }
  EXPECT_EQ(h.capacity(), 6u);
  auto s = h.Samples(clock_.Now());
  ASSERT_EQ(s.size(), 6u);
  EXPECT_EQ(s.front().counts[0], 94);
  EXPECT_EQ(s.back().counts[0], 99);
  for (size_t i = 1; i < s.size(); ++i) EXPECT_EQ(s[i].at - s[i - 1].at, 10s);
}

TEST_F(StatusHistoryTest, SamplesOlderThanTheWindowAreNotServed) {
  StatusHistory h(10s, 60s);
  h.Record(clock_.Now(), Dormant(1));
  clock_.Advance(30s);
  h.Record(clock_.Now(), Dormant(2));
  clock_.Advance(45s);  // the first is 75 s old, the second 45 s
  auto s = h.Samples(clock_.Now());
  ASSERT_EQ(s.size(), 1u);
  EXPECT_EQ(s[0].counts[0], 2);
  clock_.Advance(1h);  // a fetcher whose sampler stopped serves nothing stale
  EXPECT_TRUE(h.Samples(clock_.Now()).empty());
}

TEST_F(StatusHistoryTest, AClockSteppedBackStartsAgain) {
  StatusHistory h(10s, 60s);
  h.Record(clock_.Now(), Dormant(1));
  clock_.Advance(10s);
  h.Record(clock_.Now(), Dormant(2));
  clock_.Advance(-30s);
  h.Record(clock_.Now(), Dormant(3));
  auto s = h.Samples(clock_.Now());
  ASSERT_EQ(s.size(), 1u);
  EXPECT_EQ(s[0].counts[0], 3);
}

TEST_F(StatusHistoryTest, CountsComeFromTheGaugeMapByName) {
  auto c = CountsByStatus({{"ERROR", 4}, {"WAITING_FOR_DATA", 2}, {"NOT_A_STATUS", 9}});
  EXPECT_EQ(c[0], 0);
  EXPECT_EQ(c[1], 2);
  EXPECT_EQ(c[8], 4);
}

}  // namespace
}  // namespace dripr
