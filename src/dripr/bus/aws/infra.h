#pragma once
// `dripr infra up|status|down`: the pipeline's SNS topic, SQS work queues, their DLQs,
// redrive and access policies and the filtered subscriptions, per environment ("dev",
// "prod"). Names follow the migration plan: dripr-campaign-events-topic-ENV,
// dripr-local-market-updates-queue-ENV, dripr-active-listings-queue-ENV,
// dripr-recent-sales-queue-ENV, each with "<queue>-dlq".
//
// `infra up` adopts what exists (docs/decisions/awsinfra.md): the topic and queues named by
// the environment (SNS_CAMPAIGN_EVENTS_TOPIC_ARN, SQS_*_QUEUE_URL) or, without them, the
// expected names; it creates what is missing and adds what is absent, but changes a value
// someone else set (a queue attribute, a subscription's filter policy) only with `force`.
// Queue access policies are merged by statement Sid; subscriptions of other endpoints are
// never touched.
//
// Subscriptions filter on the message body (sqs::kFilterPolicyScope,
// sqs::kWaitingForDataBodyFilter) so that events published without message attributes (the
// Python db_client) are delivered too.

#include <array>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "dripr/bus/aws/aws_settings.h"
#include "dripr/bus/aws/sns_client.h"
#include "dripr/bus/aws/sqs_client.h"
#include "dripr/bus/sqs_limits.h"

namespace dripr::aws {

// The Sid of the statement `infra up` owns in each work queue's access policy.
inline constexpr char kTopicPolicySid[] = "AllowCampaignEventsTopic";

struct InfraOptions {
  std::string env_name = "dev";  // "dev" or "prod"
  int max_receive_count = 5;     // RedrivePolicy
  std::chrono::seconds visibility_timeout{30};
  std::chrono::seconds message_retention{4 * 24 * 3600};
  std::chrono::seconds dlq_retention{14 * 24 * 3600};
  std::string filter_policy = std::string(sqs::kWaitingForDataBodyFilter);
  bool raw_message_delivery = false;  // false: SNS envelope (what the Python consumers expect)
  std::string name_prefix;            // prepended to every name; lets tests share a moto
  // Resources to adopt (see AdoptFromSettings); empty: the names for env_name.
  std::string topic_arn;
  std::array<std::string, 3> queue_urls;  // indexed by DataPart
  bool dry_run = false;                   // plan only: read, never write
  bool force = false;  // also change values that differ from dripr's (not only absent ones)
};

// Fills options.topic_arn / queue_urls from SNS_CAMPAIGN_EVENTS_TOPIC_ARN and
// SQS_LOCAL_MARKET_UPDATES_QUEUE_URL, SQS_ACTIVE_LISTINGS_QUEUE_URL,
// SQS_RECENT_SALES_QUEUE_URL where set (in `settings`). kInvalidArgument (naming the variable)
// for a value that is not an SNS topic ARN / an http(s) queue URL.
Status AdoptFromSettings(const AwsSettings& settings, InfraOptions& options);

struct InfraNames {
  std::string topic;
  std::array<std::string, 3> queues;  // indexed by DataPart
  std::array<std::string, 3> dlqs;
  // kInvalidArgument unless env_name is "dev" or "prod".
  static Result<InfraNames> For(std::string_view env_name, std::string_view prefix = "");
};

// One line of `infra up`'s plan.
struct InfraStep {
  std::string resource;  // "topic", "dlq", "queue", "queue policy", "subscription"
  std::string name;      // the topic's or queue's name
  std::string action;    // "create", "reuse" (as it is), "change", "keep" (differs; see detail)
  std::string detail;    // what changes, or why something is kept
  nlohmann::json ToJson() const;  // {"resource","name","action","detail"}
  std::string ToText() const;     // "create  queue         NAME: detail"
};

struct InfraUpResult {
  bool dry_run = false;
  std::string topic_arn;  // empty in a dry run when the topic would be created
  std::array<std::string, 3> queue_urls;
  std::array<std::string, 3> dlq_urls;
  std::vector<InfraStep> plan;  // resource by resource, in the order applied
  // SNS_CAMPAIGN_EVENTS_TOPIC_ARN=…, SQS_LOCAL_MARKET_UPDATES_QUEUE_URL=…,
  // SQS_ACTIVE_LISTINGS_QUEUE_URL=…, SQS_RECENT_SALES_QUEUE_URL=…, EVENT_BUS=aws (empty in a
  // dry run)
  std::vector<std::string> env_lines;
  // {"dry_run", "plan":[InfraStep...], "topic_arn", "queue_urls":[3], "dlq_urls":[3],
  //  "env":{NAME: value}}
  nlohmann::json ToJson() const;
};

// Adopts what exists, creates what is missing (see the header comment). With
// options.dry_run only reads and returns the plan. Safe to run repeatedly, including after
// moto_server lost its state (a topic or queue named by the environment that does not exist
// is created under that name).
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

// Read-only. Reports on the adopted topic and queues when options name them.
Result<InfraStatusResult> InfraStatus(SnsClient& sns, SqsClient& sqs, const InfraOptions& options);

// Deletes the environment's queues, DLQs and their subscriptions, and the topic unless other
// endpoints are still subscribed to it (those are never touched). Missing pieces are
// skipped. Returns what was done, one line each.
Result<std::vector<std::string>> InfraDown(SnsClient& sns, SqsClient& sqs,
                                           const InfraOptions& options);

// Clients for the CLI from the settings (region, endpoints, credentials chain; see
// ClientOptionsFromSettings in aws_bus.h). `ticker` and `random` (null: the real ones; they
// must outlive the clients) time their retries.
struct InfraClients {
  std::shared_ptr<SnsClient> sns;
  std::shared_ptr<SqsClient> sqs;
};
Result<InfraClients> InfraClientsFromSettings(const AwsSettings& settings, Ticker* ticker = nullptr,
                                              Random* random = nullptr);

}  // namespace dripr::aws
