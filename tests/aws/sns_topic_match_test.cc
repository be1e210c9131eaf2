// SnsTopic::MatchSubscriptions on moto, and `dripr publish` with EVENT_BUS=aws: whether any
// subscription's filter policy takes an event is decided from the subscriptions as they are
// at the call (an operator may change them), and an event that goes nowhere is exit 1.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "aws/moto.h"
#include "cmd/run_dripr.h"
#include "dripr/bus/aws/aws_bus.h"
#include "support/sample_events.h"

namespace dripr::aws {
namespace sns_topic_match_test {

using namespace dripr::aws::testing;
using ::dripr::testing::kDormantEvent;
using ::dripr::testing::kWaitingEvent;
using ::testing::HasSubstr;

constexpr const char* kBodyFilter = R"({"payload":{"to_status":["WAITING_FOR_DATA"]}})";

class SnsTopicMatchTest : public MotoTest {
 protected:
  void SetUp() override {
    MotoTest::SetUp();
    if (IsSkipped()) return;
    ASSERT_NO_FATAL_FAILURE(NewTopic("match", &topic_arn_));
    for (auto& q : queues_) ASSERT_NO_FATAL_FAILURE(NewQueue("match-q", &q));
  }

  // Subscribes queue `i` with `attributes` (FilterPolicy, FilterPolicyScope); returns its ARN.
  std::string Subscribe(size_t i, const std::map<std::string, std::string>& attributes) {
    auto sub = sns_->Subscribe(topic_arn_, "sqs", queues_[i].arn, attributes);
    EXPECT_TRUE(sub) << sub.error().ToString();
    return sub ? *sub : "";
  }

  SubscriptionMatches Match(SnsTopic& topic, const OutgoingMessage& m) {
    auto r = topic.MatchSubscriptions(m);
    EXPECT_TRUE(r) << r.error().ToString();
    return r ? *r : SubscriptionMatches{.subscriptions = -1};
  }

  std::string topic_arn_;
  std::array<MotoQueue, 3> queues_;
};

TEST_F(SnsTopicMatchTest, EvaluatesEachSubscriptionsPolicyInItsScope) {
  SnsTopic topic(sns_, topic_arn_);
  auto none = Match(topic, {kWaitingEvent, {}});
  EXPECT_EQ(none.subscriptions, 0);
  EXPECT_EQ(none.matched, 0);

  Subscribe(0, {{"FilterPolicy", kBodyFilter}, {"FilterPolicyScope", "MessageBody"}});
  // No FilterPolicyScope: SNS's default, MessageAttributes.
  Subscribe(1, {{"FilterPolicy", R"({"to_status":["DORMANT"]})"}});
  auto waiting = Match(topic, {kWaitingEvent, {{"to_status", "WAITING_FOR_DATA"}}});
  EXPECT_EQ(waiting.subscriptions, 2);
  EXPECT_EQ(waiting.matched, 1);
  EXPECT_TRUE(waiting.undecided.empty());
  EXPECT_EQ(Match(topic, {kDormantEvent, {{"to_status", "DORMANT"}}}).matched, 1);
  EXPECT_EQ(Match(topic, {kDormantEvent, {}}).matched, 0);  // no attribute, body not waiting
  EXPECT_EQ(Match(topic, {"not json", {}}).matched, 0);

  // Counting publishes nothing.
  for (const auto& [url, arn] : queues_) {
    auto got = sqs_->ReceiveMessage(url, {.max_messages = 10, .wait = std::chrono::seconds(0)});
    ASSERT_TRUE(got) << got.error().ToString();
    EXPECT_TRUE(got->empty()) << url;
  }
}

TEST_F(SnsTopicMatchTest, SeesSubscriptionChangesAtOnce) {
  SnsTopic topic(sns_, topic_arn_);
  const std::string sub =
      Subscribe(0, {{"FilterPolicy", kBodyFilter}, {"FilterPolicyScope", "MessageBody"}});
  const OutgoingMessage dormant{kDormantEvent, {}};
  EXPECT_EQ(Match(topic, dormant).matched, 0);
  ASSERT_TRUE(sns_->SetSubscriptionAttributes(
      sub, "FilterPolicy", R"({"payload":{"to_status":["WAITING_FOR_DATA","DORMANT"]}})"));
  EXPECT_EQ(Match(topic, dormant).matched, 1);
  ASSERT_TRUE(sns_->Unsubscribe(sub));
  EXPECT_EQ(Match(topic, dormant).subscriptions, 0);
  Subscribe(2, {});  // no filter policy: every message
  EXPECT_EQ(Match(topic, {"not json", {}}).matched, 1);
}

TEST_F(SnsTopicMatchTest, APolicyOutsideTheEvaluatedSubsetIsUndecidedNotAMatch) {
  SnsTopic topic(sns_, topic_arn_);
  Subscribe(0, {{"FilterPolicy", R"({"data_cycle":[{"numeric":[">",3]}]})"}});
  auto r = Match(topic, {kWaitingEvent, {{"data_cycle", "7"}}});
  EXPECT_EQ(r.subscriptions, 1);
  EXPECT_EQ(r.matched, 0);
  ASSERT_EQ(r.undecided.size(), 1u);
  EXPECT_THAT(r.undecided[0], HasSubstr(queues_[0].arn));
  EXPECT_THAT(r.undecided[0], HasSubstr("\"numeric\" is not supported"));
}

TEST_F(SnsTopicMatchTest, AnUnreachableTopicIsAnError) {
  SnsTopic topic(sns_, topic_arn_ + "-gone");
  auto r = topic.MatchSubscriptions({kWaitingEvent, {}});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::kNotFound);
}

// `dripr publish` on EVENT_BUS=aws (the real binary against moto).
class PublishOnAwsTest : public SnsTopicMatchTest {
 protected:
  void SetUp() override {
    SnsTopicMatchTest::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    cli_.SetEnv("EVENT_BUS", "aws");
    cli_.SetEnv("AWS_ENDPOINT_URL", MotoUrl());
    cli_.SetEnv("AWS_REGION", "us-east-1");
    cli_.SetEnv("AWS_ACCESS_KEY_ID", kFakeKeyId);
    cli_.SetEnv("AWS_SECRET_ACCESS_KEY", kFakeSecret);
    cli_.SetEnv("AWS_EC2_METADATA_DISABLED", "true");
    cli_.SetEnv("SNS_CAMPAIGN_EVENTS_TOPIC_ARN", topic_arn_);
    cli_.SetEnv("SQS_LOCAL_MARKET_UPDATES_QUEUE_URL", queues_[0].url);
    cli_.SetEnv("SQS_ACTIVE_LISTINGS_QUEUE_URL", queues_[1].url);
    cli_.SetEnv("SQS_RECENT_SALES_QUEUE_URL", queues_[2].url);
  }
  ::dripr::testing::DriprCli cli_;
};

TEST_F(PublishOnAwsTest, ExitsOneWhenNoSubscriptionsFilterMatched) {
  auto bare = cli_.Run({"publish", kWaitingEvent});
  EXPECT_EQ(bare.exit_code, 1) << bare.err;
  EXPECT_THAT(bare.err, HasSubstr("the topic has no subscriptions: the event went nowhere"));

  for (size_t i = 0; i < 3; ++i) {
    Subscribe(i, {{"FilterPolicy", kBodyFilter}, {"FilterPolicyScope", "MessageBody"}});
  }
  auto ok = cli_.Run({"publish", kWaitingEvent});
  EXPECT_EQ(ok.exit_code, 0) << ok.err;
  EXPECT_THAT(ok.out, HasSubstr("(3 subscription(s) matched)"));
  EXPECT_EQ(ok.err, "");

  auto nowhere = cli_.Run({"publish", kDormantEvent});
  EXPECT_EQ(nowhere.exit_code, 1);
  EXPECT_THAT(nowhere.err, HasSubstr("no subscription's filter matched: the event went nowhere"));
  EXPECT_EQ(std::count(nowhere.err.begin(), nowhere.err.end(), '\n'), 1) << nowhere.err;

  auto raw = cli_.Run({"publish", "--raw", "-"}, "not json");
  EXPECT_EQ(raw.exit_code, 1);
  EXPECT_THAT(raw.err, HasSubstr("went nowhere"));

  // Each matched queue got the one event that matched.
  for (const auto& [url, arn] : queues_) {
    auto got = sqs_->ReceiveMessage(url, {.max_messages = 10, .wait = std::chrono::seconds(1)});
    ASSERT_TRUE(got) << got.error().ToString();
    EXPECT_EQ(got->size(), 1u) << url;
  }
}

TEST_F(PublishOnAwsTest, AnUndecidablePolicyIsAWarningAndAnUnknownTopicPublishesNothing) {
  Subscribe(0, {{"FilterPolicy", R"({"event_type":[{"suffix":"_CHANGE"}]})"}});
  auto r = cli_.Run({"publish", kDormantEvent});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("published "));
  EXPECT_THAT(r.err, HasSubstr("1 subscription(s) use filter operators dripr does not evaluate"));

  cli_.SetEnv("SNS_CAMPAIGN_EVENTS_TOPIC_ARN", topic_arn_ + "-gone");
  auto gone = cli_.Run({"publish", kWaitingEvent});
  EXPECT_EQ(gone.exit_code, 1);
  EXPECT_THAT(gone.err, HasSubstr("reading the subscriptions of"));
  EXPECT_THAT(gone.err, HasSubstr("nothing published"));
  EXPECT_EQ(std::count(gone.err.begin(), gone.err.end(), '\n'), 1) << gone.err;
}

}  // namespace sns_topic_match_test
}  // namespace dripr::aws
