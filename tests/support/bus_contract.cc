#include "support/bus_contract.h"

#include <nlohmann/json.hpp>
#include <set>
#include <thread>

#include "dripr/domain/event.h"
#include "dripr/fetcher/consumer.h"
#include "dripr/fetcher/dead_letters.h"
#include "dripr/fetcher/reports.h"

namespace dripr::testing {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;
using Steady = std::chrono::steady_clock;

std::string StatusChangeBody(const std::string& campaign, const std::string& to_status) {
  return R"({"event_type":"STATUS_CHANGE","payload":{"campaign_id":")" + campaign +
         R"(","zip_code":"02139","from_status":"DORMANT","to_status":")" + to_status +
         R"(","timestamp":"2026-11-29T13:40:22.123Z"}})";
}

MessageAttributes StatusChangeAttributes(const std::string& to_status) {
  return {{"event_type", "STATUS_CHANGE"}, {"to_status", to_status}};
}

milliseconds Since(Steady::time_point t0) {
  return std::chrono::duration_cast<milliseconds>(Steady::now() - t0);
}

// Real-time bounds here only tell "woken" or "returned" from "waited it out" or "hung", with a
// wide margin: a slow machine cannot fail them. How fast a wake-up is, is measured by the
// benchmarks (B1 in `make bench`), not asserted.
constexpr seconds kLongPollWait{10};
constexpr seconds kHung{10};

// The published event as the work queue delivers it: the body itself (raw delivery) or
// the "Message" of the SNS envelope.
std::string PublishedMessage(const ReceivedMessage& m, bool raw) {
  if (raw) return m.body;
  auto j = nlohmann::json::parse(m.body, nullptr, false);
  if (!j.is_object() || !j.contains("Message") || !j["Message"].is_string()) return "";
  return j["Message"].get<std::string>();
}

}  // namespace

std::string BusContractName(const ::testing::TestParamInfo<BusContractParam>& info) {
  return info.param.name;
}

void BusContractTest::SetUp() {
  auto setup = GetParam().make();
  ASSERT_TRUE(setup.has_value()) << setup.error().ToString();
  s_ = std::move(*setup);
  ASSERT_NE(s_.topic, nullptr);
  ASSERT_NE(s_.work, nullptr);
  ASSERT_NE(s_.dlq, nullptr);
  ASSERT_GE(s_.max_receive_count, 3);
}

void BusContractTest::TearDown() {
  s_.topic.reset();
  s_.work.reset();
  s_.dlq.reset();
  s_.owner.reset();
}

std::vector<ReceivedMessage> BusContractTest::ReceiveN(Queue& q, size_t n, milliseconds timeout) {
  std::vector<ReceivedMessage> out;
  const auto deadline = Steady::now() + timeout;
  while (out.size() < n && Steady::now() < deadline) {
    auto left = std::chrono::duration_cast<milliseconds>(deadline - Steady::now());
    auto got = q.Receive(10, std::min<milliseconds>(left, seconds(1)));
    if (!got) {
      ADD_FAILURE() << "receive from " << q.Name() << ": " << got.error().ToString();
      return out;
    }
    for (auto& m : *got) out.push_back(std::move(m));
  }
  return out;
}

void BusContractTest::ReceiveTheMessage(Queue& q, const std::string& id, const std::string& body,
                                        ReceivedMessage* got) {
  auto received = ReceiveN(q, 1);
  ASSERT_EQ(received.size(), 1u) << "from " << q.Name();
  *got = std::move(received[0]);
  EXPECT_EQ(got->message_id, id);
  EXPECT_EQ(got->body, body);
}

TEST_P(BusContractTest, SendReceiveDelete) {
  auto id = s_.work->Send({"hello", {}});
  ASSERT_TRUE(id) << id.error().ToString();
  EXPECT_FALSE(id->empty());

  ReceivedMessage got;
  ASSERT_NO_FATAL_FAILURE(ReceiveTheMessage(*s_.work, *id, "hello", &got));
  EXPECT_EQ(got.receive_count, 1);
  EXPECT_FALSE(got.receipt_handle.empty());

  ASSERT_TRUE(s_.work->Delete(got.receipt_handle));
  auto again = s_.work->Receive(10, milliseconds(0));
  ASSERT_TRUE(again) << again.error().ToString();
  EXPECT_TRUE(again->empty());
  auto stats = s_.work->Stats();
  ASSERT_TRUE(stats) << stats.error().ToString();
  EXPECT_EQ(stats->visible, 0);
  EXPECT_EQ(stats->in_flight, 0);
}

TEST_P(BusContractTest, AttributesAndBodyRoundTrip) {
  const MessageAttributes attrs = {{"event_type", "STATUS_CHANGE"},
                                   {"reason", "zip 02139: caf\xc3\xa9 \"quoted\" <tag>"},
                                   {"to_status", "WAITING_FOR_DATA"}};
  const std::string body = R"({"k":"v\u00e9","n":[1,2,3],"s":"line1\nline2 & <x>"})";
  ASSERT_TRUE(s_.work->Send({body, attrs}));
  auto got = ReceiveN(*s_.work, 1);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].body, body);
  EXPECT_EQ(got[0].attributes, attrs);
}

TEST_P(BusContractTest, SentTimestampIsSensible) {
  const auto before = std::chrono::system_clock::now() - seconds(2);
  ASSERT_TRUE(s_.work->Send({"t", {}}));
  const auto after = std::chrono::system_clock::now() + seconds(2);
  auto got = ReceiveN(*s_.work, 1);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_GE(got[0].sent_at, before);
  EXPECT_LE(got[0].sent_at, after);
}

TEST_P(BusContractTest, PublishFansOutThroughTheFilter) {
  const std::string skipped = StatusChangeBody("c-skip", "READY_TO_CREATE_EMAIL");
  const std::string wanted = StatusChangeBody("c-want", "WAITING_FOR_DATA");
  ASSERT_TRUE(s_.topic->Publish({skipped, StatusChangeAttributes("READY_TO_CREATE_EMAIL")}));
  auto sns_id = s_.topic->Publish({wanted, StatusChangeAttributes("WAITING_FOR_DATA")});
  ASSERT_TRUE(sns_id) << sns_id.error().ToString();

  auto got = ReceiveN(*s_.work, 1);
  ASSERT_EQ(got.size(), 1u);
  // Nothing else arrives: the filtered-out event was never enqueued.
  auto more = s_.work->Receive(10, seconds(1));
  ASSERT_TRUE(more) << more.error().ToString();
  EXPECT_TRUE(more->empty()) << "unexpected: " << more->front().body;

  const ReceivedMessage& m = got[0];
  EXPECT_EQ(PublishedMessage(m, s_.raw_delivery), wanted);
  // What the consumers do with it: one decoder for both delivery modes.
  auto event = DecodeStatusChange(m.body);
  ASSERT_TRUE(event) << event.error().ToString() << "\n" << m.body;
  EXPECT_EQ(event->campaign_id, "c-want");
  EXPECT_EQ(event->zip_code, "02139");
  EXPECT_EQ(event->from_status, CampaignStatus::kDormant);
  EXPECT_EQ(event->to_status, CampaignStatus::kWaitingForData);
  if (s_.raw_delivery) {
    EXPECT_EQ(m.body, wanted);
    EXPECT_EQ(m.attributes, StatusChangeAttributes("WAITING_FOR_DATA"));
  } else {
    auto env = nlohmann::json::parse(m.body, nullptr, false);
    ASSERT_TRUE(env.is_object()) << m.body;
    EXPECT_EQ(env.value("Type", ""), "Notification");
    EXPECT_EQ(env.value("MessageId", ""), *sns_id);
    EXPECT_FALSE(env.value("TopicArn", "").empty());
    EXPECT_FALSE(env.value("Timestamp", "").empty());
    ASSERT_TRUE(env.contains("MessageAttributes")) << m.body;
    EXPECT_EQ(env["MessageAttributes"]["to_status"],
              (nlohmann::json{{"Type", "String"}, {"Value", "WAITING_FOR_DATA"}}));
    EXPECT_EQ(env["MessageAttributes"]["event_type"],
              (nlohmann::json{{"Type", "String"}, {"Value", "STATUS_CHANGE"}}));
  }
}

TEST_P(BusContractTest, PublishBatchDeliversEveryMessageThroughTheFilter) {
  std::vector<OutgoingMessage> ms;
  std::set<std::string> wanted;
  for (const char* id : {"c-b1", "c-b2", "c-b3"}) {
    ms.push_back(
        {StatusChangeBody(id, "WAITING_FOR_DATA"), StatusChangeAttributes("WAITING_FOR_DATA")});
    wanted.insert(id);
  }
  ms.push_back({StatusChangeBody("c-skip", "READY_TO_CREATE_EMAIL"),
                StatusChangeAttributes("READY_TO_CREATE_EMAIL")});
  auto results = s_.topic->PublishBatch(ms);
  ASSERT_EQ(results.size(), ms.size());
  for (const auto& r : results) ASSERT_TRUE(r) << r.error().ToString();
  auto got = ReceiveN(*s_.work, 3);
  std::set<std::string> campaigns;
  for (const auto& m : got) {
    auto event = DecodeStatusChange(m.body);
    ASSERT_TRUE(event) << event.error().ToString() << "\n" << m.body;
    campaigns.insert(event->campaign_id.str());
  }
  EXPECT_EQ(campaigns, wanted);
  auto more = s_.work->Receive(10, seconds(1));
  ASSERT_TRUE(more) << more.error().ToString();
  EXPECT_TRUE(more->empty()) << "unexpected: " << more->front().body;
}

TEST_P(BusContractTest, BatchReceiveReturnsAtMostMax) {
  std::set<std::string> sent;
  for (int i = 0; i < 5; ++i) {
    auto id = s_.work->Send({"m" + std::to_string(i), {}});
    ASSERT_TRUE(id) << id.error().ToString();
    sent.insert(*id);
  }
  std::set<std::string> seen;
  size_t largest = 0;
  const auto deadline = Steady::now() + seconds(10);
  while (seen.size() < 5 && Steady::now() < deadline) {
    auto got = s_.work->Receive(3, seconds(1));
    ASSERT_TRUE(got) << got.error().ToString();
    ASSERT_LE(got->size(), 3u);
    largest = std::max(largest, got->size());
    for (const auto& m : *got) {
      EXPECT_TRUE(seen.insert(m.message_id).second) << "delivered twice: " << m.message_id;
    }
  }
  EXPECT_EQ(seen, sent);
  EXPECT_GT(largest, 1u) << "never received more than one message per call";
}

TEST_P(BusContractTest, ReceiveRejectsBadBatchSize) {
  auto zero = s_.work->Receive(0, milliseconds(0));
  ASSERT_FALSE(zero);
  EXPECT_EQ(zero.error().code, ErrorCode::kInvalidArgument);
  auto eleven = s_.work->Receive(11, milliseconds(0));
  ASSERT_FALSE(eleven);
  EXPECT_EQ(eleven.error().code, ErrorCode::kInvalidArgument);
}

TEST_P(BusContractTest, VisibilityTimeoutExpiryRedelivers) {
  auto id = s_.work->Send({"v", {}});
  ASSERT_TRUE(id);
  auto first = s_.work->Receive(1, seconds(5), seconds(1));
  ASSERT_TRUE(first) << first.error().ToString();
  ASSERT_EQ(first->size(), 1u);
  const auto t0 = Steady::now();
  EXPECT_EQ((*first)[0].receive_count, 1);

  auto hidden = s_.work->Receive(10, milliseconds(0));
  ASSERT_TRUE(hidden);
  EXPECT_TRUE(hidden->empty()) << "message visible during its visibility timeout";

  auto second = s_.work->Receive(1, seconds(5));
  ASSERT_TRUE(second) << second.error().ToString();
  ASSERT_EQ(second->size(), 1u);
  EXPECT_GE(Since(t0), milliseconds(900));
  EXPECT_EQ((*second)[0].message_id, *id);
  EXPECT_EQ((*second)[0].receive_count, 2);
  EXPECT_NE((*second)[0].receipt_handle, (*first)[0].receipt_handle);
  EXPECT_TRUE(s_.work->Delete((*second)[0].receipt_handle));
}

TEST_P(BusContractTest, ChangeVisibilityToZeroMakesReceivableAtOnce) {
  auto id = s_.work->Send({"c", {}});
  ASSERT_TRUE(id);
  auto first = ReceiveN(*s_.work, 1);
  ASSERT_EQ(first.size(), 1u);
  auto hidden = s_.work->Receive(10, milliseconds(0));
  ASSERT_TRUE(hidden);
  EXPECT_TRUE(hidden->empty());

  auto results = s_.work->ChangeVisibilityBatch(
      {{first[0].receipt_handle, seconds(0)}, {"never-issued-receipt-handle", seconds(0)}});
  ASSERT_TRUE(results) << results.error().ToString();
  ASSERT_EQ(results->size(), 2u);
  EXPECT_TRUE((*results)[0]) << (*results)[0].error().ToString();
  ASSERT_FALSE((*results)[1]);
  EXPECT_EQ((*results)[1].error().code, ErrorCode::kInvalidArgument);

  // Within a wait far shorter than the queue's own visibility timeout: only the change to 0
  // can have made it visible again.
  auto again = s_.work->Receive(1, seconds(5));
  ASSERT_TRUE(again) << again.error().ToString();
  ASSERT_EQ(again->size(), 1u);
  EXPECT_EQ((*again)[0].message_id, *id);
  EXPECT_EQ((*again)[0].receive_count, 2);
}

TEST_P(BusContractTest, InvalidReceiptHandleIsRejectedPerEntry) {
  ASSERT_TRUE(s_.work->Send({"d", {}}));
  auto got = ReceiveN(*s_.work, 1);
  ASSERT_EQ(got.size(), 1u);

  auto single = s_.work->Delete("never-issued-receipt-handle");
  ASSERT_FALSE(single);
  EXPECT_EQ(single.error().code, ErrorCode::kInvalidArgument);

  auto results = s_.work->DeleteBatch({got[0].receipt_handle, "another-bogus-handle"});
  ASSERT_TRUE(results) << results.error().ToString();
  ASSERT_EQ(results->size(), 2u);
  EXPECT_TRUE((*results)[0]) << (*results)[0].error().ToString();
  ASSERT_FALSE((*results)[1]);
  EXPECT_EQ((*results)[1].error().code, ErrorCode::kInvalidArgument);

  auto stats = s_.work->Stats();
  ASSERT_TRUE(stats);
  EXPECT_EQ(stats->visible + stats->in_flight, 0);
}

TEST_P(BusContractTest, RedrivesToDeadLetterQueueAfterMaxReceiveCount) {
  const MessageAttributes attrs = {{"to_status", "WAITING_FOR_DATA"}};
  auto id = s_.work->Send({"poison", attrs});
  ASSERT_TRUE(id);
  for (int i = 1; i <= s_.max_receive_count; ++i) {
    auto got = ReceiveN(*s_.work, 1, seconds(5));
    ASSERT_EQ(got.size(), 1u) << "receive " << i;
    EXPECT_EQ(got[0].receive_count, i);
    ASSERT_TRUE(s_.work->ChangeVisibility(got[0].receipt_handle, seconds(0)));
  }
  // The next receive moves the message instead of delivering it.
  auto none = s_.work->Receive(10, seconds(1));
  ASSERT_TRUE(none) << none.error().ToString();
  EXPECT_TRUE(none->empty());

  ReceivedMessage dead;
  ASSERT_NO_FATAL_FAILURE(ReceiveTheMessage(*s_.dlq, *id, "poison", &dead));
  EXPECT_EQ(dead.attributes, attrs);
  auto stats = s_.work->Stats();
  ASSERT_TRUE(stats);
  EXPECT_EQ(stats->visible + stats->in_flight, 0);
}

TEST_P(BusContractTest, LongPollReturnsWhenAMessageIsSent) {
  const auto t0 = Steady::now();
  std::thread sender([&] {
    std::this_thread::sleep_until(t0 + milliseconds(300));  // schedule the send, not a wait
    ASSERT_TRUE(s_.work->Send({"late", {}}));
  });
  auto got = s_.work->Receive(1, kLongPollWait);
  const auto elapsed = Since(t0);
  sender.join();
  ASSERT_TRUE(got) << got.error().ToString();
  ASSERT_EQ(got->size(), 1u);
  EXPECT_EQ((*got)[0].body, "late");
  // Returned with the message, not at the end of its wait (the cause of the wake-up is
  // asserted per backend: embedded WakeupTest; its latency is B1 in `make bench`).
  EXPECT_LT(elapsed, kLongPollWait);
}

TEST_P(BusContractTest, LongPollReturnsWhenAnEventIsPublished) {
  const std::string event = StatusChangeBody("c-lp", "WAITING_FOR_DATA");
  const auto t0 = Steady::now();
  std::thread publisher([&] {
    std::this_thread::sleep_until(t0 + milliseconds(300));
    ASSERT_TRUE(s_.topic->Publish({event, StatusChangeAttributes("WAITING_FOR_DATA")}));
  });
  auto got = s_.work->Receive(1, kLongPollWait);
  const auto elapsed = Since(t0);
  publisher.join();
  ASSERT_TRUE(got) << got.error().ToString();
  ASSERT_EQ(got->size(), 1u);
  EXPECT_EQ(PublishedMessage((*got)[0], s_.raw_delivery), event);
  EXPECT_LT(elapsed, kLongPollWait);
}

TEST_P(BusContractTest, EmptyReceiveReturnsAtTheWaitDeadline) {
  const auto t0 = Steady::now();
  auto got = s_.work->Receive(10, seconds(1));
  const auto elapsed = Since(t0);
  ASSERT_TRUE(got) << got.error().ToString();
  EXPECT_TRUE(got->empty());
  EXPECT_GE(elapsed, milliseconds(900));
  // Only a receive that does not end at its deadline fails this (the embedded bus's exact
  // schedule of looks is WakeupTest's, on a manual ticker).
  EXPECT_LT(elapsed, seconds(1) + kHung);
}

TEST_P(BusContractTest, StatsAndPurge) {
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(s_.work->Send({"s" + std::to_string(i), {}}));
  auto got = s_.work->Receive(1, seconds(5));
  ASSERT_TRUE(got) << got.error().ToString();
  ASSERT_EQ(got->size(), 1u);

  auto stats = s_.work->Stats();
  ASSERT_TRUE(stats) << stats.error().ToString();
  EXPECT_EQ(stats->visible, 2);
  EXPECT_EQ(stats->in_flight, 1);

  ASSERT_TRUE(s_.work->Delete((*got)[0].receipt_handle));
  stats = s_.work->Stats();
  ASSERT_TRUE(stats);
  EXPECT_EQ(stats->visible, 2);
  EXPECT_EQ(stats->in_flight, 0);

  ASSERT_TRUE(s_.work->Purge());
  stats = s_.work->Stats();
  ASSERT_TRUE(stats);
  EXPECT_EQ(stats->visible, 0);
  EXPECT_EQ(stats->in_flight, 0);
  auto none = s_.work->Receive(10, milliseconds(0));
  ASSERT_TRUE(none);
  EXPECT_TRUE(none->empty());
}

TEST_P(BusContractTest, StatsCountDelayedMessagesApartAndTellTheOldest) {
  const auto before = std::chrono::system_clock::now() - seconds(2);
  ASSERT_TRUE(s_.work->Send({"now", {}}));
  ASSERT_TRUE(s_.work->Send({"later", {}, seconds(120)}));
  auto stats = s_.work->Stats();
  ASSERT_TRUE(stats) << stats.error().ToString();
  EXPECT_EQ(stats->visible, 1);
  EXPECT_EQ(stats->in_flight, 0);
  EXPECT_EQ(stats->delayed, 1);
  if (stats->oldest_known) {
    ASSERT_TRUE(stats->oldest_sent_at);
    EXPECT_GE(*stats->oldest_sent_at, before);
    EXPECT_LE(*stats->oldest_sent_at, std::chrono::system_clock::now() + seconds(2));
  } else {
    EXPECT_FALSE(stats->oldest_sent_at);  // SQS: CloudWatch's figure, not an attribute
  }
  // Only the due message is delivered; once received it is in flight, not delayed.
  auto got = s_.work->Receive(10, milliseconds(0));
  ASSERT_TRUE(got) << got.error().ToString();
  ASSERT_EQ(got->size(), 1u);
  EXPECT_EQ((*got)[0].body, "now");
  stats = s_.work->Stats();
  ASSERT_TRUE(stats);
  EXPECT_EQ(stats->visible, 0);
  EXPECT_EQ(stats->in_flight, 1);
  EXPECT_EQ(stats->delayed, 1);
  EXPECT_FALSE(s_.work->Send({"too late", {}, seconds(901)}));

  ASSERT_TRUE(s_.dlq->Send({"x", {}}));
  auto empty = s_.dlq->Stats();
  ASSERT_TRUE(empty);
  ASSERT_TRUE(s_.dlq->Purge());
  empty = s_.dlq->Stats();
  ASSERT_TRUE(empty);
  if (empty->oldest_known) {
    EXPECT_FALSE(empty->oldest_sent_at);
    EXPECT_EQ(OldestAgeSeconds(*empty, std::chrono::system_clock::now()), 0.0);
  } else {
    EXPECT_FALSE(OldestAgeSeconds(*empty, std::chrono::system_clock::now()).has_value());
  }
}

// The dead-letter listing (`dripr dlq list`, the dashboard) peeks at a DLQ over and over: the
// receive count it shows is the consumer's attempts, whatever the peeks did to the bus's own.
TEST_P(BusContractTest, DeadLetterReceiveCountShownSurvivesPeeks) {
  ASSERT_TRUE(s_.dlq->Send({"poison",
                            {{std::string(kFailureReasonAttribute), "malformed event"},
                             {std::string(kReceiveCountAttribute), "4"}}}));
  auto browse = s_.dlq->Browse();
  ASSERT_TRUE(browse) << browse.error().ToString();
  for (int peek = 1; peek <= 2; ++peek) {
    auto seen = PeekQueue(*s_.dlq);
    ASSERT_TRUE(seen) << seen.error().ToString();
    ASSERT_EQ(seen->size(), 1u) << "peek " << peek;
    // The bus's own count: untouched where it can browse, raised by every peek elsewhere (SQS).
    EXPECT_EQ(seen->front().receive_count, browse->has_value() ? 0 : peek);
    auto j = DeadLetterJson(seen->front(), std::chrono::system_clock::now());
    EXPECT_EQ(j["receive_count"], 4) << "peek " << peek;
    EXPECT_EQ(j["reason"], "malformed event");
  }
  auto stats = s_.dlq->Stats();
  ASSERT_TRUE(stats);
  EXPECT_EQ(stats->visible + stats->in_flight, 1);  // still there
}

// Where a backend can read without receiving, peeks change nothing about a message.
TEST_P(BusContractTest, BrowseLeavesReceiveCountsAndVisibilityAlone) {
  ASSERT_TRUE(s_.work->Send({"b", {{"k", "v"}}}));
  auto first = ReceiveN(*s_.work, 1);
  ASSERT_EQ(first.size(), 1u);
  ASSERT_TRUE(s_.work->ChangeVisibility(first[0].receipt_handle, seconds(0)));
  auto browsed = s_.work->Browse();
  ASSERT_TRUE(browsed) << browsed.error().ToString();
  if (!*browsed) GTEST_SKIP() << "this backend cannot read without receiving";
  for (int i = 0; i < 2; ++i) {
    browsed = s_.work->Browse();
    ASSERT_TRUE(browsed && *browsed);
    ASSERT_EQ((*browsed)->size(), 1u);
    EXPECT_EQ((**browsed)[0].receive_count, 1);
    EXPECT_EQ((**browsed)[0].body, "b");
    EXPECT_EQ((**browsed)[0].attributes, (MessageAttributes{{"k", "v"}}));
    EXPECT_TRUE((**browsed)[0].receipt_handle.empty());
  }
  auto again = ReceiveN(*s_.work, 1);
  ASSERT_EQ(again.size(), 1u);
  EXPECT_EQ(again[0].receive_count, 2);
}

}  // namespace dripr::testing
