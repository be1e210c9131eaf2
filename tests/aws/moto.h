#pragma once
// Access to the moto_server the test run provides (DRIPR_TEST_MOTO_URL). Tests skip only
// when the variable is unset; CI always sets it.

#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include "dripr/bus/aws/aws_client.h"
#include "dripr/bus/aws/sns_client.h"
#include "dripr/bus/aws/sqs_client.h"

namespace dripr::aws::testing {

// Fake credentials; distinctive so a test can check they never leak into messages.
inline constexpr char kFakeKeyId[] = "AKIAMOTOFAKEKEYID000";
inline constexpr char kFakeSecret[] = "moto-fake-secret-Zq8R1wXy2vU3tS4";
inline constexpr char kFakeToken[] = "moto-fake-session-token-Kp7Lm9Nn0Oo1Pp2";

inline std::string MotoUrl() {
  const char* url = std::getenv("DRIPR_TEST_MOTO_URL");
  return url == nullptr ? "" : url;
}

#define DRIPR_REQUIRE_MOTO()                                      \
  do {                                                            \
    if (::dripr::aws::testing::MotoUrl().empty()) {               \
      GTEST_SKIP() << "DRIPR_TEST_MOTO_URL not set (CI sets it)"; \
    }                                                             \
  } while (0)

inline Credentials FakeCredentials() {
  return Credentials{.access_key_id = kFakeKeyId,
                     .secret_access_key = kFakeSecret,
                     .session_token = kFakeToken,
                     .source = "test"};
}

inline ClientOptions MotoOptions() {
  ClientOptions o;
  o.region = "us-east-1";
  o.endpoint = MotoUrl();
  o.credentials = NewStaticCredentialsProvider(FakeCredentials());
  o.http = NewCurlHttpClient();
  o.retry.base_delay = std::chrono::milliseconds(20);
  return o;
}

// A name no other test (or earlier run against the same moto) uses.
inline std::string UniqueName(const std::string& prefix) {
  static std::atomic<int> counter{0};
  auto now = std::chrono::system_clock::now().time_since_epoch();
  return prefix + "-" + std::to_string(::getpid()) + "-" +
         std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(now).count() %
                        100000000) +
         "-" + std::to_string(counter++);
}

// A fixture with SNS and SQS clients on moto (tests skip when there is none) and the
// topics, queues and draining the moto suites share. A derived SetUp calls MotoTest::SetUp()
// first and returns when IsSkipped().
class MotoTest : public ::testing::Test {
 protected:
  struct MotoQueue {
    std::string url;
    std::string arn;
  };

  void SetUp() override {
    DRIPR_REQUIRE_MOTO();
    sns_ = std::make_shared<SnsClient>(MotoOptions());
    sqs_ = std::make_shared<SqsClient>(MotoOptions());
  }

  // Creates a topic with a unique name starting with `prefix`; its ARN in *arn.
  void NewTopic(const std::string& prefix, std::string* arn) {
    auto created = sns_->CreateTopic(UniqueName(prefix));
    ASSERT_TRUE(created) << created.error().ToString();
    *arn = *created;
  }
  // Creates a queue with a unique name starting with `prefix`; its URL and ARN in *queue.
  void NewQueue(const std::string& prefix, MotoQueue* queue) {
    auto url = sqs_->CreateQueue(UniqueName(prefix));
    ASSERT_TRUE(url) << url.error().ToString();
    auto attrs = sqs_->GetQueueAttributes(*url, {"QueueArn"});
    ASSERT_TRUE(attrs) << attrs.error().ToString();
    *queue = {*url, attrs->at("QueueArn")};
  }
  // Messages on `url` within about a second (the queue is drained).
  std::vector<SqsMessage> Drain(const std::string& url) {
    std::vector<SqsMessage> out;
    for (;;) {
      auto got = sqs_->ReceiveMessage(url, {.max_messages = 10, .wait = std::chrono::seconds(1)});
      if (!got || got->empty()) return out;
      for (auto& m : *got) out.push_back(std::move(m));
    }
  }

  std::shared_ptr<SnsClient> sns_;
  std::shared_ptr<SqsClient> sqs_;
};

}  // namespace dripr::aws::testing
