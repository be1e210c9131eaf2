#pragma once
// Client options for the AWS fuzz targets: static credentials, the given transport, one
// attempt unless asked, no real sleeping (docs/decisions/fuzzing.md).

#include <chrono>
#include <memory>
#include <string>

#include "dripr/bus/aws/aws_client.h"
#include "dripr/bus/aws/credentials.h"
#include "fuzz_support.h"

namespace dripr::fuzz {

// A ticker on which time stands still and every wait ends at once: retries cost nothing and
// nothing is recorded (ManualTicker keeps every sleep, which a long fuzz run would pile up).
class NoWaitTicker final : public Ticker {
 public:
  TimePoint Now() const override { return {}; }
  void SleepUntil(TimePoint) override {}
  bool WaitUntil(std::unique_lock<std::mutex>&, std::condition_variable&, TimePoint,
                 const Predicate& done) override {
    return done();
  }
};

inline aws::ClientOptions FuzzClientOptions(HttpClientPtr http, std::string endpoint,
                                            int max_attempts = 1) {
  aws::ClientOptions o;
  o.region = "us-east-1";
  o.endpoint = std::move(endpoint);
  o.credentials = aws::NewStaticCredentialsProvider(
      {.access_key_id = "AKIDFUZZ", .secret_access_key = "fuzz-secret", .source = "fuzz"});
  o.http = std::move(http);
  o.retry.max_attempts = max_attempts;
  static NoWaitTicker ticker;
  static ScriptedRandom random;  // fixed jitter
  o.ticker = &ticker;
  o.random = &random;
  return o;
}

// The reply targets' input (sqs_reply_fuzz, sns_reply_fuzz): byte 0 the HTTP status
// (StatusFromByte), byte 1 the operation, the rest the reply body. Runs `call(client,
// operation)` on a Client (SqsClient, SnsClient) at `endpoint` whose server answers every
// request so; an input too short for that is skipped. Returns libFuzzer's 0.
template <class Client, class Call>
int OnScriptedReply(const uint8_t* data, size_t size, std::string endpoint, Call call) {
  if (size < 2) return 0;
  auto http = std::make_shared<ScriptedHttp>(
      StatusFromByte(data[0]), std::string(reinterpret_cast<const char*>(data) + 2, size - 2));
  Client client(FuzzClientOptions(std::move(http), std::move(endpoint)));
  call(client, data[1]);
  return 0;
}

}  // namespace dripr::fuzz
