// No secret (secret access key, session token) in any error message or log line produced
// while talking to moto_server with fake credentials, failures included.

#include <gtest/gtest.h>

#include "aws/moto.h"
#include "aws/settings.h"
#include "aws/test_server.h"
#include "dripr/bus/aws/aws_bus.h"
#include "dripr/bus/aws/infra.h"
#include "support/captured_log.h"

namespace dripr::aws {
namespace {

using namespace std::chrono_literals;

using dripr::testing::CapturedLog;

TEST(NoSecrets, InErrorsOrLogsWhileTalkingToMoto) {
  DRIPR_REQUIRE_MOTO();
  CapturedLog log;
  std::vector<std::string> messages;
  auto note = [&](const auto& result) {
    if (!result) messages.push_back(result.error().ToString());
  };

  // The whole stack as the service builds it, from the environment.
  Env env = Env::FromMap({{"AWS_ACCESS_KEY_ID", testing::kFakeKeyId},
                          {"AWS_SECRET_ACCESS_KEY", testing::kFakeSecret},
                          {"AWS_SESSION_TOKEN", testing::kFakeToken},
                          {"AWS_REGION", "us-east-1"},
                          {"AWS_ENDPOINT_URL", testing::MotoUrl()},
                          {"HOME", "/nonexistent"}});
  auto clients = InfraClientsFromSettings(dripr::testing::SettingsOf(env));
  ASSERT_TRUE(clients) << clients.error().ToString();
  InfraOptions opts{.name_prefix = testing::UniqueName("secrets") + "-"};
  auto up = InfraUp(*clients->sns, *clients->sqs, opts);
  ASSERT_TRUE(up) << up.error().ToString();

  Env bus_env = env;
  bus_env.Set("SNS_CAMPAIGN_EVENTS_TOPIC_ARN", up->topic_arn);
  bus_env.Set("SQS_LOCAL_MARKET_UPDATES_QUEUE_URL", up->queue_urls[0]);
  bus_env.Set("SQS_ACTIVE_LISTINGS_QUEUE_URL", up->queue_urls[1]);
  bus_env.Set("SQS_RECENT_SALES_QUEUE_URL", up->queue_urls[2]);
  auto bus = OpenAwsBus(dripr::testing::SettingsOf(bus_env));
  ASSERT_TRUE(bus) << bus.error().ToString();
  Queue& work = (*bus)->WorkQueue(DataPart::kActiveListings);
  ASSERT_TRUE((*bus)->CampaignEvents().Publish(
      {R"({"payload":{"to_status":"WAITING_FOR_DATA"}})", {{"k", "v"}}}));
  auto got = work.Receive(10, 2s);
  ASSERT_TRUE(got) << got.error().ToString();
  ASSERT_EQ(got->size(), 1u);
  note(work.Delete("bogus-receipt"));
  auto batch = work.DeleteBatch({(*got)[0].receipt_handle, "bogus"});
  ASSERT_TRUE(batch);
  for (const auto& s : *batch) note(s);
  note((*bus)->DeadLetterQueue(DataPart::kActiveListings).Stats());

  // Failures: missing queue and topic, malformed parameters, unreachable broker.
  note(clients->sqs->GetQueueUrl("no-such-queue-" + testing::UniqueName("x")));
  note(clients->sqs->SendMessage(testing::MotoUrl() + "/123456789012/no-such-queue", "x"));
  note(clients->sns->Publish("arn:aws:sns:us-east-1:123456789012:no-such-topic", "x"));
  note(clients->sqs->SetQueueAttributes(up->queue_urls[0], {{"VisibilityTimeout", "-5"}}));
  note(clients->sqs->ChangeMessageVisibilityBatch(up->queue_urls[0], {{"bogus", 99999s}}));
  {
    std::string dead;
    {
      dripr::testing::TestServer gone;
      gone.Start();
      dead = gone.Url();
    }
    Env down_env = bus_env;
    down_env.Set("AWS_ENDPOINT_URL", dead);
    auto down_bus = OpenAwsBus(dripr::testing::SettingsOf(down_env));
    ASSERT_TRUE(down_bus);
    auto r = (*down_bus)->WorkQueue(DataPart::kRecentSales).Receive(1, 0ms);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, ErrorCode::kUnavailable);
    note(r);
    note((*down_bus)->CampaignEvents().Publish({"x", {}}));
    note((*down_bus)->DeadLetterQueue(DataPart::kRecentSales).Stats());
  }
  // A half-configured environment.
  Env half = Env::FromMap(
      {{"AWS_ACCESS_KEY_ID", testing::kFakeKeyId}, {"AWS_SESSION_TOKEN", testing::kFakeToken}});
  note(CredentialsFromEnv(dripr::testing::SettingsOf(half)));
  auto creds = CredentialsFromEnv(dripr::testing::SettingsOf(env));
  ASSERT_TRUE(creds);
  messages.push_back(creds->ToString());

  ASSERT_TRUE(InfraDown(*clients->sns, *clients->sqs, opts));

  EXPECT_GE(messages.size(), 11u);
  std::string all = log.Text();
  for (const auto& m : messages) all += m + "\n";
  EXPECT_EQ(all.find(testing::kFakeSecret), std::string::npos) << all;
  EXPECT_EQ(all.find(testing::kFakeToken), std::string::npos) << all;
  // The check is not vacuous: errors and logs were produced.
  EXPECT_NE(all.find("ReceiptHandleIsInvalid"), std::string::npos) << all;
  EXPECT_NE(all.find("[aws] using Credentials{key=AKIA"), std::string::npos) << all;
}

}  // namespace
}  // namespace dripr::aws
