// Consumer::GiveUp and long or hostile failure reasons: the DLQ copy must be accepted (the
// embedded bus, like SQS, refuses attribute values that are not valid UTF-8), so a reason is
// cut on a character boundary and its control characters and bad bytes are escaped.

#include <gtest/gtest.h>

#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "bus/broker_fixture.h"
#include "dripr/bus/embedded/embedded_bus.h"
#include "dripr/core/text.h"
#include "dripr/fetcher/consumer.h"
#include "support/poll.h"

namespace dripr {
namespace {

using namespace std::chrono_literals;
using testing::Eventually;

class FailingHandler : public MessageHandler {
 public:
  explicit FailingHandler(std::string reason) : reason_(std::move(reason)) {}
  HandlerOutcome Handle(const ReceivedMessage&) override {
    return HandlerOutcome::Failure(reason_);
  }
  Status OnFailure(const ReceivedMessage&, const std::string& reason) override {
    std::lock_guard lock(mu_);
    recorded_.push_back(reason);
    return Ok();
  }
  std::vector<std::string> Recorded() {
    std::lock_guard lock(mu_);
    return recorded_;
  }

 private:
  const std::string reason_;
  std::mutex mu_;
  std::vector<std::string> recorded_;
};

class ConsumerReasonTest : public testing::BrokerFixture {
 protected:
  void SetUp() override {
    ASSERT_NO_FATAL_FAILURE(OpenWorkQueues(30s));
    options_.wait_time = 100ms;
    options_.shutdown_deadline = 5s;
  }

  // Runs one message through a consumer whose handler fails; returns the
  // reason attribute of the DLQ copy ("" when none arrived).
  std::string DeadLetterReason(FailingHandler& handler) {
    EXPECT_TRUE(work_->Send({"event", {}}));
    Consumer c("work", *work_, dlq_.get(), handler, options_);
    c.Start();
    bool moved = Eventually([&] {
      auto s = dlq_->Stats();
      return s && s->visible == 1;
    });
    c.RequestStop();
    c.Join();
    if (!moved) return "";
    auto got = dlq_->Receive(10, 0ms, 30s);
    if (!got || got->size() != 1) return "";
    return got->front().attributes.at(std::string(kFailureReasonAttribute));
  }

  ConsumerOptions options_;
};

TEST_F(ConsumerReasonTest, ALongReasonIsCutOnACharacterBoundaryAndDeadLettered) {
  // 999 ASCII bytes, then a 2-byte character across the 1000-byte limit.
  const std::string reason = std::string(999, 'r') + "\xc3\xa9 and more";
  FailingHandler handler(reason);
  const std::string got = DeadLetterReason(handler);
  EXPECT_EQ(got, std::string(999, 'r'));
  ASSERT_EQ(handler.Recorded().size(), 1u);
  EXPECT_EQ(handler.Recorded()[0], got);
}

TEST_F(ConsumerReasonTest, ControlCharactersAndBadBytesAreEscaped) {
  const std::string reason = "provider said: \x1b[2J\xff\xfe caf\xc3\xa9\nline 2";
  FailingHandler handler(reason);
  const std::string got = DeadLetterReason(handler);
  EXPECT_EQ(got, "provider said: \\x1b[2J\\xff\\xfe caf\xc3\xa9\\x0aline 2");
  EXPECT_EQ(FindInvalidUtf8(got), std::string_view::npos);
  EXPECT_EQ(FindControlChar(got), std::string_view::npos);
}

}  // namespace
}  // namespace dripr
