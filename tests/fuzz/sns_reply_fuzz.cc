// libFuzzer target: SNS XML (Query protocol) replies and SNS error bodies, through the real
// SnsClient over a scripted transport (docs/decisions/fuzzing.md). Input: one byte choosing
// the HTTP status, one choosing the operation, then the reply body.
//
// Checked beyond "no crash": failures are never kInternal and carry a bounded, valid UTF-8
// message; pagination ends.

#include "dripr/bus/aws/sns_client.h"
#include "fuzz_aws.h"
#include "fuzz_support.h"

// One operation, chosen by `operation`, against the scripted reply.
static void CallSns(dripr::aws::SnsClient& sns, uint8_t operation) {
  using namespace dripr;
  const std::string topic = "arn:aws:sns:us-east-1:123456789012:t";
  switch (operation % 6) {
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
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  return dripr::fuzz::OnScriptedReply<dripr::aws::SnsClient>(data, size, "http://sns.invalid",
                                                             CallSns);
}
