#include "dripr/bus/aws/aws_client.h"

#include <cmath>
#include <ctime>
#include <set>

#include "dripr/bus/aws/sigv4.h"
#include "dripr/core/log.h"
#include "dripr/core/text.h"

namespace dripr::aws {
namespace {

bool In(std::string_view code, std::initializer_list<std::string_view> set) {
  for (auto s : set) {
    if (code == s) return true;
  }
  return false;
}

// "Wed, 21 Oct 2015 07:28:00 GMT" -> time; nullopt when unparsable.
std::optional<SysTime> ParseHttpDate(const std::string& s) {
  std::tm tm{};
  const char* end = strptime(s.c_str(), "%a, %d %b %Y %H:%M:%S", &tm);
  if (end == nullptr) return std::nullopt;
  return std::chrono::system_clock::from_time_t(timegm(&tm));
}

bool IsExpiredCredentials(std::string_view code) {
  return In(code, {"ExpiredToken", "ExpiredTokenException", "RequestExpired",
                   "InvalidClientTokenId", "UnrecognizedClientException"});
}

}  // namespace

ErrorCode ClassifyAwsError(int http_status, std::string_view code) {
  std::string_view c = code;
  if (c.starts_with("AWS.SimpleQueueService.")) c.remove_prefix(23);
  if (In(c, {"QueueDoesNotExist", "NonExistentQueue", "NotFound", "NotFoundException",
             "ResourceNotFoundException"})) {
    return ErrorCode::kNotFound;
  }
  if (In(c, {"Throttling", "ThrottlingException", "ThrottledException", "Throttled",
             "RequestThrottled", "RequestThrottledException", "TooManyRequestsException",
             "RequestLimitExceeded", "ProvisionedThroughputExceededException", "SlowDown",
             "KMSThrottlingException", "OverLimit"})) {
    return ErrorCode::kResourceExhausted;
  }
  if (In(c, {"InternalError", "InternalFailure", "ServiceUnavailable",
             "ServiceUnavailableException", "RequestTimeout", "RequestTimeoutException",
             "PriorRequestNotComplete", "KMSInternalException"})) {
    return ErrorCode::kUnavailable;
  }
  if (In(c, {"AccessDenied", "AccessDeniedException", "AuthorizationError", "InvalidClientTokenId",
             "UnrecognizedClientException", "SignatureDoesNotMatch", "IncompleteSignature",
             "InvalidAccessKeyId", "MissingAuthenticationToken", "ExpiredToken",
             "ExpiredTokenException", "RequestExpired", "RequestTimeTooSkewed", "InvalidSecurity",
             "OptInRequired", "KMSAccessDenied", "KMS.AccessDeniedException"})) {
    return ErrorCode::kPermissionDenied;
  }
  if (In(c, {"QueueAlreadyExists", "QueueNameExists"})) return ErrorCode::kAlreadyExists;
  if (In(c, {"QueueDeletedRecently", "PurgeQueueInProgress", "InvalidState"})) {
    return ErrorCode::kFailedPrecondition;
  }
  if (!c.empty() && http_status >= 400 && http_status < 500 && http_status != 429) {
    return ErrorCode::kInvalidArgument;  // ReceiptHandleIsInvalid, InvalidParameterValue, ...
  }
  if (http_status == 429) return ErrorCode::kResourceExhausted;
  if (http_status >= 500) return ErrorCode::kUnavailable;
  if (http_status == 401 || http_status == 403) return ErrorCode::kPermissionDenied;
  if (http_status == 404) return ErrorCode::kNotFound;
  return ErrorCode::kInvalidArgument;
}

AwsCaller::AwsCaller(ClientOptions options, std::string service, std::string display,
                     std::function<ServiceError(const HttpResponse&)> parse_error)
    : options_(std::move(options)),
      service_(std::move(service)),
      display_(std::move(display)),
      parse_error_(std::move(parse_error)),
      ticker_(OrRealTicker(options_.ticker)),
      random_(OrRealRandom(options_.random)) {}

SysTime AwsCaller::Now() const {
  const Clock& clock = options_.clock != nullptr ? *options_.clock : SystemClock::Instance();
  std::lock_guard lock(mu_);
  return clock.Now() + clock_skew_;
}

void AwsCaller::Backoff(int attempt) {
  auto cap = options_.retry.base_delay * (1LL << std::min(attempt - 1, 16));
  cap = std::min<std::chrono::milliseconds>(cap, options_.retry.max_delay);
  const double lo = static_cast<double>(cap.count()) / 2;
  const double hi = static_cast<double>(std::max<long long>(cap.count(), 0));
  ticker_.SleepFor(std::chrono::milliseconds(std::llround(random_.Uniform(lo, hi))));
}

Status CheckNextPage(std::string_view what, int pages, const std::string& previous,
                     const std::string& next) {
  if (next.empty()) return Ok();
  if (next == previous) {
    return Fail(ErrorCode::kUnavailable,
                std::string(what) + ": the server repeated its NextToken (pagination never ends)");
  }
  if (pages >= kMaxListPages) {
    return Fail(ErrorCode::kUnavailable,
                std::string(what) + ": more than " + std::to_string(kMaxListPages) + " pages");
  }
  return Ok();
}

Result<HttpResponse> AwsCaller::Post(std::string_view op, HttpHeaders headers, std::string body,
                                     std::chrono::milliseconds extra_timeout, CancelToken* cancel) {
  const std::string what = display_ + " " + std::string(op);
  if (!options_.credentials || !options_.http) {
    return Fail(ErrorCode::kInternal, what + ": client without credentials or HTTP transport");
  }
  const int max_attempts = std::max(1, options_.retry.max_attempts);
  bool refreshed_credentials = false;
  bool resynced_clock = false;
  Error last;
  for (int attempt = 1; attempt <= max_attempts; ++attempt) {
    if (attempt > 1) Backoff(attempt - 1);
    auto creds = options_.credentials->Get();
    if (!creds) return Fail(creds.error().Wrap(what + ": credentials"));

    HttpRequest req{.method = "POST",
                    .url = options_.endpoint + "/",
                    .headers = headers,
                    .body = body,
                    .connect_timeout = options_.connect_timeout,
                    .timeout = options_.timeout + extra_timeout,
                    .cancel = cancel};
    DRIPR_TRY(SignRequest(req, *creds, options_.region, service_, Now()));
    auto res = options_.http->Send(req);
    if (!res) {
      last = res.error().Wrap(what);
      if (!last.Retryable() || (cancel != nullptr && cancel->cancelled())) return Fail(last);
      DRIPR_LOG_DEBUG("[{}] {} attempt {}/{} failed: {}", service_, op, attempt, max_attempts,
                      last.ToString());
      continue;
    }
    if (res->status >= 200 && res->status < 300) return res;

    ServiceError se = parse_error_(*res);
    se.http_status = res->status;
    ErrorCode code = ClassifyAwsError(res->status, se.code);
    // Whatever the server sent is cut short and made printable valid UTF-8: the message goes
    // into logs, DLQ reasons and JSON output (docs/decisions/fuzzing.md).
    std::string message =
        what + ": " + (se.code.empty() ? "error" : Excerpt(se.code, 100)) +
        (se.message.empty() ? "" : ": " + Excerpt(se.message, 300)) + " (HTTP " +
        std::to_string(res->status) +
        (se.request_id.empty() ? "" : ", request " + Excerpt(se.request_id, 100)) + ")";
    last = Error{code, std::move(message)};
    if (se.code == "RequestTimeTooSkewed" && !resynced_clock) {
      if (auto server = ParseHttpDate(res->Header("date"))) {
        const Clock& clock = options_.clock != nullptr ? *options_.clock : SystemClock::Instance();
        std::lock_guard lock(mu_);
        clock_skew_ = std::chrono::duration_cast<std::chrono::seconds>(*server - clock.Now());
        resynced_clock = true;
        DRIPR_LOG_WARN("[{}] clock skew of {} s corrected from the server's Date", service_,
                       clock_skew_.count());
        attempt -= 1;  // the resync does not use up an attempt
        continue;
      }
    }
    if (IsExpiredCredentials(se.code) && !refreshed_credentials) {
      // Temporary credentials may have been revoked or expired early: fetch new ones once.
      refreshed_credentials = true;
      options_.credentials->Invalidate();
      attempt -= 1;
      continue;
    }
    if (!last.Retryable()) return Fail(last);
    DRIPR_LOG_DEBUG("[{}] {} attempt {}/{}: {}", service_, op, attempt, max_attempts, last.message);
  }
  return Fail(last);
}

}  // namespace dripr::aws
