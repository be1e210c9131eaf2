#pragma once
// SQS/SNS limits and the pipeline's subscription filter, defined once: the AWS backend, the
// embedded bus (which enforces the same limits), the consumer engine and `dripr infra up`
// (and deploy/cloudformation.yaml, which a test compares) all use these.

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace dripr::sqs {

// Entries per ReceiveMessage / DeleteMessageBatch / ChangeMessageVisibilityBatch.
inline constexpr int kMaxBatchSize = 10;
// VisibilityTimeout and ChangeMessageVisibility, in seconds (12 hours).
inline constexpr int64_t kMaxVisibilitySeconds = 43200;
// ReceiveMessage WaitTimeSeconds.
inline constexpr int kMaxWaitSeconds = 20;
// SendMessage DelaySeconds (15 minutes).
inline constexpr int64_t kMaxDelaySeconds = 900;
// Message body size.
inline constexpr size_t kMaxBodyBytes = 262144;

// Every work queue's subscription: scope MessageBody, so that events published without
// message attributes (the Python db_client) are filtered too.
inline constexpr std::string_view kFilterPolicyScope = "MessageBody";
inline constexpr std::string_view kWaitingForDataBodyFilter =
    R"({"payload":{"to_status":["WAITING_FOR_DATA"]}})";

}  // namespace dripr::sqs
