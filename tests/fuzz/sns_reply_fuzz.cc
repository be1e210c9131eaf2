// libFuzzer target: SNS XML (Query protocol) replies and SNS error bodies, through the real
// SnsClient over a scripted transport (docs/decisions/fuzzing.md). Input: one byte choosing
// the HTTP status, one choosing the operation, then the reply body.
//
// Checked beyond "no crash": failures are never kInternal and carry a bounded, valid UTF-8
// message; pagination ends.

#include <memory>

#include "dripr/bus/aws/sns_client.h"
#include "fuzz_aws.h"
#include "fuzz_support.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace dripr;
  if (size < 2) return 0;
  auto http = std::make_shared<fuzz::ScriptedHttp>(
      fuzz::StatusFromByte(data[0]),
      std::string(reinterpret_cast<const char*>(data) + 2, size - 2));
  auto o = fuzz::FuzzClientOptions(http, "http://sns.invalid");
  aws::SnsClient sns(o);
  const std::string topic = "arn:aws:sns:us-east-1:123456789012:t";
  switch (data[1] % 6) {
    case 0:
      fuzz::CheckResult(sns.Publish(topic, "{}", {{"k", "v"}}));
      break;
    case 1:
      fuzz::CheckResult(sns.ListTopics());
      break;
    case 2:
      fuzz::CheckResult(sns.ListSubscriptionsByTopic(topic));
      break;
    case 3:
      fuzz::CheckResult(sns.GetSubscriptionAttributes(topic + ":sub"));
      break;
    case 4:
      fuzz::CheckResult(sns.CreateTopic("t"));
      break;
    default:
      fuzz::CheckResult(sns.Subscribe(topic, "sqs", "arn:aws:sqs:us-east-1:123456789012:q"));
      break;
  }
  return 0;
}
