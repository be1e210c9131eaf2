// SqsClient and SnsClient against moto_server (DRIPR_TEST_MOTO_URL).

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "aws/moto.h"

namespace dripr::aws {
namespace {

using namespace std::chrono_literals;
using testing::MotoOptions;
using testing::UniqueName;

class SqsMotoTest : public ::testing::Test {
 protected:
  void SetUp() override {
    DRIPR_REQUIRE_MOTO();
    sqs_ = std::make_unique<SqsClient>(MotoOptions());
    auto url = sqs_->CreateQueue(UniqueName("sqs"), {{"VisibilityTimeout", "30"}});
    ASSERT_TRUE(url) << url.error().ToString();
    url_ = *url;
  }
  std::unique_ptr<SqsClient> sqs_;
  std::string url_;
};

TEST_F(SqsMotoTest, CreateQueueIsIdempotentAndUrlLookupWorks) {
  std::string name = QueueNameFromUrl(url_);
  auto again = sqs_->CreateQueue(name, {{"VisibilityTimeout", "30"}});
  ASSERT_TRUE(again) << again.error().ToString();
  EXPECT_EQ(*again, url_);
  auto looked_up = sqs_->GetQueueUrl(name);
  ASSERT_TRUE(looked_up) << looked_up.error().ToString();
  EXPECT_EQ(*looked_up, url_);
  auto listed = sqs_->ListQueues(name);
  ASSERT_TRUE(listed) << listed.error().ToString();
  EXPECT_EQ(*listed, std::vector<std::string>{url_});
}

TEST_F(SqsMotoTest, AttributesReadAndWrite) {
  auto attrs = sqs_->GetQueueAttributes(url_, {"All"});
  ASSERT_TRUE(attrs) << attrs.error().ToString();
  EXPECT_EQ(attrs->at("VisibilityTimeout"), "30");
  EXPECT_TRUE(attrs->at("QueueArn").ends_with(":" + QueueNameFromUrl(url_)));
  ASSERT_TRUE(sqs_->SetQueueAttributes(url_, {{"VisibilityTimeout", "7"}}));
  auto after = sqs_->GetQueueAttributes(url_, {"VisibilityTimeout"});
  ASSERT_TRUE(after);
  EXPECT_EQ(after->at("VisibilityTimeout"), "7");
}

TEST_F(SqsMotoTest, SendReceiveWithAttributesAndSystemAttributes) {
  auto id = sqs_->SendMessage(url_, "body \xE2\x9C\x93 <&>", {{"to_status", "WAITING_FOR_DATA"}});
  ASSERT_TRUE(id) << id.error().ToString();
  auto got = sqs_->ReceiveMessage(url_, {.max_messages = 10, .wait = 2s});
  ASSERT_TRUE(got) << got.error().ToString();
  ASSERT_EQ(got->size(), 1u);
  const SqsMessage& m = (*got)[0];
  EXPECT_EQ(m.message_id, *id);
  EXPECT_EQ(m.body, "body \xE2\x9C\x93 <&>");
  EXPECT_EQ(m.message_attributes, (AttributeMap{{"to_status", "WAITING_FOR_DATA"}}));
  EXPECT_EQ(m.attributes.at("ApproximateReceiveCount"), "1");
  EXPECT_FALSE(m.attributes.at("SentTimestamp").empty());
}

TEST_F(SqsMotoTest, BatchesReportPerEntryResults) {
  for (int i = 0; i < 12; ++i) ASSERT_TRUE(sqs_->SendMessage(url_, "m" + std::to_string(i)));
  std::vector<std::string> receipts;
  for (int round = 0; round < 10 && receipts.size() < 12; ++round) {
    auto got = sqs_->ReceiveMessage(url_, {.max_messages = 10, .wait = 1s});
    ASSERT_TRUE(got) << got.error().ToString();
    for (const auto& m : *got) receipts.push_back(m.receipt_handle);
  }
  ASSERT_EQ(receipts.size(), 12u);
  // 13 entries: split into two calls; one bogus handle fails alone.
  std::vector<std::pair<std::string, std::chrono::seconds>> vis;
  for (const auto& r : receipts) vis.emplace_back(r, 60s);
  vis.emplace_back("bogus-receipt", 60s);
  auto changed = sqs_->ChangeMessageVisibilityBatch(url_, vis);
  ASSERT_TRUE(changed) << changed.error().ToString();
  ASSERT_EQ(changed->size(), 13u);
  for (size_t i = 0; i < 12; ++i) EXPECT_TRUE((*changed)[i]) << (*changed)[i].error().ToString();
  ASSERT_FALSE((*changed)[12]);
  EXPECT_EQ((*changed)[12].error().code, ErrorCode::kInvalidArgument);

  receipts.insert(receipts.begin() + 3, "another-bogus-receipt");
  auto deleted = sqs_->DeleteMessageBatch(url_, receipts);
  ASSERT_TRUE(deleted) << deleted.error().ToString();
  ASSERT_EQ(deleted->size(), 13u);
  for (size_t i = 0; i < 13; ++i) {
    if (i == 3) {
      ASSERT_FALSE((*deleted)[i]);
      EXPECT_EQ((*deleted)[i].error().code, ErrorCode::kInvalidArgument);
      EXPECT_NE((*deleted)[i].error().message.find("ReceiptHandleIsInvalid"), std::string::npos)
          << (*deleted)[i].error().message;
    } else {
      EXPECT_TRUE((*deleted)[i]) << i << ": " << (*deleted)[i].error().ToString();
    }
  }
  auto stats = sqs_->GetQueueAttributes(
      url_, {"ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"});
  ASSERT_TRUE(stats);
  EXPECT_EQ(stats->at("ApproximateNumberOfMessages"), "0");
  EXPECT_EQ(stats->at("ApproximateNumberOfMessagesNotVisible"), "0");
}

TEST_F(SqsMotoTest, LongPollOutlastsTheRequestTimeout) {
  ClientOptions o = MotoOptions();
  o.timeout = 1s;  // a receive must add its wait to the HTTP timeout
  SqsClient sqs(o);
  auto t0 = std::chrono::steady_clock::now();
  auto got = sqs.ReceiveMessage(url_, {.max_messages = 1, .wait = 2s});
  ASSERT_TRUE(got) << got.error().ToString();
  EXPECT_TRUE(got->empty());
  EXPECT_GE(std::chrono::steady_clock::now() - t0, 1900ms);
}

TEST_F(SqsMotoTest, PurgeAndDelete) {
  ASSERT_TRUE(sqs_->SendMessage(url_, "x"));
  ASSERT_TRUE(sqs_->PurgeQueue(url_));
  auto none = sqs_->ReceiveMessage(url_, {.max_messages = 10});
  ASSERT_TRUE(none);
  EXPECT_TRUE(none->empty());
  ASSERT_TRUE(sqs_->DeleteQueue(url_));
  auto gone = sqs_->GetQueueUrl(QueueNameFromUrl(url_));
  ASSERT_FALSE(gone);
  EXPECT_EQ(gone.error().code, ErrorCode::kNotFound);
  auto send = sqs_->SendMessage(url_, "y");
  ASSERT_FALSE(send);
  EXPECT_EQ(send.error().code, ErrorCode::kNotFound);
  EXPECT_TRUE(send.error().message.starts_with("SQS SendMessage: ")) << send.error().message;
}

TEST_F(SqsMotoTest, RejectsBadReceiveParametersLocally) {
  auto zero = sqs_->ReceiveMessage(url_, {.max_messages = 0});
  ASSERT_FALSE(zero);
  EXPECT_EQ(zero.error().code, ErrorCode::kInvalidArgument);
  auto eleven = sqs_->ReceiveMessage(url_, {.max_messages = 11});
  ASSERT_FALSE(eleven);
  EXPECT_EQ(eleven.error().code, ErrorCode::kInvalidArgument);
}

class SnsMotoTest : public testing::MotoTest {
 protected:
  void SetUp() override {
    MotoTest::SetUp();
    if (IsSkipped()) return;
    ASSERT_NO_FATAL_FAILURE(NewTopic("topic", &topic_));
    MotoQueue q;
    ASSERT_NO_FATAL_FAILURE(NewQueue("sub", &q));
    queue_url_ = q.url;
    queue_arn_ = q.arn;
  }

  std::vector<SqsMessage> Drain() { return MotoTest::Drain(queue_url_); }

  std::string topic_, queue_url_, queue_arn_;
};

TEST_F(SnsMotoTest, CreateTopicIsIdempotentAndListed) {
  std::string name = topic_.substr(topic_.rfind(':') + 1);
  auto again = sns_->CreateTopic(name);
  ASSERT_TRUE(again) << again.error().ToString();
  EXPECT_EQ(*again, topic_);
  auto topics = sns_->ListTopics();
  ASSERT_TRUE(topics) << topics.error().ToString();
  EXPECT_NE(std::find(topics->begin(), topics->end(), topic_), topics->end());
}

TEST_F(SnsMotoTest, SubscribeWithBodyFilterDeliversUnattributedPublishes) {
  const std::string filter = R"({"payload":{"to_status":["WAITING_FOR_DATA"]}})";
  auto sub = sns_->Subscribe(topic_, "sqs", queue_arn_,
                             {{"FilterPolicy", filter}, {"FilterPolicyScope", "MessageBody"}});
  ASSERT_TRUE(sub) << sub.error().ToString();
  auto subs = sns_->ListSubscriptionsByTopic(topic_);
  ASSERT_TRUE(subs) << subs.error().ToString();
  ASSERT_EQ(subs->size(), 1u);
  EXPECT_EQ((*subs)[0].subscription_arn, *sub);
  EXPECT_EQ((*subs)[0].endpoint, queue_arn_);
  EXPECT_EQ((*subs)[0].protocol, "sqs");
  auto attrs = sns_->GetSubscriptionAttributes(*sub);
  ASSERT_TRUE(attrs) << attrs.error().ToString();
  EXPECT_EQ(nlohmann::json::parse(attrs->at("FilterPolicy")), nlohmann::json::parse(filter));
  EXPECT_EQ(attrs->at("FilterPolicyScope"), "MessageBody");

  const std::string wanted =
      R"({"event_type":"STATUS_CHANGE","payload":{"campaign_id":"c1","to_status":"WAITING_FOR_DATA"}})";
  const std::string other =
      R"({"event_type":"STATUS_CHANGE","payload":{"campaign_id":"c2","to_status":"ERROR"}})";
  ASSERT_TRUE(sns_->Publish(topic_, other));
  auto id = sns_->Publish(topic_, wanted);
  ASSERT_TRUE(id) << id.error().ToString();
  auto got = Drain();
  ASSERT_EQ(got.size(), 1u);
  auto env = nlohmann::json::parse(got[0].body);
  EXPECT_EQ(env["Type"], "Notification");
  EXPECT_EQ(env["MessageId"], *id);
  EXPECT_EQ(env["TopicArn"], topic_);
  EXPECT_EQ(env["Message"], wanted);
}

TEST_F(SnsMotoTest, RawDeliveryCarriesAttributesAndSetAttributesUpdates) {
  auto sub = sns_->Subscribe(topic_, "sqs", queue_arn_,
                             {{"FilterPolicy", R"({"to_status":["WAITING_FOR_DATA"]})"}});
  ASSERT_TRUE(sub) << sub.error().ToString();
  ASSERT_TRUE(sns_->SetSubscriptionAttributes(*sub, "RawMessageDelivery", "true"));
  ASSERT_TRUE(sns_->Publish(topic_, "skip", {{"to_status", "ERROR"}}));
  ASSERT_TRUE(sns_->Publish(topic_, "raw body", {{"to_status", "WAITING_FOR_DATA"}, {"k", "v"}}));
  auto got = Drain();
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].body, "raw body");
  EXPECT_EQ(got[0].message_attributes,
            (AttributeMap{{"k", "v"}, {"to_status", "WAITING_FOR_DATA"}}));
}

TEST_F(SnsMotoTest, UnsubscribeAndDeleteTopic) {
  auto sub = sns_->Subscribe(topic_, "sqs", queue_arn_);
  ASSERT_TRUE(sub) << sub.error().ToString();
  ASSERT_TRUE(sns_->Unsubscribe(*sub));
  auto subs = sns_->ListSubscriptionsByTopic(topic_);
  ASSERT_TRUE(subs);
  EXPECT_TRUE(subs->empty());
  ASSERT_TRUE(sns_->DeleteTopic(topic_));
  auto pub = sns_->Publish(topic_, "x");
  ASSERT_FALSE(pub);
  EXPECT_EQ(pub.error().code, ErrorCode::kNotFound);
  EXPECT_TRUE(pub.error().message.starts_with("SNS Publish: NotFound")) << pub.error().message;
}

}  // namespace
}  // namespace dripr::aws
