// The consumer engine on the embedded queue, with faults injected by FaultyQueue and by
// scripted handlers (slow, failing, throwing).

#include "dripr/fetcher/consumer.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <functional>
#include <set>

#include "dripr/bus/embedded/embedded_bus.h"
#include "support/faulty_queue.h"
#include "support/poll.h"

namespace dripr {
namespace {

using namespace std::chrono_literals;
using testing::Eventually;
using testing::FaultyQueue;

class ScriptedHandler : public MessageHandler {
 public:
  std::function<HandlerOutcome(const ReceivedMessage&)> fn;
  std::atomic<int> calls{0};
  std::atomic<int> running{0};
  std::atomic<int> max_running{0};
  std::mutex mu;
  std::vector<std::pair<std::string, std::string>> failures;  // body, reason
  std::multiset<std::string> handled_bodies;

  HandlerOutcome Handle(const ReceivedMessage& m) override {
    ++calls;
    int now = ++running;
    for (int cur = max_running; now > cur && !max_running.compare_exchange_weak(cur, now);) {
    }
    HandlerOutcome out = fn ? fn(m) : HandlerOutcome::Done("ok");
    {
      std::lock_guard lock(mu);
      handled_bodies.insert(m.body);
    }
    --running;
    return out;
  }
  Status OnFailure(const ReceivedMessage& m, const std::string& reason) override {
    std::lock_guard lock(mu);
    failures.emplace_back(m.body, reason);
    return Ok();
  }
};

class ConsumerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("dripr-consumer-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    auto broker = EmbeddedBroker::Open((dir_ / "bus.db").string());
    ASSERT_TRUE(broker) << broker.error().ToString();
    broker_ = *broker;
    ASSERT_TRUE(broker_->DeclareQueue({"work-dlq", 30s, 0, ""}));
    ASSERT_TRUE(broker_->DeclareQueue({"work", 2s, 50, "work-dlq"}));
    work_ = std::move(*broker_->OpenQueue("work"));
    dlq_ = std::move(*broker_->OpenQueue("work-dlq"));
    faulty_ = std::make_unique<FaultyQueue>(*work_);
    options_.wait_time = 200ms;
    options_.visibility_timeout = 2s;
    options_.max_in_flight = 4;
    options_.backoff_base = 1000ms;
    options_.shutdown_deadline = 10s;
    options_.receive_error_backoff = 50ms;
  }
  void TearDown() override {
    work_.reset();
    dlq_.reset();
    broker_.reset();
    std::filesystem::remove_all(dir_);
  }

  void SendN(int n) {
    for (int i = 0; i < n; ++i) ASSERT_TRUE(work_->Send({"m" + std::to_string(i), {}}));
  }
  int64_t Depth(Queue& q) {
    auto s = q.Stats();
    return s ? s->visible + s->in_flight : -1;
  }

  std::filesystem::path dir_;
  std::shared_ptr<EmbeddedBroker> broker_;
  std::unique_ptr<EmbeddedQueue> work_, dlq_;
  std::unique_ptr<FaultyQueue> faulty_;
  ConsumerOptions options_;
  ScriptedHandler handler_;
};

TEST_F(ConsumerTest, HandlesEveryMessageOnceAndDeletesInBatches) {
  SendN(40);
  Consumer c("work", *faulty_, dlq_.get(), handler_, options_);
  c.Start();
  ASSERT_TRUE(Eventually([&] { return Depth(*work_) == 0; }));
  c.RequestStop();
  EXPECT_TRUE(c.Join());
  EXPECT_EQ(handler_.calls, 40);
  EXPECT_EQ(std::set<std::string>(handler_.handled_bodies.begin(), handler_.handled_bodies.end()).size(), 40u);
  EXPECT_EQ(c.Stats().done, 40);
  EXPECT_GT(faulty_->max_delete_batch, 1) << "deletes were never batched";
  EXPECT_LE(faulty_->max_delete_batch, 10);
}

TEST_F(ConsumerTest, NeverRunsMoreThanMaxInFlightAndStopsReceivingWhenFull) {
  options_.max_in_flight = 2;
  options_.receive_loops = 3;
  std::atomic<bool> release{false};
  handler_.fn = [&](const ReceivedMessage&) {
    while (!release) std::this_thread::sleep_for(1ms);
    return HandlerOutcome::Done("ok");
  };
  SendN(10);
  Consumer c("work", *faulty_, dlq_.get(), handler_, options_);
  c.Start();
  ASSERT_TRUE(Eventually([&] { return handler_.running == 2; }));
  // Back-pressure: with both workers busy nothing more is taken off the queue.
  auto stats = work_->Stats();
  ASSERT_TRUE(stats);
  EXPECT_EQ(stats->in_flight, 2);
  EXPECT_EQ(stats->visible, 8);
  release = true;
  ASSERT_TRUE(Eventually([&] { return Depth(*work_) == 0; }));
  c.RequestStop();
  c.Join();
  EXPECT_EQ(handler_.max_running, 2);
  EXPECT_EQ(handler_.calls, 10);
}

TEST_F(ConsumerTest, ExtendsTheLeaseOfASlowHandlerSoItIsNotRedelivered) {
  // Visibility 2 s; the handler takes 5 s. Without lease extension the message would be
  // received a second time while the first handler still runs.
  handler_.fn = [&](const ReceivedMessage&) {
    std::this_thread::sleep_for(5s);  // the slow handler being simulated
    return HandlerOutcome::Done("ok");
  };
  SendN(1);
  Consumer c("work", *faulty_, dlq_.get(), handler_, options_);
  c.Start();
  ASSERT_TRUE(Eventually([&] { return Depth(*work_) == 0; }, 15s));
  c.RequestStop();
  c.Join();
  EXPECT_EQ(handler_.calls, 1);
  EXPECT_GE(c.Stats().lease_extensions, 2);
}

TEST_F(ConsumerTest, RetryableOutcomeComesBackAfterABackoffWithHigherReceiveCount) {
  std::vector<int> counts;
  std::mutex mu;
  handler_.fn = [&](const ReceivedMessage& m) {
    std::lock_guard lock(mu);
    counts.push_back(m.receive_count);
    return m.receive_count == 1 ? HandlerOutcome::Retry("provider 503") : HandlerOutcome::Done("ok");
  };
  SendN(1);
  Consumer c("work", *faulty_, dlq_.get(), handler_, options_);
  c.Start();
  ASSERT_TRUE(Eventually([&] { return Depth(*work_) == 0; }, 15s));
  c.RequestStop();
  c.Join();
  EXPECT_EQ(counts, (std::vector<int>{1, 2}));
  auto changes = faulty_->visibility_changes();
  ASSERT_FALSE(changes.empty());
  EXPECT_GE(changes.front(), 1s);  // the retry delay went through the visibility timeout
  EXPECT_EQ(c.Stats().retried, 1);
}

TEST_F(ConsumerTest, HandlerExceptionIsRetriedNotFatal) {
  handler_.fn = [&](const ReceivedMessage& m) -> HandlerOutcome {
    if (m.receive_count == 1) throw std::runtime_error("boom");
    return HandlerOutcome::Done("ok");
  };
  SendN(3);
  Consumer c("work", *faulty_, dlq_.get(), handler_, options_);
  c.Start();
  ASSERT_TRUE(Eventually([&] { return Depth(*work_) == 0; }, 15s));
  c.RequestStop();
  c.Join();
  EXPECT_EQ(handler_.calls, 6);
  EXPECT_EQ(c.Stats().done, 3);
}

TEST_F(ConsumerTest, FailureGoesToTheDlqWithItsReasonAndIsDeleted) {
  handler_.fn = [](const ReceivedMessage&) { return HandlerOutcome::Failure("malformed event: zip_code"); };
  ASSERT_TRUE(work_->Send({"bad", {{"event_type", "STATUS_CHANGE"}}}));
  Consumer c("work", *faulty_, dlq_.get(), handler_, options_);
  c.Start();
  ASSERT_TRUE(Eventually([&] { return Depth(*work_) == 0 && Depth(*dlq_) == 1; }));
  c.RequestStop();
  c.Join();
  auto got = dlq_->Receive(10, 0ms, 30s);
  ASSERT_TRUE(got);
  ASSERT_EQ(got->size(), 1u);
  const auto& m = got->front();
  EXPECT_EQ(m.body, "bad");
  EXPECT_EQ(m.attributes.at(std::string(kFailureReasonAttribute)), "malformed event: zip_code");
  EXPECT_EQ(m.attributes.at(std::string(kSourceQueueAttribute)), "work");
  EXPECT_EQ(m.attributes.at("event_type"), "STATUS_CHANGE");
  ASSERT_EQ(handler_.failures.size(), 1u);
  EXPECT_EQ(handler_.failures[0].second, "malformed event: zip_code");
}

TEST_F(ConsumerTest, RetryableFailuresBecomeAFailureAfterMaxAttempts) {
  options_.max_attempts = 2;
  options_.backoff_base = 1ms;  // rounds up to the 1 s minimum
  handler_.fn = [](const ReceivedMessage&) { return HandlerOutcome::Retry("timeout"); };
  SendN(1);
  Consumer c("work", *faulty_, dlq_.get(), handler_, options_);
  c.Start();
  ASSERT_TRUE(Eventually([&] { return Depth(*dlq_) == 1 && Depth(*work_) == 0; }, 15s));
  c.RequestStop();
  c.Join();
  EXPECT_EQ(handler_.calls, 2);
  ASSERT_EQ(handler_.failures.size(), 1u);
  EXPECT_EQ(handler_.failures[0].second, "gave up after 2 attempts: timeout");
}

TEST_F(ConsumerTest, FailedDeletesAreRetriedWithoutRedelivery) {
  faulty_->fail_next_deletes = 2;
  SendN(5);
  Consumer c("work", *faulty_, dlq_.get(), handler_, options_);
  c.Start();
  ASSERT_TRUE(Eventually([&] { return Depth(*work_) == 0; }));
  c.RequestStop();
  c.Join();
  EXPECT_EQ(handler_.calls, 5);
  EXPECT_GE(c.Stats().delete_errors, 2);
}

TEST_F(ConsumerTest, ReceiveErrorsDoNotStopTheConsumer) {
  faulty_->fail_next_receives = 5;
  SendN(3);
  Consumer c("work", *faulty_, dlq_.get(), handler_, options_);
  c.Start();
  ASSERT_TRUE(Eventually([&] { return Depth(*work_) == 0; }));
  c.RequestStop();
  c.Join();
  EXPECT_EQ(handler_.calls, 3);
  EXPECT_EQ(c.Stats().receive_errors, 5);
}

TEST_F(ConsumerTest, ShutdownFinishesInFlightAndReleasesNeverStartedMessages) {
  options_.max_in_flight = 2;
  options_.batch_size = 10;
  options_.receive_loops = 1;
  options_.visibility_timeout = 30s;  // released messages must not wait for this
  std::atomic<bool> go{false};
  handler_.fn = [&](const ReceivedMessage&) {
    while (!go) std::this_thread::sleep_for(1ms);
    return HandlerOutcome::Done("ok");
  };
  SendN(6);
  Consumer c("work", *faulty_, dlq_.get(), handler_, options_);
  c.Start();
  ASSERT_TRUE(Eventually([&] { return handler_.running == 2; }));
  c.RequestStop();
  std::thread joiner([&] { EXPECT_TRUE(c.Join()); });
  go = true;
  joiner.join();
  EXPECT_EQ(handler_.calls, 2);  // the two in flight finished, nothing new started
  // The other four are receivable right away, not after the 30 s lease.
  auto rest = work_->Receive(10, 0ms, 30s);
  ASSERT_TRUE(rest);
  EXPECT_EQ(rest->size(), 4u);
}

}  // namespace
}  // namespace dripr
