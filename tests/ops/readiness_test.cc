// Readiness checks and the store-sampled gauges, against a real SQLite store and embedded bus.

#include "dripr/fetcher/readiness.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <future>

#include "dripr/core/ids.h"
#include "dripr/fetcher/config.h"
#include "dripr/fetcher/wiring.h"
#include "support/campaign_ids.h"
#include "support/poll.h"

namespace dripr {
namespace {

using namespace std::chrono_literals;

TEST(PeriodicCheck, ReportsTheLastOutcome) {
  std::atomic<bool> ok{false};
  PeriodicCheck check(
      "database",
      [&]() -> Status {
        if (ok) return Ok();
        return Fail(ErrorCode::kUnavailable, "connection refused");
      },
      5ms, 1s, RealTicker());
  EXPECT_EQ(check.Current().detail, "not checked yet");
  EXPECT_FALSE(check.Current().ok);
  check.Start();
  ASSERT_TRUE(testing::Eventually([&] {
    return check.Current().detail == "UNAVAILABLE: connection refused";
  })) << check.Current().detail;
  ok = true;
  ASSERT_TRUE(testing::Eventually([&] { return check.Current().ok; }));
  EXPECT_EQ(check.Current().name, "database");
  EXPECT_EQ(check.Current().detail, "");
}

TEST(PeriodicCheck, AHangingCheckFailsAfterTheTimeout) {
  std::promise<void> release;
  std::shared_future<void> released = release.get_future().share();
  std::atomic<int> calls{0};
  PeriodicCheck check(
      "bus",
      [&]() -> Status {
        if (++calls > 1) released.wait();  // the second call hangs, like a lost broker
        return Ok();
      },
      5ms, 50ms, RealTicker());
  check.Start();
  ASSERT_TRUE(testing::Eventually([&] { return calls >= 2; }));
  ASSERT_TRUE(testing::Eventually([&] { return !check.Current().ok; }));
  EXPECT_EQ(check.Current().detail, "no answer within 0.05 s");
  release.set_value();
  ASSERT_TRUE(testing::Eventually([&] { return check.Current().ok; }));
  check.Stop();
}

// The timeout is measured on the injected ticker: exactly, and without waiting for real.
TEST(PeriodicCheck, TimeoutIsMeasuredOnTheInjectedTicker) {
  ManualTicker ticker;
  std::promise<void> release;
  std::shared_future<void> released = release.get_future().share();
  std::atomic<bool> entered{false};
  PeriodicCheck check(
      "bus",
      [&]() -> Status {
        entered = true;
        released.wait();
        return Ok();
      },
      5ms, 50ms, ticker);
  check.Start();
  ASSERT_TRUE(testing::Eventually([&] { return entered.load(); }));
  ticker.Advance(50ms);
  EXPECT_EQ(check.Current().detail, "not checked yet");  // at the timeout, not past it
  ticker.Advance(1ms);
  EXPECT_FALSE(check.Current().ok);
  EXPECT_EQ(check.Current().detail, "no answer within 0.05 s");
  release.set_value();
  ASSERT_TRUE(testing::Eventually([&] { return check.Current().ok; }));
  check.Stop();
}

class ReadinessProbeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() / ("dripr-ready-" + NewUuid());
    std::filesystem::create_directories(dir_);
    Env env = Env::FromMap({{"DATABASE_URL", "sqlite:" + (dir_ / "t.db").string()}});
    auto config = LoadConfig(env);
    ASSERT_TRUE(config) << config.error().ToString();
    auto store = OpenConfiguredStore(*config, StoreSetup{});
    ASSERT_TRUE(store) << store.error().ToString();
    store_ = std::move(*store);
    auto bus = OpenConfiguredBus(*config);
    ASSERT_TRUE(bus) << bus.error().ToString();
    bus_ = std::move(*bus);
  }
  void TearDown() override {
    bus_.reset();
    store_.reset();
    std::filesystem::remove_all(dir_);
  }

  std::filesystem::path dir_;
  StorePtr store_;
  BusPtr bus_;
};

TEST_F(ReadinessProbeTest, ReadyWhenDatabaseBusAndConsumersAreUp) {
  Metrics metrics;
  std::atomic<bool> running{true};
  ReadinessProbe probe(*store_, *bus_, [&] { return running.load(); }, metrics, RealTicker(),
                       {5ms, 1s, 10s});
  probe.Start();
  auto all_ok = [&] {
    for (const auto& c : probe.Checks()) {
      if (!c.ok) return false;
    }
    return true;
  };
  ASSERT_TRUE(testing::Eventually(all_ok));
  auto checks = probe.Checks();
  ASSERT_EQ(checks.size(), 3u);
  EXPECT_EQ(checks[0].name, "database");
  EXPECT_EQ(checks[1].name, "bus");
  EXPECT_EQ(checks[2].name, "consumers");
  running = false;
  checks = probe.Checks();
  EXPECT_FALSE(checks[2].ok);
  EXPECT_EQ(checks[2].detail, "consumers are not running");
}

TEST_F(ReadinessProbeTest, SamplesCampaignsByStatusAndTheOutbox) {
  ASSERT_TRUE(store_->CreateCampaign(NewCampaign{"c-1", "u", "02139", std::nullopt}));
  ASSERT_TRUE(store_->CreateCampaign(NewCampaign{"c-2", "u", "02139", std::nullopt}));
  ASSERT_TRUE(store_->CreateCampaign(NewCampaign{"c-3", "u", "02139", std::nullopt}));
  ASSERT_TRUE(store_->StartCampaign(Cid("c-1")));  // one outbox row, unpublished
  Metrics metrics;
  ReadinessProbe probe(*store_, *bus_, [] { return true; }, metrics, RealTicker(), {1s, 1s, 10s});
  probe.Start();  // samples at once, then every 10 s
  ASSERT_TRUE(testing::Eventually([&] { return metrics.Gauge(kOutboxBacklog, {}).Value() == 1; }));
  EXPECT_EQ(metrics.Gauge(kCampaigns, {{"status", "DORMANT"}}).Value(), 2);
  EXPECT_EQ(metrics.Gauge(kCampaigns, {{"status", "WAITING_FOR_DATA"}}).Value(), 1);
  EXPECT_EQ(metrics.Gauge(kCampaigns, {{"status", "ERROR"}}).Value(), 0);
  EXPECT_GE(metrics.Gauge(kOutboxOldestAge, {}).Value(), 0);
  EXPECT_LT(metrics.Gauge(kOutboxOldestAge, {}).Value(), 60);
  // SQLite's one writer combines no transitions: the counters are exported, at 0.
  const std::string exposed = metrics.Expose();
  EXPECT_NE(exposed.find("\ndripr_transition_batches_total 0\n"), std::string::npos) << exposed;
  EXPECT_NE(exposed.find("\ndripr_transitions_combined_total 0\n"), std::string::npos);
  EXPECT_NE(exposed.find("\ndripr_transitions_queued 0\n"), std::string::npos);
  probe.Stop();
}

// The store counts its combined transitions in memory; each sample adds what is new to the
// counters (never less: a count below the last sample's, from a store opened afresh, adds
// nothing and becomes the base) and sets the queue's gauge.
TEST(ExportTransitionCombining, AddsWhatEachSampleCountsBeyondTheLast) {
  Metrics metrics;
  CombiningStats last;
  auto read = [&] {
    return std::vector<double>{metrics.Counter(kTransitionBatches, {}).Value(),
                               metrics.Counter(kTransitionsCombined, {}).Value(),
                               metrics.Counter(kTransitionsRerunAlone, {}).Value(),
                               metrics.Gauge(kTransitionsQueued, {}).Value()};
  };
  ExportTransitionCombining(
      metrics, {.batches = 2, .combined = 7, .ran_alone_after_failure = 1, .queued = 3}, last);
  EXPECT_EQ(read(), (std::vector<double>{2, 7, 1, 3}));
  ExportTransitionCombining(
      metrics, {.batches = 5, .combined = 15, .ran_alone_after_failure = 1, .queued = 0}, last);
  EXPECT_EQ(read(), (std::vector<double>{5, 15, 1, 0}));
  ExportTransitionCombining(metrics, {.batches = 1, .combined = 2}, last);  // counted afresh
  EXPECT_EQ(read(), (std::vector<double>{5, 15, 1, 0}));
  ExportTransitionCombining(metrics, {.batches = 3, .combined = 8, .queued = 1}, last);
  EXPECT_EQ(read(), (std::vector<double>{7, 21, 1, 1}));
}

// One sample (no thread, a manual clock): the queue gauges of /metrics and the chart's history
// come from the same pass as dripr_campaigns.
TEST_F(ReadinessProbeTest, SampleSetsQueueGaugesAndRecordsTheChartHistory) {
  ASSERT_TRUE(store_->CreateCampaign(NewCampaign{"c-1", "u", "02139", std::nullopt}));
  Queue& work = bus_->WorkQueue(DataPart::kRecentSales);
  ASSERT_TRUE(work.Send({"now", {}}));
  ASSERT_TRUE(work.Send({"later", {}, std::chrono::seconds(600)}));
  // The messages were sent on the real clock; the sample is taken 100 s later.
  ManualClock clock(std::chrono::system_clock::now() + 100s);
  StatusHistory history(10s, 60s);
  Metrics metrics;
  ReadinessOptions options{1s, 1s, 10s};
  options.clock = &clock;
  options.history = &history;
  ReadinessProbe probe(
      *store_, *bus_, [] { return true; }, metrics, RealTicker(), options);
  probe.SampleOnce();
  const MetricLabels work_labels = {{"queue", "recent_sales"}, {"role", "work"}};
  auto state = [&](const char* s) {
    MetricLabels l = work_labels;
    l["state"] = s;
    return metrics.Gauge(kQueueMessages, l).Value();
  };
  EXPECT_EQ(state("visible"), 1);
  EXPECT_EQ(state("delayed"), 1);
  EXPECT_EQ(state("in_flight"), 0);
  EXPECT_NEAR(metrics.Gauge(kQueueOldestAge, work_labels).Value(), 100, 5);
  EXPECT_EQ(metrics.Gauge(kQueueOldestAge, {{"queue", "recent_sales"}, {"role", "dlq"}}).Value(),
            0);

  clock.Advance(10s);
  ASSERT_TRUE(store_->StartCampaign(Cid("c-1")));
  probe.SampleOnce();
  auto samples = history.Samples(clock.Now());
  ASSERT_EQ(samples.size(), 2u);
  EXPECT_EQ(samples[1].at - samples[0].at, 10s);
  EXPECT_EQ(samples[0].counts[0], 1);  // DORMANT
  EXPECT_EQ(samples[1].counts[0], 0);
  EXPECT_EQ(samples[1].counts[1], 1);  // WAITING_FOR_DATA
}

}  // namespace
}  // namespace dripr
