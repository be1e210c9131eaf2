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

}  // namespace
}  // namespace dripr
