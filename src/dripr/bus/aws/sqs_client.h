#pragma once
// Amazon SQS over the AWS JSON 1.0 protocol (docs/reference/aws-sqs-sns.md §2): the
// operations the consumer engine, the outbox relay and `dripr infra` need. Thread-safe.
// Errors: kNotFound (queue missing), kInvalidArgument (bad parameters, stale receipt handle),
// kPermissionDenied (credentials), kUnavailable / kDeadlineExceeded / kResourceExhausted
// (after bounded retries; retry later).

#include <atomic>
#include <chrono>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "dripr/bus/aws/aws_client.h"

namespace dripr::aws {

using AttributeMap = std::map<std::string, std::string>;

struct SqsMessage {
  std::string message_id;
  std::string receipt_handle;
  std::string body;
  AttributeMap attributes;          // system attributes (ApproximateReceiveCount, SentTimestamp…)
  AttributeMap message_attributes;  // String/Number attributes (StringValue)
};

struct ReceiveOptions {
  int max_messages = 1;                            // 1–10
  std::chrono::seconds wait{0};                    // 0–20 (long poll)
  std::optional<std::chrono::seconds> visibility;  // nullopt: the queue's default
  // Cancel() abandons the long poll while no reply has arrived (HttpRequest::cancel);
  // the call then fails with kUnavailable "cancelled". May be null.
  CancelToken* cancel = nullptr;
};

class SqsClient {
 public:
  explicit SqsClient(ClientOptions options);

  // Returns the queue URL. Idempotent when the attributes match an existing queue.
  Result<std::string> CreateQueue(const std::string& name, const AttributeMap& attributes = {});
  Result<std::string> GetQueueUrl(const std::string& name);
  // `names` e.g. {"All"} or {"QueueArn", "ApproximateNumberOfMessages"}.
  Result<AttributeMap> GetQueueAttributes(const std::string& queue_url,
                                          const std::vector<std::string>& names = {"All"});
  Status SetQueueAttributes(const std::string& queue_url, const AttributeMap& attributes);
  // Returns the message id. Attributes are sent as DataType String.
  Result<std::string> SendMessage(const std::string& queue_url, const std::string& body,
                                  const AttributeMap& message_attributes = {},
                                  int delay_seconds = 0);
  // Asks for all message attributes and ApproximateReceiveCount, SentTimestamp,
  // ApproximateFirstReceiveTimestamp. The HTTP timeout exceeds the wait.
  Result<std::vector<SqsMessage>> ReceiveMessage(const std::string& queue_url,
                                                 const ReceiveOptions& options);
  // One Status per receipt, in input order (any count: split into batches of 10). Entries
  // that failed on the server side (SenderFault=false) are retried within the retry budget.
  Result<std::vector<Status>> DeleteMessageBatch(const std::string& queue_url,
                                                 const std::vector<std::string>& receipts);
  Result<std::vector<Status>> ChangeMessageVisibilityBatch(
      const std::string& queue_url,
      const std::vector<std::pair<std::string, std::chrono::seconds>>& entries);
  Status PurgeQueue(const std::string& queue_url);
  Status DeleteQueue(const std::string& queue_url);
  // Queue URLs whose name starts with `prefix` (all pages).
  Result<std::vector<std::string>> ListQueues(const std::string& prefix);

  const ClientOptions& options() const { return caller_.options(); }

 private:
  Result<nlohmann::json> Call(std::string_view op, const nlohmann::json& request,
                              std::chrono::milliseconds extra_timeout = {},
                              CancelToken* cancel = nullptr);
  // Runs a batch operation over `entries` (JSON objects without Id) in chunks of 10.
  Result<std::vector<Status>> Batch(std::string_view op, const std::string& queue_url,
                                    std::vector<nlohmann::json> entries);

  AwsCaller caller_;
};

// The queue name at the end of a queue URL ("…/123456789012/name" -> "name").
std::string QueueNameFromUrl(std::string_view queue_url);

}  // namespace dripr::aws
