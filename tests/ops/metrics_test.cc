// The metrics registry and its Prometheus text exposition (core/metrics.h), checked by
// the real `promtool check metrics`.

#include "dripr/core/metrics.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <thread>

#include "dripr/core/ids.h"
#include "support/poll.h"

namespace dripr {
namespace {

using namespace std::chrono_literals;

// Sample lines of the exposition (no comments), e.g. `name{a="b"} 3`.
std::vector<std::string> Samples(const std::string& text) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    std::string line = text.substr(start, end - start);
    if (!line.empty() && line[0] != '#') out.push_back(line);
    start = end + 1;
  }
  return out;
}

bool HasSample(const std::string& text, const std::string& line) {
  for (const auto& s : Samples(text)) {
    if (s == line) return true;
  }
  return false;
}

TEST(Metrics, CountersGaugesAndHistogramsWithLabels) {
  Metrics m;
  auto done = m.Counter(kMessagesHandled, {{"queue", "active_listings"}, {"outcome", "done"}});
  done.Increment();
  done.Increment(2);
  m.Gauge(kInFlight, {{"queue", "recent_sales"}}).Set(5);
  m.Gauge(kInFlight, {{"queue", "recent_sales"}}).Decrement();
  auto h = m.Histogram(kHandlerDuration, {{"queue", "local_market_data"}});
  h.Observe(0.02);
  h.Observe(3);

  const std::string text = m.Expose();
  EXPECT_TRUE(
      HasSample(text, R"(dripr_messages_handled_total{outcome="done",queue="active_listings"} 3)"))
      << text;
  EXPECT_TRUE(HasSample(text, R"(dripr_in_flight{queue="recent_sales"} 4)")) << text;
  EXPECT_TRUE(HasSample(
      text, R"(dripr_handler_duration_seconds_bucket{queue="local_market_data",le="0.01"} 0)"))
      << text;
  EXPECT_TRUE(HasSample(
      text, R"(dripr_handler_duration_seconds_bucket{queue="local_market_data",le="0.025"} 1)"))
      << text;
  EXPECT_TRUE(HasSample(
      text, R"(dripr_handler_duration_seconds_bucket{queue="local_market_data",le="5"} 2)"))
      << text;
  EXPECT_TRUE(HasSample(
      text, R"(dripr_handler_duration_seconds_bucket{queue="local_market_data",le="+Inf"} 2)"))
      << text;
  EXPECT_TRUE(
      HasSample(text, R"(dripr_handler_duration_seconds_count{queue="local_market_data"} 2)"))
      << text;
  EXPECT_TRUE(
      HasSample(text, R"(dripr_handler_duration_seconds_sum{queue="local_market_data"} 3.02)"))
      << text;
  EXPECT_NE(text.find("# TYPE dripr_handler_duration_seconds histogram"), std::string::npos);
  // A family shows up once it has a series (prometheus-cpp leaves empty families out).
  EXPECT_EQ(text.find("dripr_reconciler_actions_total"), std::string::npos);
}

TEST(Metrics, SameLabelsGiveTheSameSeries) {
  Metrics m;
  m.Counter(kReconcilerActions, {{"action", "republish"}}).Increment();
  m.Counter(kReconcilerActions, {{"action", "republish"}}).Increment();
  m.Counter(kReconcilerActions, {{"action", "restart"}}).Increment();
  const std::string text = m.Expose();
  EXPECT_TRUE(HasSample(text, R"(dripr_reconciler_actions_total{action="republish"} 2)")) << text;
  EXPECT_TRUE(HasSample(text, R"(dripr_reconciler_actions_total{action="restart"} 1)")) << text;
}

TEST(Metrics, MisuseRecordsNothingAndDoesNotCrash) {
  Metrics m;
  m.Counter("dripr_not_in_the_catalogue_total", {}).Increment();
  m.Counter(kMessagesReceived, {{"queue", "q"}, {"extra", "x"}}).Increment();  // wrong labels
  m.Counter(kMessagesReceived, {}).Increment();                                // missing label
  m.Gauge(kMessagesReceived, {{"queue", "q"}}).Set(3);                         // wrong type
  const std::string text = m.Expose();
  EXPECT_EQ(text.find("dripr_not_in_the_catalogue_total"), std::string::npos);
  for (const auto& s : Samples(text)) {
    EXPECT_FALSE(s.starts_with("dripr_messages_received_total")) << s;
  }
}

TEST(Metrics, NullRegistryGivesNoOpHandles) {
  auto c = CounterOf(nullptr, kEventsPublished, {});
  c.Increment();
  EXPECT_EQ(c.Value(), 0);
  GaugeOf(nullptr, kOutboxBacklog, {}).Set(3);
  HistogramOf(nullptr, kEventAge, {{"queue", "q"}}).Observe(1);
  HeartbeatOf(nullptr, "loop", 1ms).Beat();
  auto q = QueueMetrics::For(nullptr, "q");
  q.done.Increment();
  EXPECT_EQ(q.done.Value(), 0);
}

TEST(Metrics, ConcurrentIncrementsAreAllCounted) {
  Metrics m;
  constexpr int kThreads = 8, kEach = 20000;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&m, t] {
      // Half resolve once (the hot-path pattern), half look the series up every time.
      auto c = m.Counter(kMessagesReceived, {{"queue", "q"}});
      for (int i = 0; i < kEach; ++i) {
        if (t % 2 == 0) {
          c.Increment();
        } else {
          m.Counter(kMessagesReceived, {{"queue", "q"}}).Increment();
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(m.Counter(kMessagesReceived, {{"queue", "q"}}).Value(), kThreads * kEach);
}

TEST(Heartbeat, SilentLongerThanItsLimitIsAProblemUnlessWaitingOrStopped) {
  Heartbeat h("receive loop q#0", 30s);
  const auto now = std::chrono::steady_clock::now();
  EXPECT_EQ(h.Problem(now), "");
  EXPECT_EQ(h.Problem(now + 29s), "");
  const std::string p = h.Problem(now + 45s);
  EXPECT_TRUE(p.starts_with("receive loop q#0: no progress for 4")) << p;
  EXPECT_NE(p.find("limit 30.0 s"), std::string::npos) << p;
  h.SetWaiting(true);
  EXPECT_EQ(h.Problem(now + 1h), "");
  h.SetWaiting(false);
  EXPECT_NE(h.Problem(std::chrono::steady_clock::now() + 1h), "");
  h.Stop();
  EXPECT_EQ(h.Problem(std::chrono::steady_clock::now() + 1h), "");
}

TEST(Heartbeat, RegistryReportsOnlyWedgedLoops) {
  Metrics m;
  auto alive = m.AddHeartbeat("alive", 1h);
  auto wedged = m.AddHeartbeat("wedged", 1ms);
  alive.Beat();
  ASSERT_TRUE(testing::Eventually([&] { return !m.HeartbeatProblems().empty(); }));
  auto problems = m.HeartbeatProblems();
  ASSERT_EQ(problems.size(), 1u);
  EXPECT_TRUE(problems[0].starts_with("wedged: no progress")) << problems[0];
  wedged.Stop();
  EXPECT_TRUE(m.HeartbeatProblems().empty());
}

// Every family with samples, as a running fetcher has them, passes promtool's checks.
TEST(Metrics, ExpositionPassesPromtool) {
  Metrics m;
  for (const char* q : {"local_market_data", "active_listings", "recent_sales"}) {
    auto qm = QueueMetrics::For(&m, q);
    qm.received.Increment(3);
    qm.done.Increment(2);
    qm.retry.Increment();
    qm.failure.Increment(0);
    qm.dead_lettered.Increment(0);
    qm.handler_duration.Observe(0.2);
    qm.event_age.Observe(0.05);
    qm.in_flight.Set(1);
  }
  m.Gauge(kOutboxBacklog, {}).Set(4);
  m.Gauge(kOutboxOldestAge, {}).Set(1.5);
  m.Counter(kEventsPublished, {}).Increment(7);
  m.Counter(kProviderRequests,
            {{"provider", "rentcast"}, {"endpoint", "/listings/sale"}, {"code", "200"}})
      .Increment();
  m.Histogram(kProviderRequestDuration, {{"provider", "rentcast"}, {"endpoint", "/listings/sale"}})
      .Observe(0.3);
  m.Gauge(kCampaigns, {{"status", "WAITING_FOR_DATA"}}).Set(2);
  m.Counter(kReconcilerActions, {{"action", "republish"}}).Increment();
  m.Gauge(kBuildInfo,
          {{"version", "0.1.0"}, {"store", "sqlite"}, {"bus", "embedded"}, {"provider", "sample"}})
      .Set(1);

  const auto dir = std::filesystem::temp_directory_path() / ("dripr-promtool-" + NewUuid());
  std::filesystem::create_directories(dir);
  const auto in = dir / "metrics.txt", out = dir / "promtool.out";
  std::ofstream(in) << m.Expose();
  const std::string cmd =
      "promtool check metrics < " + in.string() + " > " + out.string() + " 2>&1";
  const int rc = std::system(cmd.c_str());
  std::ifstream result(out);
  const std::string said((std::istreambuf_iterator<char>(result)),
                         std::istreambuf_iterator<char>());
  std::filesystem::remove_all(dir);
  EXPECT_EQ(rc, 0) << "promtool (Debian package prometheus) said: " << said;
  EXPECT_EQ(said, "") << said;  // lint findings are printed even when the exit code is 0
}

}  // namespace
}  // namespace dripr
