#pragma once
// Access to the moto_server the test run provides (DRIPR_TEST_MOTO_URL). Tests skip only
// when the variable is unset; CI always sets it.

#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <string>

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

}  // namespace dripr::aws::testing
