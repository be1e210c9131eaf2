#pragma once
// Shared request machinery of the SQS and SNS clients: SigV4 signing, error classification
// (retryable vs permanent, docs/reference/aws-sqs-sns.md §2–3) and bounded retries with
// jittered exponential backoff. A broker that is down surfaces as kUnavailable after
// `retry.max_attempts` quick attempts, so callers (the consumer engine) keep control.

#include <atomic>
#include <chrono>
#include <functional>
#include <mutex>
#include <string>

#include "dripr/bus/aws/credentials.h"
#include "dripr/core/clock.h"
#include "dripr/core/error.h"
#include "dripr/core/http.h"
#include "dripr/core/random.h"

namespace dripr::aws {

struct RetryPolicy {
  int max_attempts = 3;  // total tries of one call, >= 1
  std::chrono::milliseconds base_delay{100};
  std::chrono::milliseconds max_delay{2000};
};

struct ClientOptions {
  std::string region;    // e.g. "us-east-1"
  std::string endpoint;  // e.g. "https://sqs.us-east-1.amazonaws.com", "http://127.0.0.1:4566"
  CredentialsProviderPtr credentials;  // required
  HttpClientPtr http;                  // required
  const Clock* clock = nullptr;        // for X-Amz-Date; nullptr: SystemClock::Instance()
  RetryPolicy retry;
  std::chrono::milliseconds connect_timeout{3000};
  std::chrono::milliseconds timeout{10000};  // per attempt (long polls add their wait)
  // The retry loop's waits and their jitter; nullptr: the real ones (core/clock.h,
  // core/random.h). Both must outlive the client.
  Ticker* ticker = nullptr;
  Random* random = nullptr;
};

// A service's error reply, as parsed by the protocol (JSON for SQS, XML for SNS).
struct ServiceError {
  int http_status = 0;
  std::string code;  // e.g. "AWS.SimpleQueueService.NonExistentQueue", "NotFound"
  std::string message;
  std::string request_id;
};

// The ErrorCode for an AWS error code / HTTP status. Retryable codes (throttling, 5xx,
// RequestTimeout) map to kResourceExhausted / kUnavailable.
ErrorCode ClassifyAwsError(int http_status, std::string_view code);

// Guards a paginated listing against a server that never ends it: after page `pages` (1-based)
// of `what`, kUnavailable when the `next` token repeats the `previous` one or more than
// kMaxListPages pages came back; Ok otherwise.
inline constexpr int kMaxListPages = 1000;
Status CheckNextPage(std::string_view what, int pages, const std::string& previous,
                     const std::string& next);

// Signs, sends and retries one protocol's calls. Thread-safe.
class AwsCaller {
 public:
  // `service` is the SigV4 service name ("sqs", "sns"); `display` prefixes messages ("SQS").
  AwsCaller(ClientOptions options, std::string service, std::string display,
            std::function<ServiceError(const HttpResponse&)> parse_error);

  // POSTs `body` to the endpoint with `headers`, signed. Returns the 2xx response or an
  // error "SQS SendMessage: <code>: <message> (HTTP 400)". `extra_timeout` is added to the
  // per-attempt timeout (long polls). `cancel` (may be null): see HttpRequest::cancel; a
  // cancelled call is not retried.
  Result<HttpResponse> Post(std::string_view op, HttpHeaders headers, std::string body,
                            std::chrono::milliseconds extra_timeout = {},
                            CancelToken* cancel = nullptr);

  const ClientOptions& options() const { return options_; }
  // Waits before retry `attempt` (1-based) on options().ticker: cap/2 + u * cap/2 rounded to
  // the millisecond, u = options().random's next Uniform(), cap = min(base_delay *
  // 2^(attempt-1), max_delay). Used by batch retries too.
  void Backoff(int attempt);

 private:
  SysTime Now() const;

  const ClientOptions options_;
  const std::string service_;
  const std::string display_;
  const std::function<ServiceError(const HttpResponse&)> parse_error_;
  Ticker& ticker_;
  Random& random_;
  mutable std::mutex mu_;
  std::chrono::seconds clock_skew_{0};  // guarded by mu_; server minus local, from Date
};

}  // namespace dripr::aws
