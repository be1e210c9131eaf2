// The consumer's settings (src/dripr/fetcher/config.cc) and what the wiring derives from them.
#include "dripr/fetcher/config.h"

#include <gtest/gtest.h>

#include "bus/temp_dir.h"
#include "dripr/bus/embedded/embedded_bus.h"
#include "dripr/core/env.h"
#include "dripr/fetcher/wiring.h"

namespace dripr {
namespace {

// With 0 an empty queue answers at once and every receive loop spins (on SQS, paid short
// polls one after another): refused as a configuration error.
TEST(ConsumerConfigTest, AReceiveWaitOfZeroIsRefused) {
  for (const char* bus : {"embedded", "aws"}) {
    auto config =
        LoadConfig(Env::FromMap({{"EVENT_BUS", bus}, {"DRIPR_RECEIVE_WAIT_SECONDS", "0"}}));
    ASSERT_FALSE(config) << bus;
    EXPECT_EQ(config.error().code, ErrorCode::kInvalidArgument) << bus;
    EXPECT_NE(config.error().message.find("DRIPR_RECEIVE_WAIT_SECONDS"), std::string::npos)
        << config.error().message;
  }
  auto one = LoadConfig(Env::FromMap({{"DRIPR_RECEIVE_WAIT_SECONDS", "1"}}));
  ASSERT_TRUE(one) << one.error().ToString();
  EXPECT_EQ(one->consumer.wait_time, std::chrono::seconds(1));
}

// The embedded work queues' redrive count stays above DRIPR_MAX_ATTEMPTS, so that the engine
// gives up first: its DLQ copy carries the reason and the campaign goes to ERROR (on SQS the
// same is checked at start-up, CheckAwsRedrive).
TEST(ConsumerConfigTest, TheEmbeddedQueuesRedriveStaysAboveMaxAttempts) {
  const std::pair<const char*, int> cases[] = {{"1", 5}, {"4", 5}, {"5", 6}, {"10", 11}};
  for (const auto& [attempts, want] : cases) {
    testing::TempDir dir;
    auto config = LoadConfig(Env::FromMap(
        {{"DRIPR_MAX_ATTEMPTS", attempts}, {"EMBEDDED_BUS_PATH", dir.File("bus.db")}}));
    ASSERT_TRUE(config) << config.error().ToString();
    auto bus = OpenConfiguredBus(*config);
    ASSERT_TRUE(bus) << bus.error().ToString();
    auto* embedded = dynamic_cast<EmbeddedBus*>(bus->get());
    ASSERT_NE(embedded, nullptr);
    for (DataPart part : kAllDataParts) {
      auto q = embedded->broker().GetQueueConfig(std::string(embedded->WorkQueue(part).Name()));
      ASSERT_TRUE(q) << q.error().ToString();
      EXPECT_EQ(q->max_receive_count, want) << "DRIPR_MAX_ATTEMPTS=" << attempts;
    }
  }
}

// The region is pasted into the endpoints' host names and the signed requests carry the access
// key id and a session token: a value that is not a region name, or an endpoint override that
// is not http(s)://host, is a configuration error before anything is sent.
TEST(AwsConfigTest, RegionsAndEndpointOverridesAreChecked) {
  const std::pair<const char*, const char*> bad[] = {
      {"AWS_REGION", "evil.example/x"},
      {"AWS_REGION", "US-EAST-1"},
      {"AWS_DEFAULT_REGION", "us-east-1.evil.example"},
      {"AWS_ENDPOINT_URL", "ftp://127.0.0.1:4566"},
      {"AWS_ENDPOINT_URL", "127.0.0.1:4566"},
      {"AWS_ENDPOINT_URL_SQS", "http://user:pw@127.0.0.1:4566"},
      {"AWS_ENDPOINT_URL_SNS", "https:///path"},
  };
  for (const auto& [name, value] : bad) {
    auto config = LoadConfig(Env::FromMap({{"EVENT_BUS", "aws"}, {name, value}}));
    ASSERT_FALSE(config) << name << "=" << value;
    EXPECT_EQ(config.error().code, ErrorCode::kInvalidArgument) << name << "=" << value;
    EXPECT_NE(config.error().message.find(name), std::string::npos) << config.error().message;
    EXPECT_EQ(config.error().message.find("pw@"), std::string::npos) << config.error().message;
  }
  auto good = LoadConfig(Env::FromMap({{"EVENT_BUS", "aws"},
                                       {"AWS_REGION", "eu-central-1"},
                                       {"AWS_ENDPOINT_URL", "HTTP://127.0.0.1:4566/"},
                                       {"AWS_ENDPOINT_URL_SQS", "https://sqs.example.com"}}));
  ASSERT_TRUE(good) << good.error().ToString();
  EXPECT_EQ(good->aws.region, "eu-central-1");
}

}  // namespace
}  // namespace dripr
