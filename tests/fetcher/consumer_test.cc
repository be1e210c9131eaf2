// The consumer engine on the embedded queue, with faults injected by FaultyQueue and by
// scripted handlers (slow, failing, throwing). Whatever depends on time runs on a manual
// clock (ManualTicker for the engine, ManualClock for the queue's visibility timeouts,
// moved together) and a scripted random source, so schedules are asserted exactly and no
// test waits for real seconds.

#include "dripr/fetcher/consumer.h"

#include <gtest/gtest.h>

#include <condition_variable>
#include <filesystem>
#include <fstream>
#include <functional>
#include <future>
#include <map>
#include <set>

#include "bus/broker_fixture.h"
#include "dripr/bus/embedded/embedded_bus.h"
#include "support/faulty_queue.h"
#include "support/poll.h"

namespace dripr {
namespace {

// Threads of this process (/proc/self/status), -1 when unreadable.
int ThreadCount() {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.starts_with("Threads:")) return std::stoi(line.substr(8));
  }
  return -1;
}

// How many of this process's threads carry each name (/proc/self/task/TID/comm).
std::map<std::string, int> ThreadNames() {
  std::map<std::string, int> names;
  for (const auto& task : std::filesystem::directory_iterator("/proc/self/task")) {
    std::ifstream comm(task.path() / "comm");
    std::string name;
    if (std::getline(comm, name)) ++names[name];
  }
  return names;
}

using namespace std::chrono_literals;
using testing::Eventually;
using testing::FaultyQueue;

// A handler blocks on this until the test opens it.
class Gate {
 public:
  void Wait() {
    std::unique_lock lock(mu_);
    cv_.wait(lock, [&] { return open_; });
  }
  void Open() {
    std::lock_guard lock(mu_);
    open_ = true;
    cv_.notify_all();
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  bool open_ = false;
};

// Each handler call blocks on a gate of its own, in the order the calls came; the test opens
// them by that order.
class GateLine {
 public:
  std::function<HandlerOutcome(const ReceivedMessage&)> Handler() {
    return [this](const ReceivedMessage&) {
      auto g = std::make_shared<Gate>();
      {
        std::lock_guard lock(mu_);
        gates_.push_back(g);
      }
      g->Wait();
      return HandlerOutcome::Done("ok");
    };
  }
  void Open(size_t i) {
    std::lock_guard lock(mu_);
    gates_.at(i)->Open();
  }
  size_t Arrived() {
    std::lock_guard lock(mu_);
    return gates_.size();
  }

 private:
  std::mutex mu_;
  std::vector<std::shared_ptr<Gate>> gates_;
};

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

class ConsumerTest : public testing::BrokerFixture {
 protected:
  void SetUp() override {
    ASSERT_NO_FATAL_FAILURE(OpenWorkQueues(2s, {.clock = &queue_clock_}));
    faulty_ = std::make_unique<FaultyQueue>(*work_);
    options_.wait_time = 200ms;
    options_.visibility_timeout = 2s;
    options_.max_in_flight = 4;
    options_.backoff_base = 1000ms;
    options_.shutdown_deadline = 10s;
    options_.receive_error_backoff = 50ms;
  }

  void SendN(int n) {
    for (int i = 0; i < n; ++i) ASSERT_TRUE(work_->Send({"m" + std::to_string(i), {}}));
  }
  int64_t Depth(Queue& q) {
    auto s = q.Stats();
    return s ? s->visible + s->in_flight : -1;
  }
  // Waits until every message has left the work queue, then shuts `c` down (Join requests
  // the stop); fails unless the queue drained and the shutdown was clean.
  ::testing::AssertionResult DrainedAndJoined(Consumer& c) {
    if (!Eventually([&] { return Depth(*work_) == 0; })) {
      return ::testing::AssertionFailure() << "the work queue still holds " << Depth(*work_);
    }
    if (!c.Join()) return ::testing::AssertionFailure() << "the shutdown was not clean";
    return ::testing::AssertionSuccess();
  }
  // Every handler call blocks until `gate` opens: sends `messages`, starts `c` and returns
  // once `busy` handlers are running.
  void StartBlockedOn(Gate& gate, int messages, Consumer& c, int busy) {
    handler_.fn = [&gate](const ReceivedMessage&) {
      gate.Wait();
      return HandlerOutcome::Done("ok");
    };
    SendN(messages);
    c.Start();
    ASSERT_TRUE(Eventually([&] { return handler_.running == busy; }));
  }
  // The engine on the manual clock; acknowledgements are flushed without waiting for time.
  std::unique_ptr<Consumer> ManualConsumer() {
    options_.ack_flush_interval = 0ms;
    return std::make_unique<Consumer>("work", *faulty_, dlq_.get(), handler_, options_, &ticker_,
                                      random_.get());
  }
  std::unique_ptr<Consumer> StartManualConsumer() {
    auto c = ManualConsumer();
    c->Start();
    return c;
  }
  // True once the engine has changed message visibilities (a retry's backoff) `n` times.
  bool VisibilityChanges(size_t n) {
    return Eventually([&] { return faulty_->visibility_changes().size() == n; });
  }
  // For a test that counts visibility changes as retries while it moves the clock: a lease
  // taken at a long poll's start (the engine counts it from before the Receive, as it must)
  // can be half gone by the time a message made visible by an Advance arrives, and the lease
  // loop's extension would be one more visibility change. Received with a 120 s lease (the
  // queue "never strands"), no extension falls due within these tests' few seconds.
  void NoLeaseExtensions() {
    options_.visibility_timeout = 120s;
    faulty_->never_strands = true;
  }
  // Moves the engine's and the queue's time together.
  void Advance(std::chrono::milliseconds d) {
    ticker_.Advance(d);
    queue_clock_.Advance(d);
  }
  // True once some engine thread waits for time `at` (offset from the ticker's start).
  bool WaitingFor(Ticker::Duration at) {
    return Eventually([&] {
      auto d = ticker_.Deadlines();
      return std::find(d.begin(), d.end(), at) != d.end();
    });
  }

  std::unique_ptr<FaultyQueue> faulty_;
  ConsumerOptions options_;
  ScriptedHandler handler_;
  ManualClock queue_clock_{SysTime{} + std::chrono::hours(24 * 365 * 50)};
  ManualTicker ticker_;
  // Jitter: the middle of [delay/2, delay] unless a test scripts it.
  std::unique_ptr<ScriptedRandom> random_ = std::make_unique<ScriptedRandom>(std::vector{0.5});
};

TEST_F(ConsumerTest, HandlesEveryMessageOnceAndDeletesInBatches) {
  SendN(40);
  Consumer c("work", *faulty_, dlq_.get(), handler_, options_);
  c.Start();
  ASSERT_TRUE(DrainedAndJoined(c));
  EXPECT_EQ(handler_.calls, 40);
  EXPECT_EQ(
      std::set<std::string>(handler_.handled_bodies.begin(), handler_.handled_bodies.end()).size(),
      40u);
  EXPECT_EQ(c.Stats().done, 40);
  EXPECT_GT(faulty_->max_delete_batch, 1) << "deletes were never batched";
  EXPECT_LE(faulty_->max_delete_batch, 10);
}

TEST_F(ConsumerTest, NeverRunsMoreThanMaxInFlightAndStopsReceivingWhenFull) {
  options_.max_in_flight = 2;
  options_.receive_loops = 3;
  Gate gate;
  Consumer c("work", *faulty_, dlq_.get(), handler_, options_);
  ASSERT_NO_FATAL_FAILURE(StartBlockedOn(gate, 10, c, 2));
  // Back-pressure: with both workers busy nothing more is taken off the queue.
  auto stats = work_->Stats();
  ASSERT_TRUE(stats);
  EXPECT_EQ(stats->in_flight, 2);
  EXPECT_EQ(stats->visible, 8);
  gate.Open();
  ASSERT_TRUE(DrainedAndJoined(c));
  EXPECT_EQ(handler_.max_running, 2);
  EXPECT_EQ(handler_.calls, 10);
}

// Under load a receive waits a moment for a few free slots (refill_slots, max_in_flight / 4 by
// default) instead of taking one message per freed slot; refill_wait bounds the wait.
TEST_F(ConsumerTest, ABusyConsumerRefillsAFewSlotsAtATimeOrAfterTheRefillWait) {
  options_.max_in_flight = 8;  // refills 2 at a time
  options_.receive_loops = 1;
  options_.refill_wait = 5ms;
  std::mutex mu;
  std::map<std::string, std::shared_ptr<Gate>> gates;
  std::vector<std::string> started;
  auto gate_of = [&](const std::string& body) {
    std::lock_guard lock(mu);
    auto& g = gates[body];
    if (!g) g = std::make_shared<Gate>();
    return g;
  };
  handler_.fn = [&](const ReceivedMessage& m) {
    auto g = gate_of(m.body);
    {
      std::lock_guard lock(mu);
      started.push_back(m.body);
    }
    g->Wait();
    return HandlerOutcome::Done("ok");
  };
  auto open_started = [&](size_t i) {
    std::string body;
    {
      std::lock_guard lock(mu);
      body = started.at(i);
    }
    gate_of(body)->Open();
  };
  SendN(20);
  auto c = StartManualConsumer();
  ASSERT_TRUE(Eventually([&] { return handler_.running == 8; }));
  EXPECT_EQ(faulty_->receive_calls, 1) << "an idle consumer takes what it can at once";

  // One slot free: the receive waits (up to 5 ms of the clock) for a second one.
  open_started(0);
  ASSERT_TRUE(Eventually([&] { return handler_.running == 7; }));
  ASSERT_TRUE(WaitingFor(ticker_.Elapsed() + 5ms));
  EXPECT_EQ(faulty_->receive_calls, 1);
  // The second free slot: both are refilled by one receive.
  open_started(1);
  ASSERT_TRUE(Eventually([&] { return handler_.calls == 10 && handler_.running == 8; }));
  EXPECT_EQ(faulty_->receive_calls, 2);

  // One slot free and no second one within refill_wait: that one is refilled then.
  open_started(2);
  ASSERT_TRUE(Eventually([&] { return handler_.running == 7; }));
  ASSERT_TRUE(WaitingFor(ticker_.Elapsed() + 5ms));
  EXPECT_EQ(faulty_->receive_calls, 2);
  Advance(5ms);
  ASSERT_TRUE(Eventually([&] { return handler_.calls == 11 && handler_.running == 8; }));
  EXPECT_EQ(faulty_->receive_calls, 3);

  {
    std::lock_guard lock(mu);
    for (int i = 0; i < 20; ++i) {
      auto& g = gates["m" + std::to_string(i)];
      if (!g) g = std::make_shared<Gate>();
      g->Open();
    }
  }
  ASSERT_TRUE(Eventually([&] { return handler_.calls == 20; }));
  EXPECT_TRUE(c->Join());
}

// A slot freed short of what a waiting receive needs wakes no receive loop: every handled
// message used to wake each of them to find too few slots (docs/decisions/consumer.md,
// "Waking the receive loops"). On the real clock, whose wait evaluates the predicate only
// when woken.
TEST_F(ConsumerTest, ASlotFreedShortOfTheRefillWakesNoReceiveLoop) {
  options_.max_in_flight = 8;
  options_.refill_slots = 8;  // a receive under load waits for all 8
  options_.receive_loops = 1;
  options_.refill_wait = 1h;
  options_.ack_flush_interval = 0ms;
  GateLine line;
  handler_.fn = line.Handler();
  SendN(16);
  Consumer c("work", *faulty_, dlq_.get(), handler_, options_, /*ticker=*/nullptr, random_.get());
  c.Start();
  ASSERT_TRUE(Eventually([&] { return handler_.running == 8; }));
  for (size_t i = 0; i < 7; ++i) {
    line.Open(i);
    ASSERT_TRUE(Eventually([&] { return handler_.running == 7 - static_cast<int>(i); }));
  }
  ASSERT_TRUE(Eventually([&] { return c.Stats().done == 7; }));
  EXPECT_EQ(faulty_->receive_calls, 1);
  // Before: one wake-up per freed slot after the first (6 here).
  EXPECT_LE(c.Stats().refill_wakeups, 1) << "woken by slots that could not end its wait";
  // The last slot frees all 8: one receive refills them.
  line.Open(7);
  ASSERT_TRUE(Eventually([&] { return handler_.calls == 16 && handler_.running == 8; }));
  EXPECT_EQ(faulty_->receive_calls, 2);
  for (size_t i = 8; i < 16; ++i) line.Open(i);
  EXPECT_TRUE(DrainedAndJoined(c));
}

// Two receive loops waiting out the refill wait for the same free slot: one takes it, the
// other goes back to waiting for slots. It used to ask the queue for 0 messages, which failed
// (a "receive failed" warning, a receive error, and that loop idle for the error backoff).
TEST_F(ConsumerTest, TwoReceiveLoopsSharingTheLastFreeSlotNeverReceiveZeroMessages) {
  options_.max_in_flight = 8;  // refills 2 at a time
  options_.receive_loops = 2;
  options_.refill_wait = 5ms;
  GateLine line;
  handler_.fn = line.Handler();
  SendN(12);
  auto c = StartManualConsumer();
  ASSERT_TRUE(Eventually([&] { return handler_.running == 8; }));
  const int receives = faulty_->receive_calls;
  // One slot free: both loops wait out the refill wait for a second one, then both wake.
  line.Open(0);
  ASSERT_TRUE(Eventually([&] {
    auto d = ticker_.Deadlines();
    return std::count(d.begin(), d.end(), ticker_.Elapsed() + 5ms) == 2;
  })) << "both receive loops in the refill wait";
  Advance(5ms);
  ASSERT_TRUE(Eventually([&] { return handler_.calls == 9 && handler_.running == 8; }));
  // The loop that found no slot is back to waiting for one: when slots free up, the next
  // receive takes them, and no receive failed.
  line.Open(1);
  line.Open(2);
  ASSERT_TRUE(Eventually([&] { return handler_.calls == 11 && handler_.running == 8; }));
  EXPECT_EQ(c->Stats().receive_errors, 0);
  EXPECT_EQ(faulty_->receive_calls, receives + 2);
  for (size_t i = 3; i < 12; ++i) {
    ASSERT_TRUE(Eventually([&] { return line.Arrived() > i; }));
    line.Open(i);
  }
  ASSERT_TRUE(Eventually([&] { return handler_.calls == 12; }));
  EXPECT_TRUE(c->Join());
  EXPECT_EQ(c->Stats().receive_errors, 0);
}

TEST_F(ConsumerTest, ExtendsTheLeaseOfASlowHandlerOnScheduleSoItIsNotRedelivered) {
  // Visibility 2 s: a lease is extended once only half of it (1 s) is left, so every second
  // while the handler runs for 5 s of clock; the lease loop sleeps exactly until then.
  Gate gate;
  auto c = ManualConsumer();
  ASSERT_NO_FATAL_FAILURE(StartBlockedOn(gate, 1, *c, 1));
  for (int step = 1; step <= 5; ++step) {
    const auto due = std::chrono::seconds(step);
    ASSERT_TRUE(WaitingFor(due)) << "lease loop not waiting for " << step << " s";
    Advance(999ms);
    ASSERT_TRUE(WaitingFor(due));
    EXPECT_EQ(c->Stats().lease_extensions, step - 1) << "extended early, at step " << step;
    Advance(1ms);
    ASSERT_TRUE(Eventually([&] { return c->Stats().lease_extensions == step; }))
        << "at " << step << " s: " << c->Stats().lease_extensions << " extensions";
  }
  EXPECT_EQ(faulty_->visibility_changes(), std::vector<std::chrono::seconds>(5, 2s));
  // 5 s after the receive, on a 2 s visibility, the message is still leased, not redelivered.
  auto stats = work_->Stats();
  ASSERT_TRUE(stats);
  EXPECT_EQ(stats->visible, 0);
  EXPECT_EQ(stats->in_flight, 1);
  gate.Open();
  ASSERT_TRUE(DrainedAndJoined(*c));
  EXPECT_EQ(handler_.calls, 1);
}

// A lease extension already sent when the handler's retry sets the message's backoff must not
// land after it: the message would come back after a whole lease (or, for a long backoff, too
// soon) instead of after its backoff. Likewise for a release at shutdown.
TEST_F(ConsumerTest, ALeaseExtensionInFlightDoesNotOverwriteARetrysBackoff) {
  Gate extension;
  std::atomic<bool> extension_sent{false};
  faulty_->before_visibility_change = [&](const auto& entries) {
    // The lease loop's extension (the full lease, 2 s) waits here until the test opens it.
    if (entries.size() == 1 && entries[0].second == options_.visibility_timeout &&
        !extension_sent.exchange(true)) {
      extension.Wait();
    }
  };
  Gate handler_gate;
  std::atomic<pid_t> worker{0};
  handler_.fn = [&](const ReceivedMessage&) {
    worker = testing::ThisThreadId();
    handler_gate.Wait();
    return HandlerOutcome::Retry("try later");
  };
  auto c = ManualConsumer();
  SendN(1);
  c->Start();
  ASSERT_TRUE(Eventually([&] { return handler_.running == 1; }));
  ASSERT_TRUE(WaitingFor(1s)) << "lease loop not waiting for the extension";
  Advance(1s);
  ASSERT_TRUE(Eventually([&] { return extension_sent.load(); }));
  handler_gate.Open();
  ASSERT_TRUE(Eventually([&] { return c->Stats().retried == 1; }));
  // The worker sets the backoff at once (the defect) or waits for the extension to end.
  ASSERT_TRUE(Eventually(
      [&] { return !faulty_->visibility_changes().empty() || testing::ThreadIsAsleep(worker); }));
  extension.Open();
  ASSERT_TRUE(Eventually([&] { return faulty_->visibility_changes().size() == 2; }));
  // The extension first, then the backoff of attempt 1 (1 s): the backoff stays.
  EXPECT_EQ(faulty_->visibility_changes(), (std::vector<std::chrono::seconds>{2s, 1s}));
  c->RequestStop();
  EXPECT_TRUE(c->Join());
}

TEST_F(ConsumerTest, RetriesBackOffExponentiallyWithInjectedJitterThenGoToTheDlq) {
  // base 1 s, jitter at the middle of [d/2, d], whole seconds (rounded), at least 1 s:
  // attempt 1: d=1 -> 0.75 -> 1 s; attempt 2: d=2 -> 1.5 -> 2 s; attempt 3: d=4 -> 3 -> 3 s;
  // attempt 4 = max_attempts: copied to the DLQ with the reason, then deleted.
  options_.max_attempts = 4;
  options_.backoff_base = 1000ms;
  NoLeaseExtensions();
  std::vector<int> counts;
  std::mutex mu;
  handler_.fn = [&](const ReceivedMessage& m) {
    std::lock_guard lock(mu);
    counts.push_back(m.receive_count);
    return HandlerOutcome::Retry("provider 503");
  };
  SendN(1);
  auto c = StartManualConsumer();
  const std::vector<std::chrono::seconds> delays = {1s, 2s, 3s};
  for (size_t i = 0; i < delays.size(); ++i) {
    ASSERT_TRUE(VisibilityChanges(i + 1));
    ASSERT_EQ(faulty_->visibility_changes().back(), delays[i]) << "retry " << i + 1;
    // Not a millisecond early: the message stays invisible until its delay has passed.
    Advance(delays[i] - 1ms);
    auto st = work_->Stats();
    ASSERT_TRUE(st);
    EXPECT_EQ(st->visible + handler_.calls, static_cast<int64_t>(i + 1)) << "retry " << i + 1;
    Advance(1ms);
  }
  ASSERT_TRUE(Eventually([&] { return Depth(*dlq_) == 1 && Depth(*work_) == 0; }));
  EXPECT_TRUE(c->Join());
  EXPECT_EQ(counts, (std::vector<int>{1, 2, 3, 4}));
  EXPECT_EQ(faulty_->visibility_changes(), delays);
  ASSERT_EQ(handler_.failures.size(), 1u);
  EXPECT_EQ(handler_.failures[0].second, "gave up after 4 attempts: provider 503");
  EXPECT_EQ(c->Stats().retried, 3);
  EXPECT_EQ(c->Stats().failed, 1);
}

TEST_F(ConsumerTest, BackoffIsCappedAndJitterComesFromTheInjectedSource) {
  // d = min(base * 2^(n-1), cap); the delay is the random point of [d/2, d], rounded.
  options_.max_attempts = 10;
  options_.backoff_base = 4000ms;
  options_.backoff_cap = 10s;
  NoLeaseExtensions();
  random_ = std::make_unique<ScriptedRandom>(std::vector{0.0, 0.999, 0.0});
  handler_.fn = [](const ReceivedMessage& m) {
    return m.receive_count < 4 ? HandlerOutcome::Retry("busy") : HandlerOutcome::Done("ok");
  };
  SendN(1);
  auto c = StartManualConsumer();
  // attempt 1: d=4 -> 2 s (lowest); attempt 2: d=8 -> 8 s (highest); attempt 3: d=10 (cap) -> 5 s.
  const std::vector<std::chrono::seconds> delays = {2s, 8s, 5s};
  for (size_t i = 0; i < delays.size(); ++i) {
    ASSERT_TRUE(VisibilityChanges(i + 1));
    Advance(delays[i]);
  }
  ASSERT_TRUE(DrainedAndJoined(*c));
  EXPECT_EQ(faulty_->visibility_changes(), delays);
}

TEST_F(ConsumerTest, HandlerExceptionIsRetriedNotFatal) {
  handler_.fn = [&](const ReceivedMessage& m) -> HandlerOutcome {
    if (m.receive_count == 1) throw std::runtime_error("boom");
    return HandlerOutcome::Done("ok");
  };
  SendN(3);
  auto c = StartManualConsumer();
  ASSERT_TRUE(VisibilityChanges(3));
  EXPECT_EQ(faulty_->visibility_changes(), (std::vector<std::chrono::seconds>{1s, 1s, 1s}));
  Advance(1s);
  ASSERT_TRUE(DrainedAndJoined(*c));
  EXPECT_EQ(handler_.calls, 6);
  EXPECT_EQ(c->Stats().done, 3);
}

TEST_F(ConsumerTest, FailureGoesToTheDlqWithItsReasonAndIsDeleted) {
  handler_.fn = [](const ReceivedMessage&) {
    return HandlerOutcome::Failure("malformed event: zip_code");
  };
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

TEST_F(ConsumerTest, FailedDeletesAreRetriedWithoutRedelivery) {
  faulty_->fail_next_deletes = 2;
  SendN(5);
  Consumer c("work", *faulty_, dlq_.get(), handler_, options_);
  c.Start();
  ASSERT_TRUE(DrainedAndJoined(c));
  EXPECT_EQ(handler_.calls, 5);
  EXPECT_GE(c.Stats().delete_errors, 2);
}

TEST_F(ConsumerTest, ReceiveErrorsBackOffOnScheduleAndDoNotStopTheConsumer) {
  options_.receive_loops = 1;
  options_.receive_error_backoff = 1s;
  faulty_->fail_next_receives = 5;
  SendN(3);
  auto c = StartManualConsumer();
  // One receive per second of clock while the broker fails, then back to work.
  for (int i = 1; i <= 5; ++i) {
    ASSERT_TRUE(WaitingFor(std::chrono::seconds(i))) << "failure " << i;
    EXPECT_EQ(faulty_->receive_calls, i);
    Advance(1s);
  }
  ASSERT_TRUE(DrainedAndJoined(*c));
  EXPECT_EQ(handler_.calls, 3);
  EXPECT_EQ(c->Stats().receive_errors, 5);
}

// SQS: a short receive visibility; a message handled within a fifth of it costs no extension
// call (docs/decisions/shutdown.md). A queue that never strands a receive's messages (the
// embedded bus) is received from with the full lease at once. On the manual clock no time
// passes while the handler runs.
TEST_F(ConsumerTest, ReceivesWithTheFullLeaseOnlyFromAQueueThatNeverStrandsMessages) {
  options_.visibility_timeout = 30s;
  options_.receive_loops = 1;
  for (bool never_strands : {false, true}) {
    SCOPED_TRACE(never_strands ? "never strands" : "may strand");
    faulty_ = std::make_unique<FaultyQueue>(*work_);
    faulty_->never_strands = never_strands;
    const int before = handler_.calls;
    SendN(1);
    auto c = StartManualConsumer();
    ASSERT_TRUE(DrainedAndJoined(*c));
    EXPECT_EQ(handler_.calls, before + 1);
    auto asked = faulty_->receive_visibilities();
    ASSERT_FALSE(asked.empty());
    for (const auto& v : asked) EXPECT_EQ(v, never_strands ? 30s : 5s);
    EXPECT_EQ(faulty_->visibility_changes(), std::vector<std::chrono::seconds>{});
    EXPECT_EQ(c->Stats().lease_extensions, 0);
  }
}

// A message still in flight a fifth of the short receive visibility after its receive (1 s of
// 5 s) is extended to the full lease by the lease loop, which sleeps until exactly then.
TEST_F(ConsumerTest, ExtendsAShortReceiveLeaseToTheFullLeaseOnceTheHandlerRunsForASecond) {
  options_.visibility_timeout = 30s;
  options_.receive_loops = 1;
  Gate gate;
  auto c = ManualConsumer();
  ASSERT_NO_FATAL_FAILURE(StartBlockedOn(gate, 1, *c, 1));
  ASSERT_TRUE(WaitingFor(1s));
  Advance(999ms);  // 4.001 s of the 5 s left: not yet due
  ASSERT_TRUE(WaitingFor(1s));
  EXPECT_TRUE(faulty_->visibility_changes().empty());
  Advance(1ms);
  ASSERT_TRUE(Eventually([&] { return c->Stats().lease_extensions == 1; }));
  EXPECT_EQ(faulty_->visibility_changes(), (std::vector<std::chrono::seconds>{30s}));
  // Now a full lease (until 31 s): extended again once only half of it is left, at 16 s.
  ASSERT_TRUE(WaitingFor(16s));
  Advance(14s);
  ASSERT_TRUE(WaitingFor(16s));
  EXPECT_EQ(c->Stats().lease_extensions, 1);
  Advance(1s);
  ASSERT_TRUE(Eventually([&] { return c->Stats().lease_extensions == 2; }));
  EXPECT_EQ(faulty_->visibility_changes(), (std::vector<std::chrono::seconds>{30s, 30s}));
  gate.Open();
  ASSERT_TRUE(DrainedAndJoined(*c));
  EXPECT_EQ(handler_.calls, 1);
}

// Idle CPU (issue 14): a consumer that holds no lease has no timer in its lease loop; it is
// woken when a lease arrives and then sleeps exactly until that lease is due.
TEST_F(ConsumerTest, AnIdleLeaseLoopNeverWakesAndALeaseReceivedLaterIsExtendedOnTime) {
  options_.visibility_timeout = 30s;
  options_.receive_loops = 1;
  options_.wait_time = 20ms;
  const auto forever = Ticker::TimePoint::max() - ticker_.start();
  auto c = StartManualConsumer();
  ASSERT_TRUE(WaitingFor(forever)) << "the idle lease loop waits with a timeout";
  Advance(1h);
  // The receive loop is the one other waiter here: a receive that started after the Advance
  // (two calls later) counts its lease from 1 h, whatever the real time it took.
  const int calls = faulty_->receive_calls;
  ASSERT_TRUE(Eventually([&] { return faulty_->receive_calls >= calls + 2; }));
  EXPECT_EQ(c->Stats().lease_wakeups, 0) << "woke in an hour of clock without a lease";
  ASSERT_TRUE(WaitingFor(forever));

  Gate gate;
  handler_.fn = [&gate](const ReceivedMessage&) {
    gate.Wait();
    return HandlerOutcome::Done("ok");
  };
  SendN(1);
  ASSERT_TRUE(Eventually([&] { return handler_.running == 1; }));
  const auto received = ticker_.Elapsed();
  ASSERT_TRUE(WaitingFor(received + 1s)) << "not woken by the first lease";
  EXPECT_EQ(c->Stats().lease_wakeups, 1);
  Advance(1s);
  ASSERT_TRUE(Eventually([&] { return c->Stats().lease_extensions == 1; }));
  EXPECT_EQ(faulty_->visibility_changes(), (std::vector<std::chrono::seconds>{30s}));
  ASSERT_TRUE(WaitingFor(received + 16s));
  gate.Open();
  ASSERT_TRUE(Eventually([&] { return Depth(*work_) == 0; }));
  // The lease it waits for is gone: one look at 16 s, then no timeout again.
  Advance(15s);
  ASSERT_TRUE(WaitingFor(forever));
  EXPECT_EQ(c->Stats().lease_wakeups, 3);
  EXPECT_EQ(c->Stats().lease_extensions, 1);
  EXPECT_TRUE(c->Join());
}

// A failed extension is tried again a fifth of the lease later (1 s of a 5 s receive lease),
// not in a loop: the lease loop does not wake in between.
TEST_F(ConsumerTest, AFailedLeaseExtensionIsTriedAgainAFifthOfTheLeaseLater) {
  options_.visibility_timeout = 30s;
  options_.receive_loops = 1;
  faulty_->fail_next_visibility_changes = 1;
  Gate gate;
  auto c = ManualConsumer();
  ASSERT_NO_FATAL_FAILURE(StartBlockedOn(gate, 1, *c, 1));
  ASSERT_TRUE(WaitingFor(1s));
  Advance(1s);
  ASSERT_TRUE(WaitingFor(2s)) << "the failed extension is not scheduled again";
  const int64_t wakeups = c->Stats().lease_wakeups;
  EXPECT_EQ(c->Stats().lease_extensions, 0);
  Advance(999ms);
  ASSERT_TRUE(WaitingFor(2s));
  EXPECT_EQ(c->Stats().lease_wakeups, wakeups) << "woke before the retry was due";
  Advance(1ms);
  ASSERT_TRUE(Eventually([&] { return c->Stats().lease_extensions == 1; }));
  EXPECT_EQ(faulty_->visibility_changes(), (std::vector<std::chrono::seconds>{30s}));
  gate.Open();
  ASSERT_TRUE(DrainedAndJoined(*c));
}

// Worker threads start when messages arrive, never more than max_in_flight: an idle consumer
// holds only its receive, lease and acknowledgement threads. Each thread is named after its
// role and the consumer (core/thread_name.h; Linux keeps 15 bytes of a name).
TEST_F(ConsumerTest, StartsWorkerThreadsOnlyForMessagesThatArriveEachNamedForItsRole) {
  options_.max_in_flight = 8;
  options_.receive_loops = 1;
  // A long poll starts the broker's change watcher once: counted in the base.
  ASSERT_TRUE(work_->Receive(1, 1ms));
  const int base = ThreadCount();
  ASSERT_GT(base, 0);
  Consumer c("active_listings", *faulty_, dlq_.get(), handler_, options_);
  c.Start();
  EXPECT_EQ(ThreadCount() - base, 3);  // receive loop, lease loop, ack loop
  Gate go;
  handler_.fn = [&](const ReceivedMessage&) {
    go.Wait();
    return HandlerOutcome::Done("ok");
  };
  SendN(3);
  ASSERT_TRUE(Eventually([&] { return handler_.running == 3; }));
  EXPECT_EQ(ThreadCount() - base, 3 + 3);
  auto names = ThreadNames();
  EXPECT_EQ(names["recv:active_lis"], 1);
  EXPECT_EQ(names["work:active_lis"], 3);
  EXPECT_EQ(names["lease:active_li"], 1);
  EXPECT_EQ(names["ack:active_list"], 1);
  go.Open();
  SendN(20);
  ASSERT_TRUE(Eventually([&] { return Depth(*work_) == 0; }));
  EXPECT_LE(ThreadCount() - base, 3 + 8);
  c.RequestStop();
  EXPECT_TRUE(c.Join());
  EXPECT_EQ(handler_.calls, 23);
}

TEST_F(ConsumerTest, ShutdownFinishesInFlightAndReleasesNeverStartedMessages) {
  options_.max_in_flight = 2;
  options_.batch_size = 10;
  options_.receive_loops = 1;
  options_.visibility_timeout = 30s;  // released messages must not wait for this
  Gate gate;
  Consumer c("work", *faulty_, dlq_.get(), handler_, options_);
  ASSERT_NO_FATAL_FAILURE(StartBlockedOn(gate, 6, c, 2));
  c.RequestStop();
  std::thread joiner([&] { EXPECT_TRUE(c.Join()); });
  gate.Open();
  joiner.join();
  EXPECT_EQ(handler_.calls, 2);  // the two in flight finished, nothing new started
  // The other four are receivable right away, not after the 30 s lease.
  auto rest = work_->Receive(10, 0ms, 30s);
  ASSERT_TRUE(rest);
  EXPECT_EQ(rest->size(), 4u);
}

TEST_F(ConsumerTest, JoinReturnsAtTheDeadlineAndTheDestructorWaitsForTheOverrunningHandler) {
  options_.max_in_flight = 2;
  options_.receive_loops = 1;
  options_.visibility_timeout = 30s;
  Gate gate;
  auto c = ManualConsumer();
  ASSERT_NO_FATAL_FAILURE(StartBlockedOn(gate, 1, *c, 1));
  auto joined = std::async(std::launch::async, [&] { return c->Join(ticker_.Now() + 3s); });
  ASSERT_TRUE(WaitingFor(3s));
  EXPECT_EQ(joined.wait_for(0ms), std::future_status::timeout) << "returned before the deadline";
  Advance(3s);
  ShutdownReport report = joined.get();
  EXPECT_EQ(report.still_running, 1);
  EXPECT_FALSE(report.clean());
  EXPECT_EQ(c->Join(ticker_.Now()).still_running, 1) << "a second Join reports the first";
  // The handler finishes after the deadline: its worker was never detached, and its
  // acknowledgement is still flushed when the consumer is destroyed.
  gate.Open();
  c.reset();
  EXPECT_EQ(handler_.calls, 1);
  EXPECT_EQ(Depth(*work_), 0);
}

// A store outage (Verdict::kUnavailable) is not the message's fault: the engine keeps the
// message leased and runs the handler again in place, after base * 2^(n-1) capped at
// unavailable_backoff_cap, jittered (here 0.75 of it), for as long as it lasts. The receive
// count never moves, so neither max_attempts nor the queue's redrive counts the outage.
TEST_F(ConsumerTest, AStoreOutageRunsTheMessageAgainInPlaceWithoutUsingAttempts) {
  options_.max_attempts = 2;  // two counted failures would dead-letter it
  NoLeaseExtensions();
  options_.backoff_base = 1000ms;
  options_.unavailable_backoff_cap = 4s;
  std::mutex mu;
  std::vector<Ticker::Duration> at;
  std::vector<int> counts;
  handler_.fn = [&](const ReceivedMessage& m) {
    std::lock_guard lock(mu);
    at.push_back(ticker_.Elapsed());
    counts.push_back(m.receive_count);
    return at.size() <= 5 ? HandlerOutcome::Unavailable("loading campaign: UNAVAILABLE: down")
                          : HandlerOutcome::Done("ok");
  };
  SendN(1);
  auto c = ManualConsumer();
  c->Start();
  // d = 1, 2, 4 (cap), 4, 4 s; 0.75 of each.
  const std::vector<Ticker::Duration> expected = {0ms, 750ms, 2250ms, 5250ms, 8250ms, 11250ms};
  for (size_t i = 1; i < expected.size(); ++i) {
    ASSERT_TRUE(WaitingFor(expected[i])) << "run " << i + 1 << " not scheduled";
    Advance(std::chrono::duration_cast<std::chrono::milliseconds>(expected[i] - ticker_.Elapsed() -
                                                                  1ms));
    EXPECT_EQ(handler_.calls, static_cast<int>(i)) << "run " << i + 1 << " came early";
    Advance(1ms);
    ASSERT_TRUE(Eventually([&] { return handler_.calls == static_cast<int>(i) + 1; }));
  }
  ASSERT_TRUE(Eventually([&] { return Depth(*work_) == 0; }));
  EXPECT_TRUE(c->Join());
  EXPECT_EQ(at, expected);
  EXPECT_EQ(counts, std::vector<int>(6, 1)) << "one receive: the broker counted no retry";
  EXPECT_EQ(Depth(*dlq_), 0);
  EXPECT_TRUE(handler_.failures.empty());
  EXPECT_TRUE(faulty_->visibility_changes().empty()) << "never released or delayed";
  const auto stats = c->Stats();
  EXPECT_EQ(stats.reran, 5);
  EXPECT_EQ(stats.done, 1);
  EXPECT_EQ(stats.retried, 0);
  EXPECT_EQ(stats.failed, 0);
}

// Attempts are what the outage did not cause: after it, a provider failure still goes to the
// DLQ after max_attempts receives, each retry delayed through the visibility as always.
TEST_F(ConsumerTest, AProviderFailureAfterAnOutageStillDeadLettersAfterMaxAttempts) {
  options_.max_attempts = 3;
  NoLeaseExtensions();
  std::mutex mu;
  std::vector<int> counts;
  handler_.fn = [&](const ReceivedMessage& m) {
    std::lock_guard lock(mu);
    counts.push_back(m.receive_count);
    return counts.size() <= 2 ? HandlerOutcome::Unavailable("saving: UNAVAILABLE: down")
                              : HandlerOutcome::Retry("provider 503");
  };
  SendN(1);
  auto c = ManualConsumer();
  c->Start();
  ASSERT_TRUE(WaitingFor(750ms));
  Advance(750ms);
  ASSERT_TRUE(WaitingFor(2250ms));
  Advance(1500ms);
  // Then counted retries: attempt 1 -> 1 s, attempt 2 -> 2 s (as RetriesBackOff... above).
  const std::vector<std::chrono::seconds> delays = {1s, 2s};
  for (size_t i = 0; i < delays.size(); ++i) {
    ASSERT_TRUE(Eventually([&] { return faulty_->visibility_changes().size() == i + 1; }));
    Advance(delays[i]);
  }
  ASSERT_TRUE(Eventually([&] { return Depth(*dlq_) == 1 && Depth(*work_) == 0; }));
  EXPECT_TRUE(c->Join());
  EXPECT_EQ(counts, (std::vector<int>{1, 1, 1, 2, 3}));
  EXPECT_EQ(faulty_->visibility_changes(), delays);
  ASSERT_EQ(handler_.failures.size(), 1u);
  EXPECT_EQ(handler_.failures[0].second, "gave up after 3 attempts: provider 503");
  EXPECT_EQ(c->Stats().reran, 2);
  EXPECT_EQ(c->Stats().failed, 1);
}

// Shutdown does not wait out an outage: a held message is released at once (visibility 0),
// with its receive count untouched, and the join is clean.
TEST_F(ConsumerTest, AMessageHeldByAnOutageIsReleasedAtShutdown) {
  NoLeaseExtensions();
  handler_.fn = [](const ReceivedMessage&) {
    return HandlerOutcome::Unavailable("loading campaign: UNAVAILABLE: down");
  };
  SendN(1);
  auto c = ManualConsumer();
  c->Start();
  ASSERT_TRUE(WaitingFor(750ms));
  ShutdownReport report = c->Join(ticker_.Now() + 10s);
  EXPECT_TRUE(report.clean());
  EXPECT_EQ(handler_.calls, 1);
  EXPECT_EQ(c->Stats().released, 1);
  EXPECT_EQ(faulty_->visibility_changes(), (std::vector<std::chrono::seconds>{0s}));
  auto again = work_->Receive(10, 0ms, 30s);
  ASSERT_TRUE(again);
  ASSERT_EQ(again->size(), 1u);
  EXPECT_EQ(again->front().receive_count, 2) << "received once before, by the engine";
  EXPECT_EQ(Depth(*dlq_), 0);
}

// ---------------------------------------------------------------- handlers taking batches

// A handler taking up to `max_batch` messages per call (MessageHandler::HandleBatch): records
// each call's bodies; each message's outcome comes from `fn` as in ScriptedHandler, or the whole
// call from `batch_fn` when set.
class BatchingHandler : public ScriptedHandler {
 public:
  int max_batch = 4;
  std::function<std::vector<HandlerOutcome>(std::span<const ReceivedMessage>)> batch_fn;
  std::vector<std::vector<std::string>> batches;  // guarded by mu

  int MaxBatch() const override { return max_batch; }
  std::vector<HandlerOutcome> HandleBatch(std::span<const ReceivedMessage> ms) override {
    {
      std::lock_guard lock(mu);
      std::vector<std::string> bodies;
      for (const auto& m : ms) bodies.push_back(m.body);
      batches.push_back(std::move(bodies));
    }
    if (batch_fn) return batch_fn(ms);
    return MessageHandler::HandleBatch(ms);
  }
  std::vector<std::vector<std::string>> Batches() {
    std::lock_guard lock(mu);
    return batches;
  }
};

class ConsumerBatchTest : public ConsumerTest {
 protected:
  std::unique_ptr<Consumer> StartBatchConsumer() {
    options_.ack_flush_interval = 0ms;
    auto c = std::make_unique<Consumer>("work", *faulty_, dlq_.get(), batching_, options_, &ticker_,
                                        random_.get());
    c->Start();
    return c;
  }
  // Sends "m0".."m<n-1>" and starts a consumer whose single receive loop takes them in one
  // receive, so that one worker takes them all in one call.
  std::unique_ptr<Consumer> StartOnOneBatch(int n) {
    options_.receive_loops = 1;
    options_.max_in_flight = n;
    NoLeaseExtensions();
    SendN(n);
    return StartBatchConsumer();
  }
  BatchingHandler batching_;
};

// Each message of a batch gets its own treatment: done ones are acknowledged, a retry is
// delayed through its visibility, a failure goes to the DLQ and OnFailure.
TEST_F(ConsumerBatchTest, EachMessageOfABatchIsAcknowledgedRetriedOrDeadLetteredOnItsOwn) {
  batching_.fn = [](const ReceivedMessage& m) {
    if (m.body == "m1" && m.receive_count == 1) return HandlerOutcome::Retry("provider 503");
    if (m.body == "m2") return HandlerOutcome::Failure("only 5 listings");
    return HandlerOutcome::Done("ok");
  };
  auto c = StartOnOneBatch(4);
  ASSERT_TRUE(VisibilityChanges(1));
  EXPECT_EQ(faulty_->visibility_changes(), (std::vector<std::chrono::seconds>{1s}));
  ASSERT_TRUE(Eventually([&] { return Depth(*dlq_) == 1; }));
  Advance(1s);
  ASSERT_TRUE(DrainedAndJoined(*c));
  // m1 came back alone: a batch of one is a Handle call.
  EXPECT_EQ(batching_.Batches(), (std::vector<std::vector<std::string>>{{"m0", "m1", "m2", "m3"}}));
  EXPECT_EQ(batching_.calls, 5);
  const auto stats = c->Stats();
  EXPECT_EQ(stats.done, 3);
  EXPECT_EQ(stats.retried, 1);
  EXPECT_EQ(stats.failed, 1);
  EXPECT_EQ(stats.in_flight, 0);
  ASSERT_EQ(batching_.failures.size(), 1u);
  EXPECT_EQ(batching_.failures[0], (std::pair<std::string, std::string>{"m2", "only 5 listings"}));
  auto dead = dlq_->Receive(10, 0ms, 30s);
  ASSERT_TRUE(dead);
  ASSERT_EQ(dead->size(), 1u);
  EXPECT_EQ(dead->front().body, "m2");
  EXPECT_EQ(dead->front().attributes.at(std::string(kFailureReasonAttribute)), "only 5 listings");
}

// A batch handler that throws, or gives a wrong number of outcomes, retries each message of
// the batch (an attempt each), as a throwing Handle does.
TEST_F(ConsumerBatchTest, AThrowingBatchOrAWrongCountOfOutcomesRetriesEachMessage) {
  std::atomic<int> call{0};
  batching_.batch_fn = [&](std::span<const ReceivedMessage> ms) -> std::vector<HandlerOutcome> {
    const int n = ++call;
    if (n == 1) throw std::runtime_error("boom");
    if (n == 2) return {HandlerOutcome::Done("only one")};
    return std::vector<HandlerOutcome>(ms.size(), HandlerOutcome::Done("ok"));
  };
  auto c = StartOnOneBatch(3);
  ASSERT_TRUE(VisibilityChanges(3));
  EXPECT_EQ(faulty_->visibility_changes(), (std::vector<std::chrono::seconds>{1s, 1s, 1s}));
  Advance(1s);
  ASSERT_TRUE(VisibilityChanges(6));
  Advance(2s);
  ASSERT_TRUE(DrainedAndJoined(*c));
  EXPECT_EQ(c->Stats().retried, 6);
  EXPECT_EQ(c->Stats().done, 3);
  EXPECT_EQ(c->Stats().failed, 0);
}

// The messages of a batch that met an unavailable store run again together, in place and
// without using an attempt, after the outage backoff; the others are acknowledged at once.
TEST_F(ConsumerBatchTest, TheMessagesOfABatchThatMetAnOutageRunAgainTogetherInPlace) {
  std::atomic<int> call{0};
  batching_.batch_fn = [&](std::span<const ReceivedMessage> ms) {
    const int n = ++call;
    std::vector<HandlerOutcome> out;
    for (const auto& m : ms) {
      out.push_back(n == 1 && m.body != "m0"
                        ? HandlerOutcome::Unavailable("saving: UNAVAILABLE: down")
                        : HandlerOutcome::Done("ok"));
    }
    return out;
  };
  auto c = StartOnOneBatch(3);
  ASSERT_TRUE(WaitingFor(750ms));  // d = 1 s, jittered to 0.75 of it
  ASSERT_TRUE(Eventually([&] { return Depth(*work_) == 2; })) << "m0 acknowledged at once";
  // m0's slot is free while the others are held: a message sent now is received and handled.
  ASSERT_TRUE(work_->Send({"m3", {}}));
  ASSERT_TRUE(Eventually([&] { return batching_.calls == 1 && Depth(*work_) == 2; }))
      << "m3 handled alone (Handle) while m1 and m2 are held";
  Advance(750ms);
  ASSERT_TRUE(DrainedAndJoined(*c));
  EXPECT_EQ(batching_.Batches(),
            (std::vector<std::vector<std::string>>{{"m0", "m1", "m2"}, {"m1", "m2"}}));
  EXPECT_TRUE(faulty_->visibility_changes().empty()) << "never released or delayed";
  const auto stats = c->Stats();
  EXPECT_EQ(stats.reran, 2);
  EXPECT_EQ(stats.done, 4);
  EXPECT_EQ(stats.retried, 0);
}

// Shutdown during an outage: the held messages of a batch are released at once.
TEST_F(ConsumerBatchTest, TheHeldMessagesOfABatchAreReleasedAtShutdown) {
  batching_.fn = [](const ReceivedMessage& m) {
    return m.body == "m0" ? HandlerOutcome::Done("ok")
                          : HandlerOutcome::Unavailable("loading campaign: UNAVAILABLE: down");
  };
  auto c = StartOnOneBatch(3);
  ASSERT_TRUE(WaitingFor(750ms));
  ShutdownReport report = c->Join(ticker_.Now() + 10s);
  EXPECT_TRUE(report.clean());
  EXPECT_EQ(batching_.Batches().size(), 1u);
  EXPECT_EQ(c->Stats().released, 2);
  EXPECT_EQ(c->Stats().done, 1);
  EXPECT_EQ(faulty_->visibility_changes(), (std::vector<std::chrono::seconds>{0s, 0s}));
  EXPECT_EQ(Depth(*work_), 2);
}

// Batches never exceed the handler's MaxBatch nor max_in_flight, and every message is handled
// once.
TEST_F(ConsumerBatchTest, BatchesStayWithinMaxBatchAndEveryMessageIsHandledOnce) {
  batching_.max_batch = 3;
  options_.max_in_flight = 8;
  SendN(40);
  Consumer c("work", *faulty_, dlq_.get(), batching_, options_);
  c.Start();
  ASSERT_TRUE(DrainedAndJoined(c));
  size_t largest = 0;
  for (const auto& b : batching_.Batches()) largest = std::max(largest, b.size());
  EXPECT_LE(largest, 3u);
  EXPECT_GT(largest, 1u) << "never a batch";
  // Each message handled once, in a batch or alone (a batch of one is a Handle call).
  EXPECT_EQ(batching_.calls, 40);
  EXPECT_EQ(std::set<std::string>(batching_.handled_bodies.begin(), batching_.handled_bodies.end())
                .size(),
            40u);
  EXPECT_EQ(c.Stats().done, 40);
  EXPECT_EQ(c.Stats().in_flight, 0);
}

}  // namespace
}  // namespace dripr
