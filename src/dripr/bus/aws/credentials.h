#pragma once
// AWS credentials, region and endpoint resolution (docs/reference/aws-sqs-sns.md §6).
//
// The default chain, in order (the first source that is configured is used):
//   1. environment: AWS_ACCESS_KEY_ID + AWS_SECRET_ACCESS_KEY (+ AWS_SESSION_TOKEN)
//   2. shared files: profile AWS_PROFILE (or "default") in AWS_SHARED_CREDENTIALS_FILE
//      (~/.aws/credentials) and AWS_CONFIG_FILE (~/.aws/config, "[profile NAME]" sections)
//   3. web identity: AWS_WEB_IDENTITY_TOKEN_FILE + AWS_ROLE_ARN -> STS AssumeRoleWithWebIdentity
//   4. container: AWS_CONTAINER_CREDENTIALS_RELATIVE_URI (http://169.254.170.2<uri>) or
//      AWS_CONTAINER_CREDENTIALS_FULL_URI (+ AWS_CONTAINER_AUTHORIZATION_TOKEN[_FILE])
//      (https to any host; plain http only to an IPv4 literal in 127.0.0.0/8, localhost,
//      [::1] or the ECS/EKS agent's 169.254.170.2, 169.254.170.23, [fd00:ec2::23]; never
//      with user-info: kInvalidArgument)
//   5. EC2 instance metadata (IMDSv2), unless AWS_EC2_METADATA_DISABLED=true
// Temporary credentials (3–5) are cached and refreshed `refresh_margin` before they expire.
//
// Secrets never appear in errors or logs: messages name the source and, at most, the first
// characters of the access key id (Credentials::ToString).

#include <chrono>
#include <memory>
#include <optional>
#include <string>

#include "dripr/bus/aws/aws_settings.h"
#include "dripr/bus/aws/credentials_types.h"
#include "dripr/core/clock.h"
#include "dripr/core/error.h"
#include "dripr/core/http.h"

namespace dripr::aws {

class CredentialsProvider {
 public:
  virtual ~CredentialsProvider() = default;
  // Current credentials. Errors: kUnavailable / kDeadlineExceeded when a credentials
  // service is unreachable (retry later), kPermissionDenied when it refused,
  // kFailedPrecondition when no source is configured, kInvalidArgument for malformed
  // configuration. Thread-safe.
  virtual Result<Credentials> Get() = 0;
  // Forgets cached temporary credentials (e.g. after an ExpiredToken reply), so the next
  // Get() fetches new ones. Thread-safe.
  virtual void Invalidate() {}
};

using CredentialsProviderPtr = std::shared_ptr<CredentialsProvider>;

// Always returns the given credentials.
CredentialsProviderPtr NewStaticCredentialsProvider(Credentials creds);

struct CredentialChainOptions {
  HttpClientPtr http;                        // required for sources 3–5
  const Clock* clock = nullptr;              // nullptr: SystemClock::Instance()
  std::chrono::seconds refresh_margin{300};  // refresh this long before Expiration
  // Overrides for tests (empty: from the settings, then the AWS defaults).
  std::string imds_endpoint;       // else AWS_EC2_METADATA_SERVICE_ENDPOINT, http://169.254.169.254
  std::string container_endpoint;  // base for the RELATIVE_URI, default http://169.254.170.2
  std::string sts_endpoint;        // else AWS_ENDPOINT_URL_STS, AWS_ENDPOINT_URL,
                                   // https://sts.<region>.amazonaws.com
  std::chrono::milliseconds metadata_timeout{1000};  // IMDS/container connect and total
};

// The default chain over `settings` (a copy is kept). Sources are looked at on the first
// Get(), not here. The result caches and refreshes temporary credentials.
CredentialsProviderPtr NewDefaultCredentialsChain(const AwsSettings& settings,
                                                  CredentialChainOptions options);

// Individual sources, for tests and special wiring. Each returns kFailedPrecondition when it
// is not configured. "Env" is the chain's name for the static keys (AWS_ACCESS_KEY_ID...).
Result<Credentials> CredentialsFromEnv(const AwsSettings& s);
Result<Credentials> CredentialsFromProfile(const AwsSettings& s);
Result<Credentials> CredentialsFromWebIdentity(const AwsSettings& s,
                                               const CredentialChainOptions& o);
Result<Credentials> CredentialsFromContainer(const AwsSettings& s, const CredentialChainOptions& o);
Result<Credentials> CredentialsFromImds(const AwsSettings& s, const CredentialChainOptions& o);

// AWS_REGION, then AWS_DEFAULT_REGION, then `region` of the active profile in the config
// file. kFailedPrecondition when none is set.
Result<std::string> ResolveRegion(const AwsSettings& s);
// Whether `region` can be an AWS region name as the endpoints are built from it
// (sqs.REGION.amazonaws.com): 1-32 lowercase letters, digits and '-'. Anything else could make
// the signed requests (access key id, session token) go to a host of the value's choosing.
bool IsRegionName(std::string_view region);

// `service` is "sqs", "sns" or "sts": AWS_ENDPOINT_URL_<SERVICE>, then AWS_ENDPOINT_URL, then
// https://<service>.<region>.amazonaws.com (amazonaws.com.cn for cn-* regions). A trailing
// '/' is removed.
std::string ResolveEndpoint(const AwsSettings& s, std::string_view service,
                            std::string_view region);

// An INI file as the AWS shared files use it: section -> key -> value. Keys are lower-cased;
// nested (indented) sub-sections are ignored. kInvalidArgument names the file and line.
using IniFile = std::map<std::string, std::map<std::string, std::string>>;
Result<IniFile> ParseIni(std::string_view text, std::string_view origin);

}  // namespace dripr::aws
