#pragma once
// What the AWS layer is configured with: the AWS_*, SNS_* and SQS_* variables (and HOME, for
// ~/.aws), parsed once by LoadConfig (fetcher/config.cc) and handed to the AWS layer, which
// never reads the environment itself (docs/decisions/settings.md). Plain values: the SDK's
// credential chain (credentials.h) still re-reads the shared files and refreshes temporary
// credentials lazily, long after start-up, from the paths and names kept here.
//
// An empty string means "not set" (an empty variable is taken as unset, as before).

#include <array>
#include <string>
#include <string_view>

namespace dripr::aws {

// The SQS_* variables naming the work queues and their DLQs, indexed by DataPart.
inline constexpr std::array<const char*, 3> kQueueUrlVars = {"SQS_LOCAL_MARKET_UPDATES_QUEUE_URL",
                                                             "SQS_ACTIVE_LISTINGS_QUEUE_URL",
                                                             "SQS_RECENT_SALES_QUEUE_URL"};
inline constexpr std::array<const char*, 3> kDlqUrlVars = {
    "SQS_LOCAL_MARKET_UPDATES_DLQ_URL", "SQS_ACTIVE_LISTINGS_DLQ_URL", "SQS_RECENT_SALES_DLQ_URL"};

struct AwsSettings {
  // The pipeline's topic and queues.
  std::string topic_arn;                       // SNS_CAMPAIGN_EVENTS_TOPIC_ARN
  std::array<std::string, 3> work_queue_urls;  // kQueueUrlVars
  std::array<std::string, 3> dlq_urls;         // kDlqUrlVars

  // Region and endpoints.
  std::string region;            // AWS_REGION
  std::string default_region;    // AWS_DEFAULT_REGION
  std::string endpoint_url;      // AWS_ENDPOINT_URL
  std::string endpoint_url_sns;  // AWS_ENDPOINT_URL_SNS
  std::string endpoint_url_sqs;  // AWS_ENDPOINT_URL_SQS
  std::string endpoint_url_sts;  // AWS_ENDPOINT_URL_STS

  // 1. static credentials (secrets: never logged or printed).
  std::string access_key_id;      // AWS_ACCESS_KEY_ID
  std::string secret_access_key;  // AWS_SECRET_ACCESS_KEY
  std::string session_token;      // AWS_SESSION_TOKEN
  // 2. shared files.
  std::string profile;                  // AWS_PROFILE
  std::string default_profile;          // AWS_DEFAULT_PROFILE
  std::string shared_credentials_file;  // AWS_SHARED_CREDENTIALS_FILE
  std::string config_file;              // AWS_CONFIG_FILE
  std::string home;                     // HOME: ~/.aws when the two above are not set
  // 3. web identity.
  std::string web_identity_token_file;  // AWS_WEB_IDENTITY_TOKEN_FILE
  std::string role_arn;                 // AWS_ROLE_ARN
  std::string role_session_name;        // AWS_ROLE_SESSION_NAME; empty: dripr-<unix ms>
  // 4. container credentials.
  std::string container_credentials_relative_uri;  // AWS_CONTAINER_CREDENTIALS_RELATIVE_URI
  std::string container_credentials_full_uri;      // AWS_CONTAINER_CREDENTIALS_FULL_URI
  std::string container_authorization_token;       // AWS_CONTAINER_AUTHORIZATION_TOKEN (secret)
  std::string container_authorization_token_file;  // AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE
  // 5. EC2 instance metadata.
  bool ec2_metadata_disabled = false;  // AWS_EC2_METADATA_DISABLED is "true" (any case)
  std::string ec2_metadata_endpoint;   // AWS_EC2_METADATA_SERVICE_ENDPOINT

  // AWS_ENDPOINT_URL_<SERVICE> for "sns", "sqs" or "sts"; "" for any other service.
  const std::string& ServiceEndpoint(std::string_view service) const {
    static const std::string kNone;
    if (service == "sns") return endpoint_url_sns;
    if (service == "sqs") return endpoint_url_sqs;
    if (service == "sts") return endpoint_url_sts;
    return kNone;
  }
};

}  // namespace dripr::aws
