#pragma once
// The AWS backend of the bus interfaces (bus/bus.h): SnsTopic publishes to an SNS topic,
// SqsQueue consumes an SQS queue; AwsBus wires the pipeline's topic, work queues and DLQs.
// Passes tests/support/bus_contract.h on moto_server.
//
// Nothing here touches the network at construction: a broker that is down shows up as
// kUnavailable from the first call, and the caller (consumer engine, relay) retries.

#include <array>
#include <atomic>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>

#include "dripr/bus/aws/aws_settings.h"
#include "dripr/bus/aws/sns_client.h"
#include "dripr/bus/aws/sqs_client.h"
#include "dripr/bus/bus.h"
#include "dripr/bus/forwarding_queue.h"

namespace dripr::aws {

class SqsQueue final : public Queue {
 public:
  SqsQueue(std::shared_ptr<SqsClient> client, std::string queue_url);

  std::string Name() const override { return name_; }
  const std::string& url() const { return url_; }

  Result<std::string> Send(const OutgoingMessage& m) override;
  // SQS waits in whole seconds: `wait` is rounded to the nearest second (at most 20 s).
  Result<std::vector<ReceivedMessage>> Receive(
      int max_messages, std::chrono::milliseconds wait,
      std::optional<std::chrono::seconds> visibility = std::nullopt) override;
  // Abandons the long polls in progress within ~100 ms, unless their reply has started.
  void CancelReceives() override;
  Result<std::vector<Status>> DeleteBatch(const std::vector<std::string>& receipts) override;
  Result<std::vector<Status>> ChangeVisibilityBatch(
      const std::vector<std::pair<std::string, std::chrono::seconds>>& entries) override;
  Result<QueueStats> Stats() override;
  Status Purge() override;

 private:
  const std::shared_ptr<SqsClient> client_;
  const std::string url_;
  const std::string name_;
  std::mutex receives_mu_;
  std::set<CancelToken*> receives_;  // cancel tokens of the calls in Receive; guarded
};

class SnsTopic final : public Topic {
 public:
  SnsTopic(std::shared_ptr<SnsClient> client, std::string topic_arn);
  Result<std::string> Publish(const OutgoingMessage& m) override;
  std::string Name() const override { return name_; }
  // ListSubscriptionsByTopic, then GetSubscriptionAttributes (FilterPolicy,
  // FilterPolicyScope) of each confirmed subscription, evaluated with bus/filter_policy.h:
  // 1 + N calls, every time (subscriptions are not cached). A subscription removed between
  // the two calls is skipped; a policy outside the supported subset is `undecided`.
  Result<SubscriptionMatches> MatchSubscriptions(const OutgoingMessage& m) override;
  const std::string& arn() const { return arn_; }

 private:
  const std::shared_ptr<SnsClient> client_;
  const std::string arn_;
  const std::string name_;
};

// A queue whose URL is found on first use: the dead-letter queue named by another queue's
// RedrivePolicy. Until found, every forwarded call fails with the discovery error
// (kUnavailable while SQS is unreachable, kFailedPrecondition when the queue has no
// RedrivePolicy).
class RedriveTargetQueue final : public ForwardingQueue {
 public:
  RedriveTargetQueue(std::shared_ptr<SqsClient> client, std::string source_queue_url);

  std::string Name() const override;
  // Cancels the found queue's receives; nothing before it is found.
  void CancelReceives() override;

 private:
  // The SqsQueue of the discovered URL, found on the first call.
  Result<Queue*> Target() override;

  const std::shared_ptr<SqsClient> client_;
  const std::string source_url_;
  mutable std::mutex mu_;
  std::unique_ptr<SqsQueue> queue_;  // guarded by mu_ until set, then immutable
};

// The URL of the dead-letter queue in `queue_url`'s RedrivePolicy.
Result<std::string> DeadLetterQueueUrl(SqsClient& sqs, const std::string& queue_url);

// Where the pipeline's topic and queues are. DLQ URLs empty: discovered from RedrivePolicy.
struct AwsBusConfig {
  std::string topic_arn;
  std::array<std::string, 3> work_queue_urls;  // indexed by DataPart
  std::array<std::string, 3> dlq_urls;         // optional
};

class AwsBus final : public Bus {
 public:
  AwsBus(std::shared_ptr<SnsClient> sns, std::shared_ptr<SqsClient> sqs,
         const AwsBusConfig& config);
  Topic& CampaignEvents() override { return *topic_; }
  Queue& WorkQueue(DataPart part) override { return *work_[static_cast<size_t>(part)]; }
  Queue& DeadLetterQueue(DataPart part) override { return *dlq_[static_cast<size_t>(part)]; }

 private:
  std::unique_ptr<SnsTopic> topic_;
  std::array<QueuePtr, 3> work_;
  std::array<QueuePtr, 3> dlq_;
};

// The bus configuration from the settings: SNS_CAMPAIGN_EVENTS_TOPIC_ARN,
// SQS_LOCAL_MARKET_UPDATES_QUEUE_URL, SQS_ACTIVE_LISTINGS_QUEUE_URL,
// SQS_RECENT_SALES_QUEUE_URL (required) and SQS_*_DLQ_URL (optional, e.g.
// SQS_RECENT_SALES_DLQ_URL). kInvalidArgument names what is missing.
Result<AwsBusConfig> AwsBusConfigFromSettings(const AwsSettings& settings);

// Client options from the settings: region (AWS_REGION, AWS_DEFAULT_REGION, profile, else
// the topic ARN's region when `fallback_region` is given), endpoint for `service`
// (AWS_ENDPOINT_URL_<SERVICE>, AWS_ENDPOINT_URL, AWS default), the default credentials chain
// and the libcurl transport. Pass `credentials`/`http` to share them between clients.
Result<ClientOptions> ClientOptionsFromSettings(const AwsSettings& settings,
                                                std::string_view service,
                                                std::string_view fallback_region = "",
                                                CredentialsProviderPtr credentials = nullptr,
                                                HttpClientPtr http = nullptr);

// maxReceiveCount of a RedrivePolicy JSON (a number or a numeric string); 0 when absent or
// malformed.
int RedriveMaxReceiveCount(const std::string& redrive_policy);

// A data fetcher's start-up check (docs/operations.md): every work queue's RedrivePolicy must
// allow more receives than the engine's `max_attempts` (DRIPR_MAX_ATTEMPTS), or SQS would
// move a message to the DLQ before the engine records why. kInvalidArgument naming the queue
// when it does not, or when a queue has no RedrivePolicy and config.dlq_urls has no DLQ for
// it (failures would have nowhere to go). Other errors (SQS unreachable, a queue missing)
// are returned as they are: the caller decides whether to start anyway.
Status CheckRedriveAllowsAttempts(SqsClient& sqs, const AwsBusConfig& config, int max_attempts);

// The region in an ARN ("arn:aws:sns:us-east-1:123456789012:t" -> "us-east-1"), or "".
std::string RegionFromArn(std::string_view arn);

}  // namespace dripr::aws

namespace dripr {

// EVENT_BUS=aws: the bus described by `settings` (see aws::AwsBusConfigFromSettings and
// aws::ClientOptionsFromSettings). Validates configuration only; no network calls. `ticker`
// and `random` (null: the real ones; they must outlive the bus) time the clients' retries.
Result<BusPtr> OpenAwsBus(const aws::AwsSettings& settings, Ticker* ticker = nullptr,
                          Random* random = nullptr);

// aws::CheckRedriveAllowsAttempts on the queues `settings` names (see OpenAwsBus).
Status CheckAwsRedrive(const aws::AwsSettings& settings, int max_attempts, Ticker* ticker = nullptr,
                       Random* random = nullptr);

}  // namespace dripr
