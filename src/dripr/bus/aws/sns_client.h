#pragma once
// Amazon SNS over the Query protocol with XML replies parsed by pugixml
// (docs/reference/aws-sqs-sns.md §3). Thread-safe. Error codes as for SqsClient.

#include <map>
#include <string>
#include <vector>

#include "dripr/bus/aws/aws_client.h"

namespace dripr::aws {

struct SnsSubscription {
  std::string subscription_arn;  // "PendingConfirmation" for unconfirmed non-SQS endpoints
  std::string protocol;          // "sqs"
  std::string endpoint;          // the queue ARN
  std::string topic_arn;
};

class SnsClient {
 public:
  explicit SnsClient(ClientOptions options);

  // Returns the topic ARN; idempotent for an existing topic of the same name.
  Result<std::string> CreateTopic(const std::string& name);
  Status DeleteTopic(const std::string& topic_arn);
  // Topic ARNs (all pages).
  Result<std::vector<std::string>> ListTopics();
  // Returns the subscription ARN. `attributes`: FilterPolicy, FilterPolicyScope,
  // RawMessageDelivery, RedrivePolicy, ...
  Result<std::string> Subscribe(const std::string& topic_arn, const std::string& protocol,
                                const std::string& endpoint,
                                const std::map<std::string, std::string>& attributes = {});
  Status SetSubscriptionAttributes(const std::string& subscription_arn, const std::string& name,
                                   const std::string& value);
  Result<std::map<std::string, std::string>> GetSubscriptionAttributes(
      const std::string& subscription_arn);
  Result<std::vector<SnsSubscription>> ListSubscriptionsByTopic(const std::string& topic_arn);
  Status Unsubscribe(const std::string& subscription_arn);
  // Returns the message id. Attributes are sent as DataType String; none are sent when
  // empty (like the Python db_client).
  Result<std::string> Publish(const std::string& topic_arn, const std::string& message,
                              const std::map<std::string, std::string>& attributes = {},
                              const std::string& subject = "");

  const ClientOptions& options() const { return caller_.options(); }

 private:
  // Sends Action=op&Version=2010-03-31&params; returns the reply body.
  Result<std::string> Call(std::string_view op,
                           const std::vector<std::pair<std::string, std::string>>& params);

  AwsCaller caller_;
};

}  // namespace dripr::aws
