#pragma once
// `dripr infra up|status|down`: the pipeline's SNS topic, SQS work queues, their DLQs,
// redrive and access policies and the filtered subscriptions, per environment ("dev",
// "prod"). Names follow the migration plan: dripr-campaign-events-topic-ENV,
// dripr-local-market-updates-queue-ENV, dripr-active-listings-queue-ENV,
// dripr-recent-sales-queue-ENV, each with "<queue>-dlq".
//
// Subscriptions filter on the message body (FilterPolicyScope=MessageBody,
// {"payload":{"to_status":["WAITING_FOR_DATA"]}}) so that events published without message
// attributes (the Python db_client) are delivered too.

#include <array>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "dripr/bus/aws/sns_client.h"
#include "dripr/bus/aws/sqs_client.h"
#include "dripr/core/env.h"

namespace dripr::aws {

inline constexpr char kWaitingForDataBodyFilter[] =
    R"({"payload":{"to_status":["WAITING_FOR_DATA"]}})";

struct InfraOptions {
  std::string env_name = "dev";  // "dev" or "prod"
  int max_receive_count = 5;     // RedrivePolicy
  std::chrono::seconds visibility_timeout{30};
  std::chrono::seconds message_retention{4 * 24 * 3600};
  std::chrono::seconds dlq_retention{14 * 24 * 3600};
  std::string filter_policy = kWaitingForDataBodyFilter;
  bool raw_message_delivery = false;  // false: SNS envelope (what the Python consumers expect)
  std::string name_prefix;            // prepended to every name; lets tests share a moto
};

struct InfraNames {
  std::string topic;
  std::array<std::string, 3> queues;  // indexed by DataPart
  std::array<std::string, 3> dlqs;
  // kInvalidArgument unless env_name is "dev" or "prod".
  static Result<InfraNames> For(std::string_view env_name, std::string_view prefix = "");
};

struct InfraUpResult {
  std::string topic_arn;
  std::array<std::string, 3> queue_urls;
  std::array<std::string, 3> dlq_urls;
  std::vector<std::string> actions;  // "created queue X", "updated subscription for X", ...
  // SNS_CAMPAIGN_EVENTS_TOPIC_ARN=…, SQS_LOCAL_MARKET_UPDATES_QUEUE_URL=…,
  // SQS_ACTIVE_LISTINGS_QUEUE_URL=…, SQS_RECENT_SALES_QUEUE_URL=…, EVENT_BUS=aws
  std::vector<std::string> env_lines;
  // {"topic_arn", "queue_urls":[3], "dlq_urls":[3], "actions":[...], "env":{NAME: value}}
  nlohmann::json ToJson() const;
};

// Creates what is missing and converges what exists (queue attributes, subscription
// attributes; duplicate subscriptions of one queue are removed). Safe to run repeatedly,
// including after moto_server lost its state.
Result<InfraUpResult> InfraUp(SnsClient& sns, SqsClient& sqs, const InfraOptions& options);

struct InfraQueueStatus {
  std::string name;
  std::string url;  // empty when the queue does not exist
  int64_t visible = 0;
  int64_t in_flight = 0;
  std::string dlq_name;
  std::string dlq_url;  // empty when missing
  int64_t dlq_visible = 0;
  int max_receive_count = 0;  // from RedrivePolicy, 0 when none
  bool subscribed = false;
  std::string filter_policy;  // of the subscription, "" when none
  std::string filter_policy_scope;
  bool raw_message_delivery = false;
  bool FilterOk() const;  // the WAITING_FOR_DATA body filter is in place
};

struct InfraStatusResult {
  std::string env_name;
  std::string topic_name;
  std::string topic_arn;  // empty when the topic does not exist
  std::array<InfraQueueStatus, 3> queues;
  // Everything exists, every queue has a DLQ, redrive and the body filter.
  bool Complete() const;
  nlohmann::json ToJson() const;
  // A small table for humans.
  std::string ToText() const;
};

// Read-only.
Result<InfraStatusResult> InfraStatus(SnsClient& sns, SqsClient& sqs, const InfraOptions& options);

// Deletes the subscriptions, the topic, the queues and the DLQs of the environment. Missing
// pieces are skipped. Returns what was deleted.
Result<std::vector<std::string>> InfraDown(SnsClient& sns, SqsClient& sqs,
                                           const InfraOptions& options);

// Clients for the CLI from the environment (region, endpoints, credentials chain; see
// ClientOptionsFromEnv in aws_bus.h).
struct InfraClients {
  std::shared_ptr<SnsClient> sns;
  std::shared_ptr<SqsClient> sqs;
};
Result<InfraClients> InfraClientsFromEnv(const Env& env);

}  // namespace dripr::aws
