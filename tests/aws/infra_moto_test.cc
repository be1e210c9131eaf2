// `dripr infra` functions against moto_server. Each test uses its own name prefix.

#include <gtest/gtest.h>

#include "aws/moto.h"
#include "aws/settings.h"
#include "dripr/bus/aws/aws_bus.h"
#include "dripr/bus/aws/infra.h"

namespace dripr::aws {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;

class InfraMotoTest : public testing::MotoTest {
 protected:
  void SetUp() override {
    MotoTest::SetUp();
    if (IsSkipped()) return;
    opts_.env_name = "dev";
    opts_.name_prefix = testing::UniqueName("infra") + "-";
  }
  void TearDown() override {
    if (sns_) (void)InfraDown(*sns_, *sqs_, opts_);  // best-effort clean-up
  }

  InfraOptions opts_;
};

TEST(InfraNames, FollowTheMigrationPlan) {
  auto n = InfraNames::For("prod");
  ASSERT_TRUE(n);
  EXPECT_EQ(n->topic, "dripr-campaign-events-topic-prod");
  EXPECT_EQ(n->queues[0], "dripr-local-market-updates-queue-prod");
  EXPECT_EQ(n->queues[1], "dripr-active-listings-queue-prod");
  EXPECT_EQ(n->queues[2], "dripr-recent-sales-queue-prod");
  EXPECT_EQ(n->dlqs[2], "dripr-recent-sales-queue-prod-dlq");
  auto bad = InfraNames::For("staging");
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().code, ErrorCode::kInvalidArgument);
  EXPECT_EQ(bad.error().message, "environment must be dev or prod, got 'staging'");
}

TEST_F(InfraMotoTest, UpIsIdempotentAndStatusIsComplete) {
  auto first = InfraUp(*sns_, *sqs_, opts_);
  ASSERT_TRUE(first) << first.error().ToString();
  auto second = InfraUp(*sns_, *sqs_, opts_);
  ASSERT_TRUE(second) << second.error().ToString();
  EXPECT_EQ(first->topic_arn, second->topic_arn);
  EXPECT_EQ(first->queue_urls, second->queue_urls);
  EXPECT_EQ(first->dlq_urls, second->dlq_urls);
  EXPECT_EQ(first->env_lines, second->env_lines);
  ASSERT_EQ(first->env_lines.size(), 5u);
  EXPECT_EQ(first->env_lines[0], "SNS_CAMPAIGN_EVENTS_TOPIC_ARN=" + first->topic_arn);
  EXPECT_EQ(first->env_lines[1], "SQS_LOCAL_MARKET_UPDATES_QUEUE_URL=" + first->queue_urls[0]);
  EXPECT_EQ(first->env_lines[2], "SQS_ACTIVE_LISTINGS_QUEUE_URL=" + first->queue_urls[1]);
  EXPECT_EQ(first->env_lines[3], "SQS_RECENT_SALES_QUEUE_URL=" + first->queue_urls[2]);
  EXPECT_EQ(first->env_lines[4], "EVENT_BUS=aws");
  EXPECT_EQ(first->ToJson()["env"]["SQS_RECENT_SALES_QUEUE_URL"], first->queue_urls[2]);
  EXPECT_EQ(first->ToJson()["env"]["EVENT_BUS"], "aws");
  EXPECT_TRUE(
      first->topic_arn.ends_with(":" + opts_.name_prefix + "dripr-campaign-events-topic-dev"));
  EXPECT_TRUE(
      first->queue_urls[1].ends_with("/" + opts_.name_prefix + "dripr-active-listings-queue-dev"));

  auto subs = sns_->ListSubscriptionsByTopic(first->topic_arn);
  ASSERT_TRUE(subs) << subs.error().ToString();
  EXPECT_EQ(subs->size(), 3u) << "a second `infra up` must not duplicate subscriptions";

  auto attrs = sqs_->GetQueueAttributes(first->queue_urls[0], {"All"});
  ASSERT_TRUE(attrs);
  auto redrive = json::parse(attrs->at("RedrivePolicy"));
  EXPECT_EQ(redrive["maxReceiveCount"], 5);
  EXPECT_TRUE(redrive["deadLetterTargetArn"].get<std::string>().ends_with(
      "dripr-local-market-updates-queue-dev-dlq"));
  auto policy = json::parse(attrs->at("Policy"));
  EXPECT_EQ(policy["Statement"][0]["Condition"]["ArnEquals"]["aws:SourceArn"], first->topic_arn);
  EXPECT_EQ(policy["Statement"][0]["Principal"]["Service"], "sns.amazonaws.com");

  auto status = InfraStatus(*sns_, *sqs_, opts_);
  ASSERT_TRUE(status) << status.error().ToString();
  EXPECT_TRUE(status->Complete()) << status->ToText();
  EXPECT_EQ(status->queues[2].max_receive_count, 5);
  EXPECT_TRUE(status->queues[2].FilterOk());
  EXPECT_FALSE(status->queues[2].raw_message_delivery);
  EXPECT_EQ(status->ToJson()["complete"], true);
  EXPECT_NE(status->ToText().find("complete\n"), std::string::npos);
}

TEST_F(InfraMotoTest, PublishWithoutAttributesReachesEveryQueueThroughTheBodyFilter) {
  auto up = InfraUp(*sns_, *sqs_, opts_);
  ASSERT_TRUE(up) << up.error().ToString();
  // What the Python db_client publishes: the JSON event only, no message attributes.
  const std::string waiting =
      R"({"event_type": "STATUS_CHANGE", "payload": {"campaign_id": "c-1", "zip_code": "02139", )"
      R"("from_status": "DORMANT", "to_status": "WAITING_FOR_DATA", "timestamp": "2026-11-29T13:40:22"}})";
  const std::string ready =
      R"({"event_type": "STATUS_CHANGE", "payload": {"campaign_id": "c-2", "zip_code": "02139", )"
      R"("from_status": "FETCHING", "to_status": "READY_TO_CREATE_EMAIL", "timestamp": "2026-11-29T13:40:22"}})";
  ASSERT_TRUE(sns_->Publish(up->topic_arn, ready));
  auto id = sns_->Publish(up->topic_arn, waiting);
  ASSERT_TRUE(id) << id.error().ToString();
  for (const auto& url : up->queue_urls) {
    auto got = Drain(url);
    ASSERT_EQ(got.size(), 1u) << url;
    auto envelope = json::parse(got[0].body);
    EXPECT_EQ(envelope["Message"], waiting);
    EXPECT_EQ(envelope["MessageId"], *id);
  }
  // Through the bus interface, as the data fetcher sees it.
  Env env = Env::FromMap({{"SNS_CAMPAIGN_EVENTS_TOPIC_ARN", up->topic_arn},
                          {"SQS_LOCAL_MARKET_UPDATES_QUEUE_URL", up->queue_urls[0]},
                          {"SQS_ACTIVE_LISTINGS_QUEUE_URL", up->queue_urls[1]},
                          {"SQS_RECENT_SALES_QUEUE_URL", up->queue_urls[2]},
                          {"AWS_ENDPOINT_URL", testing::MotoUrl()},
                          {"AWS_ACCESS_KEY_ID", testing::kFakeKeyId},
                          {"AWS_SECRET_ACCESS_KEY", testing::kFakeSecret}});
  auto bus = OpenAwsBus(dripr::testing::SettingsOf(env));
  ASSERT_TRUE(bus) << bus.error().ToString();
  ASSERT_TRUE((*bus)->CampaignEvents().Publish({waiting, {}}));
  auto got = (*bus)->WorkQueue(DataPart::kRecentSales).Receive(10, 2s);
  ASSERT_TRUE(got) << got.error().ToString();
  ASSERT_EQ(got->size(), 1u);
  EXPECT_EQ(json::parse((*got)[0].body)["Message"], waiting);
  EXPECT_EQ((*got)[0].receive_count, 1);
  auto dlq_stats = (*bus)->DeadLetterQueue(DataPart::kRecentSales).Stats();
  ASSERT_TRUE(dlq_stats) << dlq_stats.error().ToString();
  EXPECT_EQ(dlq_stats->visible, 0);
  EXPECT_EQ((*bus)->DeadLetterQueue(DataPart::kRecentSales).Name(),
            opts_.name_prefix + "dripr-recent-sales-queue-dev-dlq");
}

TEST_F(InfraMotoTest, UpChangesAWrongFilterOnlyWithForce) {
  auto up = InfraUp(*sns_, *sqs_, opts_);
  ASSERT_TRUE(up) << up.error().ToString();
  auto subs = sns_->ListSubscriptionsByTopic(up->topic_arn);
  ASSERT_TRUE(subs);
  ASSERT_FALSE(subs->empty());
  // Someone changed one subscription's filter.
  const std::string arn = (*subs)[0].subscription_arn;
  const std::string theirs = R"({"payload":{"to_status":["ERROR"]}})";
  ASSERT_TRUE(sns_->SetSubscriptionAttributes(arn, "FilterPolicy", theirs));
  auto broken = InfraStatus(*sns_, *sqs_, opts_);
  ASSERT_TRUE(broken);
  EXPECT_FALSE(broken->Complete());

  auto kept = InfraUp(*sns_, *sqs_, opts_);
  ASSERT_TRUE(kept) << kept.error().ToString();
  int keeps = 0;
  for (const auto& step : kept->plan) {
    if (step.action == "keep") {
      ++keeps;
      EXPECT_EQ(step.resource, "subscription");
      EXPECT_NE(step.detail.find("not changed without --force"), std::string::npos) << step.detail;
    }
  }
  EXPECT_EQ(keeps, 1);
  auto still = sns_->GetSubscriptionAttributes(arn);
  ASSERT_TRUE(still);
  EXPECT_EQ(json::parse((*still)["FilterPolicy"]), json::parse(theirs));

  InfraOptions forced = opts_;
  forced.force = true;
  ASSERT_TRUE(InfraUp(*sns_, *sqs_, forced));
  auto fixed = InfraStatus(*sns_, *sqs_, opts_);
  ASSERT_TRUE(fixed);
  EXPECT_TRUE(fixed->Complete()) << fixed->ToText();
  auto after = sns_->ListSubscriptionsByTopic(up->topic_arn);
  ASSERT_TRUE(after);
  EXPECT_EQ(after->size(), 3u);
}

TEST_F(InfraMotoTest, DryRunPlansEverythingAndCreatesNothing) {
  InfraOptions dry = opts_;
  dry.dry_run = true;
  auto plan = InfraUp(*sns_, *sqs_, dry);
  ASSERT_TRUE(plan) << plan.error().ToString();
  EXPECT_TRUE(plan->dry_run);
  EXPECT_TRUE(plan->env_lines.empty());
  EXPECT_TRUE(plan->topic_arn.empty());
  // topic + 3 x (dlq, queue, queue policy, subscription), all to be created.
  ASSERT_EQ(plan->plan.size(), 13u);
  for (const auto& step : plan->plan) EXPECT_EQ(step.action, "create") << step.ToText();
  EXPECT_EQ(plan->plan[0].ToText(),
            "create  topic         " + opts_.name_prefix + "dripr-campaign-events-topic-dev");
  EXPECT_EQ(plan->ToJson()["plan"][2]["resource"], "queue");
  auto status = InfraStatus(*sns_, *sqs_, opts_);
  ASSERT_TRUE(status);
  EXPECT_TRUE(status->topic_arn.empty());
  for (const auto& q : status->queues) {
    EXPECT_TRUE(q.url.empty());
    EXPECT_TRUE(q.dlq_url.empty());
  }

  // After a real run, a dry run finds everything in place.
  ASSERT_TRUE(InfraUp(*sns_, *sqs_, opts_));
  auto again = InfraUp(*sns_, *sqs_, dry);
  ASSERT_TRUE(again) << again.error().ToString();
  ASSERT_EQ(again->plan.size(), 13u);
  for (const auto& step : again->plan) EXPECT_EQ(step.action, "reuse") << step.ToText();
}

TEST_F(InfraMotoTest, AdoptedQueuePolicyIsMergedBySid) {
  // A queue of another name, as the environment names it, whose policy has a foreign
  // statement and a stale one of ours (another topic).
  auto url = sqs_->CreateQueue(opts_.name_prefix + "legacy-market-data");
  ASSERT_TRUE(url) << url.error().ToString();
  const json foreign = {{"Sid", "PythonPoller"},
                        {"Effect", "Allow"},
                        {"Principal", {{"AWS", "arn:aws:iam::123456789012:role/poller"}}},
                        {"Action", "sqs:SendMessage"},
                        {"Resource", "*"}};
  json stale = {{"Sid", kTopicPolicySid},
                {"Effect", "Allow"},
                {"Principal", {{"Service", "sns.amazonaws.com"}}},
                {"Action", "sqs:SendMessage"},
                {"Resource", "*"},
                {"Condition", {{"ArnEquals", {{"aws:SourceArn", "arn:aws:sns:us-east-1:1:old"}}}}}};
  const json before = {
      {"Version", "2012-10-17"}, {"Id", "theirs"}, {"Statement", {foreign, stale}}};
  ASSERT_TRUE(sqs_->SetQueueAttributes(*url, {{"Policy", before.dump()}}));
  opts_.queue_urls[0] = *url;

  auto up = InfraUp(*sns_, *sqs_, opts_);
  ASSERT_TRUE(up) << up.error().ToString();
  EXPECT_EQ(up->queue_urls[0], *url);
  EXPECT_EQ(up->plan[3].resource, "queue policy");
  EXPECT_EQ(up->plan[3].action, "change");
  EXPECT_EQ(up->plan[3].detail,
            "statement AllowCampaignEventsTopic updated; 1 other statement(s) kept");
  auto attrs = sqs_->GetQueueAttributes(*url, {"Policy"});
  ASSERT_TRUE(attrs);
  auto after = json::parse(attrs->at("Policy"));
  EXPECT_EQ(after["Id"], "theirs");
  ASSERT_EQ(after["Statement"].size(), 2u);
  EXPECT_EQ(after["Statement"][0], foreign);
  EXPECT_EQ(after["Statement"][1]["Sid"], kTopicPolicySid);
  EXPECT_EQ(after["Statement"][1]["Condition"]["ArnEquals"]["aws:SourceArn"], up->topic_arn);
  // A second run finds it in place.
  auto again = InfraUp(*sns_, *sqs_, opts_);
  ASSERT_TRUE(again);
  EXPECT_EQ(again->plan[3].action, "reuse");
  ASSERT_TRUE(sqs_->DeleteQueue(*url));
  ASSERT_TRUE(sqs_->DeleteQueue(up->dlq_urls[0]));
}

TEST_F(InfraMotoTest, RedriveCheckRefusesAttemptsTheBrokerWouldPreempt) {
  auto up = InfraUp(*sns_, *sqs_, opts_);
  ASSERT_TRUE(up) << up.error().ToString();
  AwsBusConfig config{.topic_arn = up->topic_arn, .work_queue_urls = up->queue_urls};
  EXPECT_TRUE(CheckRedriveAllowsAttempts(*sqs_, config, 4));
  auto refused = CheckRedriveAllowsAttempts(*sqs_, config, 5);
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code, ErrorCode::kInvalidArgument);
  EXPECT_EQ(refused.error().message,
            "DRIPR_MAX_ATTEMPTS=5 must be below maxReceiveCount 5 of queue " + opts_.name_prefix +
                "dripr-local-market-updates-queue-dev's RedrivePolicy, or SQS moves messages to "
                "the DLQ before dripr records why (lower DRIPR_MAX_ATTEMPTS or raise "
                "maxReceiveCount)");

  // A queue without a RedrivePolicy: refused unless its DLQ is configured.
  auto bare = sqs_->CreateQueue(opts_.name_prefix + "bare");
  ASSERT_TRUE(bare) << bare.error().ToString();
  config.work_queue_urls[2] = *bare;
  auto no_redrive = CheckRedriveAllowsAttempts(*sqs_, config, 4);
  ASSERT_FALSE(no_redrive);
  EXPECT_EQ(no_redrive.error().code, ErrorCode::kInvalidArgument);
  EXPECT_NE(no_redrive.error().message.find("has no RedrivePolicy"), std::string::npos);
  config.dlq_urls[2] = up->dlq_urls[2];
  EXPECT_TRUE(CheckRedriveAllowsAttempts(*sqs_, config, 4));
  ASSERT_TRUE(sqs_->DeleteQueue(*bare));

  // A missing queue is not a configuration verdict: the caller decides.
  config.work_queue_urls[2] = *bare;
  auto missing = CheckRedriveAllowsAttempts(*sqs_, config, 4);
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code, ErrorCode::kNotFound);
}

TEST(RedriveMaxReceiveCount, AcceptsNumbersAndNumericStrings) {
  EXPECT_EQ(RedriveMaxReceiveCount(R"({"deadLetterTargetArn":"a","maxReceiveCount":5})"), 5);
  EXPECT_EQ(RedriveMaxReceiveCount(R"({"deadLetterTargetArn":"a","maxReceiveCount":"7"})"), 7);
  EXPECT_EQ(RedriveMaxReceiveCount(R"({"maxReceiveCount":"7x"})"), 0);
  EXPECT_EQ(RedriveMaxReceiveCount(R"({"deadLetterTargetArn":"a"})"), 0);
  EXPECT_EQ(RedriveMaxReceiveCount("not json"), 0);
}

TEST(AdoptFromSettings, TakesTheNamedTopicAndQueuesAndRejectsMalformedOnes) {
  InfraOptions o;
  ASSERT_TRUE(AdoptFromSettings(
      dripr::testing::Aws(
          {{"SNS_CAMPAIGN_EVENTS_TOPIC_ARN", "arn:aws:sns:us-east-1:123456789012:t"},
           {"SQS_ACTIVE_LISTINGS_QUEUE_URL", "https://sqs.us-east-1.amazonaws.com/1/q"}}),
      o));
  EXPECT_EQ(o.topic_arn, "arn:aws:sns:us-east-1:123456789012:t");
  EXPECT_EQ(o.queue_urls[1], "https://sqs.us-east-1.amazonaws.com/1/q");
  EXPECT_TRUE(o.queue_urls[0].empty());
  InfraOptions bad;
  auto topic =
      AdoptFromSettings(dripr::testing::Aws({{"SNS_CAMPAIGN_EVENTS_TOPIC_ARN", "my-topic"}}), bad);
  ASSERT_FALSE(topic);
  EXPECT_EQ(topic.error().code, ErrorCode::kInvalidArgument);
  EXPECT_EQ(topic.error().message,
            "SNS_CAMPAIGN_EVENTS_TOPIC_ARN is not an SNS topic ARN: my-topic");
  auto queue = AdoptFromSettings(
      dripr::testing::Aws({{"SQS_RECENT_SALES_QUEUE_URL", "sqs://x/recent"}}), bad);
  ASSERT_FALSE(queue);
  EXPECT_EQ(queue.error().message,
            "SQS_RECENT_SALES_QUEUE_URL is not an SQS queue URL: sqs://x/recent");
}

TEST_F(InfraMotoTest, DownRemovesEverything) {
  ASSERT_TRUE(InfraUp(*sns_, *sqs_, opts_));
  auto down = InfraDown(*sns_, *sqs_, opts_);
  ASSERT_TRUE(down) << down.error().ToString();
  EXPECT_EQ(down->size(), 3u + 1u + 6u);  // subscriptions, topic, queues and DLQs
  auto status = InfraStatus(*sns_, *sqs_, opts_);
  ASSERT_TRUE(status) << status.error().ToString();
  EXPECT_FALSE(status->Complete());
  EXPECT_TRUE(status->topic_arn.empty());
  for (const auto& q : status->queues) {
    EXPECT_TRUE(q.url.empty());
    EXPECT_TRUE(q.dlq_url.empty());
  }
  auto again = InfraDown(*sns_, *sqs_, opts_);
  ASSERT_TRUE(again);
  EXPECT_TRUE(again->empty());
}

}  // namespace
}  // namespace dripr::aws
