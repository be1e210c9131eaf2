// The consumer engine's metrics and heartbeats, on the embedded queue with a scripted handler.

#include <gtest/gtest.h>

#include <filesystem>

#include "dripr/bus/embedded/embedded_bus.h"
#include "dripr/core/ids.h"
#include "dripr/fetcher/consumer.h"
#include "support/campaign_ids.h"
#include "support/poll.h"

namespace dripr {
namespace {

using namespace std::chrono_literals;
using testing::Eventually;

// Done for "ok", retry (then failure at max_attempts) for "flaky", failure for "bad".
class ScriptedHandler : public MessageHandler {
 public:
  HandlerOutcome Handle(const ReceivedMessage& m) override {
    if (m.body == "bad") return HandlerOutcome::Failure("malformed event", Cid("c-bad"));
    if (m.body == "flaky") return HandlerOutcome::Retry("provider 503", Cid("c-flaky"));
    return HandlerOutcome::Done("ok", Cid("c-ok"));
  }
  Status OnFailure(const ReceivedMessage&, const std::string&) override { return Ok(); }
};

TEST(ConsumerMetrics, CountsEveryOutcomeAndReturnsInFlightToZero) {
  const auto dir = std::filesystem::temp_directory_path() / ("dripr-cm-" + NewUuid());
  std::filesystem::create_directories(dir);
  {
    auto broker = EmbeddedBroker::Open((dir / "bus.db").string());
    ASSERT_TRUE(broker) << broker.error().ToString();
    ASSERT_TRUE((*broker)->DeclareQueue({"work-dlq", 30s, 0, ""}));
    ASSERT_TRUE((*broker)->DeclareQueue({"work", 2s, 50, "work-dlq"}));
    auto work = std::move(*(*broker)->OpenQueue("work"));
    auto dlq = std::move(*(*broker)->OpenQueue("work-dlq"));
    for (const char* body : {"ok", "ok", "ok", "bad", "flaky"}) ASSERT_TRUE(work->Send({body, {}}));

    ConsumerOptions options;
    options.wait_time = 100ms;
    options.visibility_timeout = 2s;
    options.max_in_flight = 2;
    options.max_attempts = 2;    // "flaky": retry once, then a failure
    options.backoff_base = 1ms;  // visible again after the 1 s minimum
    options.shutdown_deadline = 5s;
    Metrics metrics;
    ScriptedHandler handler;
    Consumer consumer("active_listings", *work, dlq.get(), handler, options, nullptr, nullptr,
                      &metrics);
    auto q = QueueMetrics::For(&metrics, "active_listings");
    consumer.Start();
    ASSERT_TRUE(Eventually([&] { return q.failure.Value() == 2; }, 15s));
    EXPECT_EQ(q.done.Value(), 3);
    EXPECT_EQ(q.retry.Value(), 1);
    EXPECT_EQ(q.dead_lettered.Value(), 2);
    EXPECT_EQ(q.received.Value(), 6);  // "flaky" twice
    EXPECT_TRUE(metrics.HeartbeatProblems().empty());
    consumer.RequestStop();
    EXPECT_TRUE(consumer.Join());
    EXPECT_EQ(q.in_flight.Value(), 0);
    const std::string text = metrics.Expose();
    EXPECT_NE(text.find(R"(dripr_handler_duration_seconds_count{queue="active_listings"} 6)"),
              std::string::npos)
        << text;
    EXPECT_NE(text.find(R"(dripr_event_age_seconds_count{queue="active_listings"} 6)"),
              std::string::npos)
        << text;
    // The receive loops' heartbeats retire with the loops: nothing is reported as wedged.
    EXPECT_TRUE(metrics.HeartbeatProblems().empty());
  }
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace dripr
