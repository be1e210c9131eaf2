#pragma once
// Helpers shared by infra.cc (status, down) and infra_up.cc. Not a public interface.

#include <array>
#include <nlohmann/json.hpp>
#include <string>

#include "dripr/bus/aws/aws_settings.h"
#include "dripr/bus/aws/sns_client.h"
#include "dripr/bus/aws/sqs_client.h"

namespace dripr::aws::infra_internal {

// The variables naming the work queues, indexed by DataPart (aws_settings.h).
using aws::kQueueUrlVars;

// Equal as JSON documents (false when either does not parse).
bool SameJson(const std::string& a, const std::string& b);
// The queue's URL, or "" when it does not exist.
Result<std::string> FindQueue(SqsClient& sqs, const std::string& name);
// The ARN of the topic called `name`, or "" when there is none (read-only, unlike CreateTopic).
Result<std::string> FindTopic(SnsClient& sns, const std::string& name);
// `arn` when that topic exists, else "".
Result<std::string> FindTopicArn(SnsClient& sns, const std::string& arn);
Result<std::string> QueueArn(SqsClient& sqs, const std::string& url);
// j[key] when j is an object and that member is a string, else "" (foreign JSON never throws).
std::string StringField(const nlohmann::json& j, const char* key);
// The last ':'-separated field of an ARN (a topic's or queue's name).
std::string NameFromArn(const std::string& arn);

}  // namespace dripr::aws::infra_internal
