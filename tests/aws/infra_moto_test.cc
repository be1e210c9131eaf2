// `dripr infra` functions against moto_server. Each test uses its own name prefix.

#include <gtest/gtest.h>

#include "aws/moto.h"
#include "dripr/bus/aws/aws_bus.h"
#include "dripr/bus/aws/infra.h"

namespace dripr::aws {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;

class InfraMotoTest : public ::testing::Test {
 protected:
  void SetUp() override {
    DRIPR_REQUIRE_MOTO();
    sns_ = std::make_unique<SnsClient>(testing::MotoOptions());
    sqs_ = std::make_unique<SqsClient>(testing::MotoOptions());
    opts_.env_name = "dev";
    opts_.name_prefix = testing::UniqueName("infra") + "-";
  }
  void TearDown() override {
    if (sns_) (void)InfraDown(*sns_, *sqs_, opts_);
  }

  // Messages on `url` within about a second (the queue is drained).
  std::vector<SqsMessage> Drain(const std::string& url) {
    std::vector<SqsMessage> out;
    for (;;) {
      auto got = sqs_->ReceiveMessage(url, {.max_messages = 10, .wait = 1s});
      if (!got || got->empty()) return out;
      for (auto& m : *got) out.push_back(std::move(m));
    }
  }

  std::unique_ptr<SnsClient> sns_;
  std::unique_ptr<SqsClient> sqs_;
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
  auto bus = OpenAwsBus(env);
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

TEST_F(InfraMotoTest, UpRepairsAWrongFilterWithoutDuplicating) {
  auto up = InfraUp(*sns_, *sqs_, opts_);
  ASSERT_TRUE(up) << up.error().ToString();
  auto subs = sns_->ListSubscriptionsByTopic(up->topic_arn);
  ASSERT_TRUE(subs);
  ASSERT_FALSE(subs->empty());
  // Someone switched one subscription to an attribute filter.
  const std::string arn = (*subs)[0].subscription_arn;
  ASSERT_TRUE(sns_->SetSubscriptionAttributes(arn, "FilterPolicy",
                                              R"({"payload":{"to_status":["ERROR"]}})"));
  auto broken = InfraStatus(*sns_, *sqs_, opts_);
  ASSERT_TRUE(broken);
  EXPECT_FALSE(broken->Complete());
  ASSERT_TRUE(InfraUp(*sns_, *sqs_, opts_));
  auto fixed = InfraStatus(*sns_, *sqs_, opts_);
  ASSERT_TRUE(fixed);
  EXPECT_TRUE(fixed->Complete()) << fixed->ToText();
  auto after = sns_->ListSubscriptionsByTopic(up->topic_arn);
  ASSERT_TRUE(after);
  EXPECT_EQ(after->size(), 3u);
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
