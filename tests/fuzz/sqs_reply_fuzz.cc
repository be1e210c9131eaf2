// libFuzzer target: SQS JSON replies and SQS error bodies, through the real SqsClient over a
// scripted transport (docs/decisions/fuzzing.md). Input: one byte choosing the HTTP status
// (fuzz::StatusFromByte) and one choosing the operation, then the reply body.
//
// Checked beyond "no crash": failures are never kInternal and carry a bounded, valid UTF-8
// message; a batch call returns exactly one Status per entry; pagination ends.

#include "dripr/bus/aws/sqs_client.h"
#include "fuzz_aws.h"
#include "fuzz_support.h"

// One operation, chosen by `operation`, against the scripted reply.
static void CallSqs(dripr::aws::SqsClient& sqs, uint8_t operation) {
  using namespace dripr;
  const std::string url = "http://sqs.invalid/123456789012/q";
  switch (operation % 6) {
    case 0: {
      auto r = sqs.ReceiveMessage(url, {.max_messages = 10});
      fuzz::CheckResult(r);
      break;
    }
    case 1: {
      auto r = sqs.DeleteMessageBatch(url, {"r1", "r2", "r3"});
      fuzz::CheckResult(r);
      if (r) fuzz::Check(r->size() == 3);
      if (r)
        for (const Status& s : *r)
          if (!s) fuzz::CheckError(s.error());
      break;
    }
    case 2: {
      auto r = sqs.ChangeMessageVisibilityBatch(url, {{"r1", std::chrono::seconds(5)}});
      fuzz::CheckResult(r);
      if (r) fuzz::Check(r->size() == 1);
      break;
    }
    case 3:
      fuzz::CheckResult(sqs.GetQueueAttributes(url));
      break;
    case 4:
      fuzz::CheckResult(sqs.ListQueues("dripr-"));
      break;
    default:
      fuzz::CheckResult(sqs.SendMessage(url, "{}"));
      fuzz::CheckResult(sqs.GetQueueUrl("q"));
      break;
  }
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  return dripr::fuzz::OnScriptedReply<dripr::aws::SqsClient>(data, size, "http://sqs.invalid",
                                                             CallSqs);
}
