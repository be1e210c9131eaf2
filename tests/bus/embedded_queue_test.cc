// Embedded-only queue semantics: strict receipt handles, deterministic visibility with a
// manual clock, redrive details, durability, competing consumers, and wake-ups across
// brokers and processes.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include "bus/broker_fixture.h"
#include "dripr/bus/embedded/embedded_bus.h"

namespace dripr::testing {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;
using Steady = std::chrono::steady_clock;

constexpr std::string_view kStale = "receipt handle is invalid or expired";

class EmbeddedQueueTest : public BrokerFixture {
 protected:
  void SetUp() override {
    ASSERT_NO_FATAL_FAILURE(OpenBroker("bus.db", {.clock = &clock_}));
    ASSERT_TRUE(broker_->DeclareQueue({.name = "dlq"}));
    ASSERT_TRUE(broker_->DeclareQueue({.name = "work",
                                       .visibility_timeout = seconds(30),
                                       .max_receive_count = 2,
                                       .dead_letter_queue = "dlq"}));
    auto w = broker_->OpenQueue("work");
    ASSERT_TRUE(w);
    work_ = std::move(*w);
    auto d = broker_->OpenQueue("dlq");
    ASSERT_TRUE(d);
    dlq_ = std::move(*d);
  }

  ReceivedMessage ReceiveOne(Queue& q, std::optional<seconds> vis = std::nullopt) {
    auto got = q.Receive(1, milliseconds(0), vis);
    EXPECT_TRUE(got) << got.error().ToString();
    if (!got || got->size() != 1) {
      ADD_FAILURE() << "expected one message from " << q.Name();
      return {};
    }
    return (*got)[0];
  }
  size_t CountReceivable(Queue& q) {
    auto got = q.Receive(10, milliseconds(0), seconds(0));
    EXPECT_TRUE(got);
    return got ? got->size() : 0;
  }

  ManualClock clock_{SysTime{} + std::chrono::hours(24 * 365 * 56)};
};

TEST_F(EmbeddedQueueTest, VisibilityFollowsTheInjectedClock) {
  ASSERT_TRUE(work_->Send({"m", {}}));
  auto first = ReceiveOne(*work_);
  EXPECT_EQ(first.sent_at, clock_.Now());
  clock_.Advance(seconds(29));
  EXPECT_EQ(CountReceivable(*work_), 0u);
  auto stats = work_->Stats();
  ASSERT_TRUE(stats);
  EXPECT_EQ(stats->in_flight, 1);
  EXPECT_EQ(stats->visible, 0);
  clock_.Advance(seconds(1));
  stats = work_->Stats();
  ASSERT_TRUE(stats);
  EXPECT_EQ(stats->visible, 1);
  auto second = ReceiveOne(*work_, seconds(5));
  EXPECT_EQ(second.message_id, first.message_id);
  EXPECT_EQ(second.receive_count, 2);
}

TEST_F(EmbeddedQueueTest, ReceiptHandleOfAReReceivedMessageIsStale) {
  ASSERT_TRUE(work_->Send({"m", {}}));
  auto first = ReceiveOne(*work_, seconds(1));
  clock_.Advance(seconds(1));
  auto second = ReceiveOne(*work_);
  ASSERT_EQ(second.message_id, first.message_id);

  auto old_delete = work_->Delete(first.receipt_handle);
  ASSERT_FALSE(old_delete);
  EXPECT_EQ(old_delete.error().code, ErrorCode::kInvalidArgument);
  EXPECT_EQ(old_delete.error().message, kStale);
  auto old_change = work_->ChangeVisibility(first.receipt_handle, seconds(0));
  ASSERT_FALSE(old_change);
  EXPECT_EQ(old_change.error().message, kStale);
  EXPECT_EQ(CountReceivable(*work_), 0u) << "a stale handle changed the visibility";

  ASSERT_TRUE(work_->Delete(second.receipt_handle));
  auto twice = work_->Delete(second.receipt_handle);
  ASSERT_FALSE(twice);
  EXPECT_EQ(twice.error().code, ErrorCode::kInvalidArgument);
  auto after_delete = work_->ChangeVisibility(second.receipt_handle, seconds(10));
  ASSERT_FALSE(after_delete);
  EXPECT_EQ(after_delete.error().code, ErrorCode::kInvalidArgument);
}

TEST_F(EmbeddedQueueTest, ReceiptHandleOfAnotherQueueIsInvalid) {
  ASSERT_TRUE(dlq_->Send({"m", {}}));
  auto m = ReceiveOne(*dlq_);
  auto wrong = work_->Delete(m.receipt_handle);
  ASSERT_FALSE(wrong);
  EXPECT_EQ(wrong.error().code, ErrorCode::kInvalidArgument);
  EXPECT_TRUE(dlq_->Delete(m.receipt_handle));
}

TEST_F(EmbeddedQueueTest, ExtendingVisibilityKeepsTheMessageHidden) {
  ASSERT_TRUE(work_->Send({"m", {}}));
  auto m = ReceiveOne(*work_, seconds(10));
  clock_.Advance(seconds(9));
  ASSERT_TRUE(work_->ChangeVisibility(m.receipt_handle, seconds(10)));
  clock_.Advance(seconds(9));
  EXPECT_EQ(CountReceivable(*work_), 0u);
  clock_.Advance(seconds(1));
  EXPECT_EQ(CountReceivable(*work_), 1u);
}

TEST_F(EmbeddedQueueTest, BatchesAreLimitedToTenEntries) {
  std::vector<std::string> eleven(11, "r");
  auto del = work_->DeleteBatch(eleven);
  ASSERT_FALSE(del);
  EXPECT_EQ(del.error().code, ErrorCode::kInvalidArgument);
  EXPECT_EQ(del.error().message, "a batch must have 1-10 entries, got 11");
  auto empty = work_->ChangeVisibilityBatch({});
  ASSERT_FALSE(empty);
  EXPECT_EQ(empty.error().code, ErrorCode::kInvalidArgument);
  auto bad_timeout = work_->ChangeVisibilityBatch({{"r", seconds(43201)}});
  ASSERT_TRUE(bad_timeout);
  ASSERT_FALSE((*bad_timeout)[0]);
  EXPECT_EQ((*bad_timeout)[0].error().message, "visibility timeout must be 0-43200 seconds");
  auto bad_receive = work_->Receive(1, milliseconds(0), seconds(-1));
  ASSERT_FALSE(bad_receive);
  EXPECT_EQ(bad_receive.error().code, ErrorCode::kInvalidArgument);
}

TEST_F(EmbeddedQueueTest, RejectsMessagesSqsWouldReject) {
  auto expect_invalid = [&](const OutgoingMessage& m, const std::string& message) {
    auto sent = work_->Send(m);
    ASSERT_FALSE(sent) << message;
    EXPECT_EQ(sent.error().code, ErrorCode::kInvalidArgument);
    EXPECT_EQ(sent.error().message, message);
  };
  expect_invalid({"", {}}, "message body must not be empty");
  expect_invalid({std::string(262145, 'x'), {}}, "message body is 262145 bytes, more than 262144");
  expect_invalid({"bad \xff byte", {}}, "message body is not valid UTF-8");
  expect_invalid({"truncated \xe2\x82", {}}, "message body is not valid UTF-8");
  expect_invalid({"overlong \xc0\xaf", {}}, "message body is not valid UTF-8");
  expect_invalid({"surrogate \xed\xa0\x80", {}}, "message body is not valid UTF-8");
  expect_invalid({"ok", {{"", "v"}}}, "message attribute name must be 1-256 characters");
  expect_invalid({"ok", {{"k", "\xc3"}}}, "message attribute \"k\" is not valid UTF-8");
  EXPECT_TRUE(work_->Send({std::string(262144, 'x'), {}}));
  EXPECT_TRUE(work_->Send({"\xe2\x82\xac \xf0\x9f\x8f\xa0 caf\xc3\xa9", {{"k", "\xc3\xa9"}}}));

  ASSERT_TRUE(broker_->DeclareTopic("t"));
  auto topic = broker_->OpenTopic("t");
  ASSERT_TRUE(topic);
  auto published = (*topic)->Publish({"\xff", {}});
  ASSERT_FALSE(published);
  EXPECT_EQ(published.error().message, "message body is not valid UTF-8");
}

TEST_F(EmbeddedQueueTest, RedriveKeepsIdentityAndReceiveCount) {
  auto id = work_->Send({"poison", {{"k", "v"}}});
  ASSERT_TRUE(id);
  const SysTime sent = clock_.Now();
  for (int i = 1; i <= 2; ++i) {
    auto m = ReceiveOne(*work_, seconds(0));
    EXPECT_EQ(m.receive_count, i);
    clock_.Advance(seconds(1));
  }
  EXPECT_EQ(CountReceivable(*work_), 0u);  // this receive moved it
  auto dead = ReceiveOne(*dlq_);
  EXPECT_EQ(dead.message_id, *id);
  EXPECT_EQ(dead.body, "poison");
  EXPECT_EQ(dead.attributes, (MessageAttributes{{"k", "v"}}));
  EXPECT_EQ(dead.sent_at, sent);
  EXPECT_EQ(dead.receive_count, 3);  // as SQS: the count carries over
}

TEST_F(EmbeddedQueueTest, ARedriveFillsTheBatchWithTheNextMessages) {
  ASSERT_TRUE(work_->Send({"poison", {}}));
  for (int i = 0; i < 2; ++i) {
    ReceiveOne(*work_, seconds(0));
  }
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(work_->Send({"ok" + std::to_string(i), {}}));
  auto got = work_->Receive(3, milliseconds(0));
  ASSERT_TRUE(got);
  ASSERT_EQ(got->size(), 3u);
  for (const auto& m : *got) EXPECT_NE(m.body, "poison");
  auto stats = dlq_->Stats();
  ASSERT_TRUE(stats);
  EXPECT_EQ(stats->visible, 1);
}

TEST_F(EmbeddedQueueTest, MessagesSurviveClosingAndReopening) {
  ASSERT_TRUE(work_->Send({"a", {{"k", "1"}}}));
  ASSERT_TRUE(work_->Send({"b", {}}));
  auto in_flight = ReceiveOne(*work_);
  ASSERT_EQ(in_flight.body, "a");
  work_.reset();
  dlq_.reset();
  broker_.reset();  // closes the database

  EmbeddedBrokerOptions options;
  options.clock = &clock_;
  auto reopened = EmbeddedBroker::Open(dir_.File("bus.db"), options);
  ASSERT_TRUE(reopened) << reopened.error().ToString();
  auto q = (*reopened)->OpenQueue("work");
  ASSERT_TRUE(q);
  auto stats = (*q)->Stats();
  ASSERT_TRUE(stats);
  EXPECT_EQ(stats->visible, 1);
  EXPECT_EQ(stats->in_flight, 1);
  // The receipt handle issued before the restart still works.
  ASSERT_TRUE((*q)->ChangeVisibility(in_flight.receipt_handle, seconds(0)));
  auto got = (*q)->Receive(10, milliseconds(0));
  ASSERT_TRUE(got);
  ASSERT_EQ(got->size(), 2u);
  std::map<std::string, ReceivedMessage> by_body;
  for (auto& m : *got) by_body[m.body] = m;
  EXPECT_EQ(by_body["a"].receive_count, 2);
  EXPECT_EQ(by_body["a"].attributes, (MessageAttributes{{"k", "1"}}));
  EXPECT_EQ(by_body["b"].receive_count, 1);
}

TEST(EmbeddedConcurrencyTest, CompetingConsumersGetEachMessageExactlyOnce) {
  TempDir dir;
  // Two brokers on one file stand for two processes; two threads each.
  auto a = EmbeddedBroker::Open(dir.File("bus.db"));
  ASSERT_TRUE(a) << a.error().ToString();
  auto b = EmbeddedBroker::Open(dir.File("bus.db"));
  ASSERT_TRUE(b) << b.error().ToString();
  ASSERT_TRUE((*a)->DeclareQueue({.name = "work", .visibility_timeout = seconds(60)}));
  auto sender = (*a)->OpenQueue("work");
  ASSERT_TRUE(sender);
  constexpr int kMessages = 500;
  std::set<std::string> sent;
  for (int i = 0; i < kMessages; ++i) {
    auto id = (*sender)->Send({std::to_string(i), {}});
    ASSERT_TRUE(id) << id.error().ToString();
    sent.insert(*id);
  }

  std::mutex mu;
  std::map<std::string, int> deliveries;  // message id -> times delivered
  std::atomic<int> deleted{0};
  std::atomic<bool> failed{false};
  auto consume = [&](EmbeddedBroker& broker) {
    auto q = broker.OpenQueue("work");
    if (!q) {
      failed = true;
      return;
    }
    const auto deadline = Steady::now() + seconds(60);
    while (deleted.load() < kMessages && Steady::now() < deadline && !failed) {
      auto got = (*q)->Receive(10, milliseconds(100));
      if (!got) {
        ADD_FAILURE() << got.error().ToString();
        failed = true;
        return;
      }
      if (got->empty()) continue;
      std::vector<std::string> receipts;
      {
        std::lock_guard lock(mu);
        for (const auto& m : *got) {
          ++deliveries[m.message_id];
          receipts.push_back(m.receipt_handle);
        }
      }
      auto results = (*q)->DeleteBatch(receipts);
      if (!results) {
        ADD_FAILURE() << results.error().ToString();
        failed = true;
        return;
      }
      for (const auto& r : *results) {
        if (!r) {
          ADD_FAILURE() << r.error().ToString();
          failed = true;
        }
      }
      deleted += static_cast<int>(results->size());
    }
  };
  std::vector<std::thread> threads;
  for (int i = 0; i < 4; ++i) threads.emplace_back(consume, std::ref(i < 2 ? **a : **b));
  for (auto& t : threads) t.join();

  ASSERT_FALSE(failed);
  EXPECT_EQ(deleted.load(), kMessages);
  EXPECT_EQ(deliveries.size(), sent.size());
  for (const auto& [id, n] : deliveries) {
    EXPECT_EQ(n, 1) << id;
    EXPECT_TRUE(sent.contains(id)) << id;
  }
  auto stats = (*sender)->Stats();
  ASSERT_TRUE(stats);
  EXPECT_EQ(stats->visible + stats->in_flight, 0);
}

}  // namespace
}  // namespace dripr::testing
