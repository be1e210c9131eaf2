// The bus contract suite (tests/support/bus_contract.h) on SNS/SQS served by moto_server.
// Every test gets its own uniquely named topic, work queue and DLQ (no global reset, so
// tests running against the same moto do not disturb each other).

#include <nlohmann/json.hpp>

#include "aws/moto.h"
#include "dripr/bus/aws/aws_bus.h"
#include "support/bus_contract.h"

namespace dripr::aws {
namespace {

using dripr::testing::BusContractName;
using dripr::testing::BusContractParam;
using dripr::testing::BusContractSetup;
using dripr::testing::BusContractTest;

constexpr char kBodyFilter[] = R"({"payload":{"to_status":["WAITING_FOR_DATA"]}})";

// Deletes what a test created.
struct MotoResources {
  std::shared_ptr<SqsClient> sqs;
  std::shared_ptr<SnsClient> sns;
  std::string topic_arn;
  std::vector<std::string> queue_urls;
  ~MotoResources() {  // best-effort clean-up: moto is discarded after the run anyway
    if (sns && !topic_arn.empty()) (void)sns->DeleteTopic(topic_arn);
    for (const auto& u : queue_urls) (void)sqs->DeleteQueue(u);
  }
};

void SkipWithoutMoto() { GTEST_SKIP() << "DRIPR_TEST_MOTO_URL not set (CI sets it)"; }

// Without moto: marks the test skipped (gtest then runs no test body) and returns objects
// that are never used. The instances always exist, so ctest's build-time discovery (run
// without DRIPR_TEST_MOTO_URL) lists them.
BusContractSetup SkippedSetup() {
  SkipWithoutMoto();
  ClientOptions o;
  o.endpoint = "http://127.0.0.1:9";
  auto sqs = std::make_shared<SqsClient>(o);
  BusContractSetup s;
  s.topic = std::make_unique<SnsTopic>(std::make_shared<SnsClient>(o), "arn:aws:sns:x:1:t");
  s.work = std::make_unique<SqsQueue>(sqs, o.endpoint + "/1/w");
  s.dlq = std::make_unique<SqsQueue>(sqs, o.endpoint + "/1/d");
  return s;
}

Result<BusContractSetup> MakeMotoSetup(bool raw) {
  if (testing::MotoUrl().empty()) return SkippedSetup();
  auto res = std::make_shared<MotoResources>();
  res->sqs = std::make_shared<SqsClient>(testing::MotoOptions());
  res->sns = std::make_shared<SnsClient>(testing::MotoOptions());
  const std::string base = testing::UniqueName("contract");
  DRIPR_ASSIGN_OR_RETURN(auto dlq_url, res->sqs->CreateQueue(base + "-dlq"));
  res->queue_urls.push_back(dlq_url);
  DRIPR_ASSIGN_OR_RETURN(auto dlq_attrs, res->sqs->GetQueueAttributes(dlq_url, {"QueueArn"}));
  const std::string redrive =
      nlohmann::json{{"deadLetterTargetArn", dlq_attrs["QueueArn"]}, {"maxReceiveCount", 3}}.dump();
  DRIPR_ASSIGN_OR_RETURN(auto work_url, res->sqs->CreateQueue(base, {{"RedrivePolicy", redrive},
                                                                     {"VisibilityTimeout", "30"}}));
  res->queue_urls.push_back(work_url);
  DRIPR_ASSIGN_OR_RETURN(auto work_attrs, res->sqs->GetQueueAttributes(work_url, {"QueueArn"}));
  DRIPR_ASSIGN_OR_RETURN(res->topic_arn, res->sns->CreateTopic(base + "-topic"));
  std::map<std::string, std::string> sub_attrs = {{"FilterPolicy", kBodyFilter},
                                                  {"FilterPolicyScope", "MessageBody"}};
  if (raw) sub_attrs["RawMessageDelivery"] = "true";
  DRIPR_TRY(res->sns->Subscribe(res->topic_arn, "sqs", work_attrs["QueueArn"], sub_attrs));

  BusContractSetup s;
  s.topic = std::make_unique<SnsTopic>(res->sns, res->topic_arn);
  s.work = std::make_unique<SqsQueue>(res->sqs, work_url);
  // The DLQ found the way AwsBus finds it: from the work queue's RedrivePolicy.
  s.dlq = std::make_unique<RedriveTargetQueue>(res->sqs, work_url);
  s.max_receive_count = 3;
  s.raw_delivery = raw;
  s.owner = res;
  return s;
}

}  // namespace
}  // namespace dripr::aws

namespace dripr::testing {
namespace {

INSTANTIATE_TEST_SUITE_P(
    Moto, BusContractTest,
    ::testing::Values(BusContractParam{"envelope", [] { return aws::MakeMotoSetup(false); }},
                      BusContractParam{"raw", [] { return aws::MakeMotoSetup(true); }}),
    BusContractName);

}  // namespace
}  // namespace dripr::testing
