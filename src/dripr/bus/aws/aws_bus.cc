#include "dripr/bus/aws/aws_bus.h"

#include <fmt/format.h>

#include <charconv>
#include <cmath>
#include <nlohmann/json.hpp>

#include "dripr/bus/filter_policy.h"
#include "dripr/bus/sqs_limits.h"
#include "dripr/core/text.h"

namespace dripr::aws {
namespace {

template <class T>
std::optional<T> ParseNumber(const std::string& s) {
  T v{};
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size()) return std::nullopt;
  return v;
}

ReceivedMessage ToReceived(SqsMessage m) {
  ReceivedMessage r;
  r.message_id = std::move(m.message_id);
  r.receipt_handle = std::move(m.receipt_handle);
  r.body = std::move(m.body);
  r.attributes = std::move(m.message_attributes);
  if (auto it = m.attributes.find("ApproximateReceiveCount"); it != m.attributes.end()) {
    r.receive_count = ParseNumber<int>(it->second).value_or(0);
  }
  if (auto it = m.attributes.find("SentTimestamp"); it != m.attributes.end()) {
    if (auto ms = ParseNumber<long long>(it->second)) {
      r.sent_at = SysTime(std::chrono::milliseconds(*ms));
    }
  }
  return r;
}

}  // namespace

// ---- SqsQueue ----

SqsQueue::SqsQueue(std::shared_ptr<SqsClient> client, std::string queue_url)
    : client_(std::move(client)), url_(std::move(queue_url)), name_(QueueNameFromUrl(url_)) {}

Result<std::string> SqsQueue::Send(const OutgoingMessage& m) {
  if (m.delay.count() < 0 || m.delay.count() > sqs::kMaxDelaySeconds) {
    return Fail(ErrorCode::kInvalidArgument, "message delay must be 0-900 seconds");
  }
  return client_->SendMessage(url_, m.body, m.attributes, static_cast<int>(m.delay.count()));
}

Result<std::vector<ReceivedMessage>> SqsQueue::Receive(
    int max_messages, std::chrono::milliseconds wait,
    std::optional<std::chrono::seconds> visibility) {
  if (max_messages < 1 || max_messages > 10) {
    return Fail(ErrorCode::kInvalidArgument, "receive from " + name_ +
                                                 ": max messages must be 1-10, got " +
                                                 std::to_string(max_messages));
  }
  long long wait_s = std::llround(static_cast<double>(wait.count()) / 1000.0);
  wait_s = std::clamp<long long>(wait_s, 0, 20);
  CancelToken cancel;
  {
    std::lock_guard lock(receives_mu_);
    receives_.insert(&cancel);
  }
  auto got = client_->ReceiveMessage(url_, {.max_messages = max_messages,
                                            .wait = std::chrono::seconds(wait_s),
                                            .visibility = visibility,
                                            .cancel = &cancel});
  {
    std::lock_guard lock(receives_mu_);
    receives_.erase(&cancel);
  }
  if (!got) return Fail(got.error());
  std::vector<ReceivedMessage> out;
  out.reserve(got->size());
  for (auto& m : *got) out.push_back(ToReceived(std::move(m)));
  return out;
}

void SqsQueue::CancelReceives() {
  std::lock_guard lock(receives_mu_);
  for (auto* token : receives_) token->Cancel();
}

Result<std::vector<Status>> SqsQueue::DeleteBatch(const std::vector<std::string>& receipts) {
  return client_->DeleteMessageBatch(url_, receipts);
}

Result<std::vector<Status>> SqsQueue::ChangeVisibilityBatch(
    const std::vector<std::pair<std::string, std::chrono::seconds>>& entries) {
  return client_->ChangeMessageVisibilityBatch(url_, entries);
}

Result<QueueStats> SqsQueue::Stats() {
  DRIPR_ASSIGN_OR_RETURN(
      auto attrs, client_->GetQueueAttributes(
                      url_, {"ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible",
                             "ApproximateNumberOfMessagesDelayed"}));
  QueueStats s;
  s.visible = ParseNumber<int64_t>(attrs["ApproximateNumberOfMessages"]).value_or(0);
  s.in_flight = ParseNumber<int64_t>(attrs["ApproximateNumberOfMessagesNotVisible"]).value_or(0);
  s.delayed = ParseNumber<int64_t>(attrs["ApproximateNumberOfMessagesDelayed"]).value_or(0);
  // The age of the oldest message is CloudWatch's ApproximateAgeOfOldestMessage, not a queue
  // attribute; a receive to look would hide the message from the consumers and count as a
  // delivery (docs/decisions/dashboard.md).
  s.oldest_known = false;
  return s;
}

Status SqsQueue::Purge() { return client_->PurgeQueue(url_); }

// ---- SnsTopic ----

SnsTopic::SnsTopic(std::shared_ptr<SnsClient> client, std::string topic_arn)
    : client_(std::move(client)),
      arn_(std::move(topic_arn)),
      name_(arn_.substr(arn_.rfind(':') == std::string::npos ? 0 : arn_.rfind(':') + 1)) {}

Result<std::string> SnsTopic::Publish(const OutgoingMessage& m) {
  return client_->Publish(arn_, m.body, m.attributes);
}

Result<SubscriptionMatches> SnsTopic::MatchSubscriptions(const OutgoingMessage& m) {
  DRIPR_ASSIGN_OR_RETURN(auto subs, client_->ListSubscriptionsByTopic(arn_));
  SubscriptionMatches r;
  for (const auto& s : subs) {
    // "PendingConfirmation" (and "Deleted") subscriptions receive nothing.
    if (!s.subscription_arn.starts_with("arn:")) continue;
    auto attrs = client_->GetSubscriptionAttributes(s.subscription_arn);
    if (!attrs && attrs.error().code == ErrorCode::kNotFound) continue;  // unsubscribed since
    if (!attrs) return Fail(attrs.error());
    ++r.subscriptions;
    const std::string& policy = (*attrs)["FilterPolicy"];
    // SNS's default scope is MessageAttributes.
    const std::string scope_name =
        attrs->contains("FilterPolicyScope") ? (*attrs)["FilterPolicyScope"] : "MessageAttributes";
    const std::string who = TerminalSafe(s.endpoint.empty() ? s.subscription_arn : s.endpoint);
    auto scope = ParseFilterScope(scope_name);
    if (!scope) {
      r.undecided.push_back(who + ": FilterPolicyScope " + QuotedEcho(scope_name));
      continue;
    }
    auto parsed = FilterPolicy::Parse(policy, *scope);
    if (!parsed) {
      r.undecided.push_back(who + ": " + parsed.error().message);
      continue;
    }
    if (parsed->Matches(m.attributes, m.body)) ++r.matched;
  }
  return r;
}

// ---- RedriveTargetQueue ----

Result<std::string> DeadLetterQueueUrl(SqsClient& sqs, const std::string& queue_url) {
  DRIPR_ASSIGN_OR_RETURN(auto attrs, sqs.GetQueueAttributes(queue_url, {"RedrivePolicy"}));
  const std::string what = "dead-letter queue of " + QueueNameFromUrl(queue_url);
  auto it = attrs.find("RedrivePolicy");
  if (it == attrs.end() || it->second.empty()) {
    return Fail(ErrorCode::kFailedPrecondition, what + ": the queue has no RedrivePolicy");
  }
  auto policy = nlohmann::json::parse(it->second, nullptr, false);
  std::string arn;
  if (policy.is_object() && policy.contains("deadLetterTargetArn") &&
      policy["deadLetterTargetArn"].is_string()) {
    arn = policy["deadLetterTargetArn"].get<std::string>();
  }
  if (arn.empty() || arn.rfind(':') == std::string::npos) {
    return Fail(ErrorCode::kFailedPrecondition,
                what + ": RedrivePolicy without deadLetterTargetArn");
  }
  auto url = sqs.GetQueueUrl(arn.substr(arn.rfind(':') + 1));
  if (!url) return Fail(url.error().Wrap(what));
  return url;
}

int RedriveMaxReceiveCount(const std::string& redrive_policy) {
  auto p = nlohmann::json::parse(redrive_policy, nullptr, false);
  if (!p.is_object() || !p.contains("maxReceiveCount")) return 0;
  const auto& m = p["maxReceiveCount"];
  if (m.is_number_integer()) return m.get<int>();
  if (!m.is_string()) return 0;
  const std::string& v = m.get_ref<const std::string&>();
  int n = 0;
  auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
  return ec == std::errc() && end == v.data() + v.size() ? n : 0;
}

Status CheckRedriveAllowsAttempts(SqsClient& sqs, const AwsBusConfig& config, int max_attempts) {
  for (size_t i = 0; i < config.work_queue_urls.size(); ++i) {
    const std::string& url = config.work_queue_urls[i];
    DRIPR_ASSIGN_OR_RETURN(auto attrs, sqs.GetQueueAttributes(url, {"RedrivePolicy"}));
    const std::string name = QueueNameFromUrl(url);
    auto it = attrs.find("RedrivePolicy");
    if (it == attrs.end() || it->second.empty()) {
      if (!config.dlq_urls[i].empty()) continue;  // failures go to the configured DLQ
      return Fail(ErrorCode::kInvalidArgument,
                  "queue " + name +
                      " has no RedrivePolicy and no DLQ is configured: failed messages would "
                      "have nowhere to go (run `dripr infra up`)");
    }
    const int max_receive = RedriveMaxReceiveCount(it->second);
    if (max_receive <= 0) {
      return Fail(ErrorCode::kInvalidArgument,
                  "queue " + name + " has a RedrivePolicy without a valid maxReceiveCount");
    }
    if (max_attempts >= max_receive) {
      return Fail(
          ErrorCode::kInvalidArgument,
          fmt::format("DRIPR_MAX_ATTEMPTS={} must be below maxReceiveCount {} of queue {}'s "
                      "RedrivePolicy, or SQS moves messages to the DLQ before dripr records "
                      "why (lower DRIPR_MAX_ATTEMPTS or raise maxReceiveCount)",
                      max_attempts, max_receive, name));
    }
  }
  return Ok();
}

RedriveTargetQueue::RedriveTargetQueue(std::shared_ptr<SqsClient> client,
                                       std::string source_queue_url)
    : client_(std::move(client)), source_url_(std::move(source_queue_url)) {}

Result<Queue*> RedriveTargetQueue::Target() {
  std::lock_guard lock(mu_);
  if (!queue_) {
    DRIPR_ASSIGN_OR_RETURN(auto url, DeadLetterQueueUrl(*client_, source_url_));
    queue_ = std::make_unique<SqsQueue>(client_, url);
  }
  return queue_.get();
}

std::string RedriveTargetQueue::Name() const {
  // Before discovery the conventional name; `dripr infra` creates "<queue>-dlq".
  std::lock_guard lock(mu_);
  return queue_ ? queue_->Name() : QueueNameFromUrl(source_url_) + "-dlq";
}

void RedriveTargetQueue::CancelReceives() {
  std::lock_guard lock(mu_);
  if (queue_) queue_->CancelReceives();
}

// ---- AwsBus ----

AwsBus::AwsBus(std::shared_ptr<SnsClient> sns, std::shared_ptr<SqsClient> sqs,
               const AwsBusConfig& config)
    : topic_(std::make_unique<SnsTopic>(std::move(sns), config.topic_arn)) {
  for (size_t i = 0; i < 3; ++i) {
    work_[i] = std::make_unique<SqsQueue>(sqs, config.work_queue_urls[i]);
    if (config.dlq_urls[i].empty()) {
      dlq_[i] = std::make_unique<RedriveTargetQueue>(sqs, config.work_queue_urls[i]);
    } else {
      dlq_[i] = std::make_unique<SqsQueue>(sqs, config.dlq_urls[i]);
    }
  }
}

std::string RegionFromArn(std::string_view arn) {
  // arn:partition:service:region:account:resource
  size_t pos = 0;
  for (int i = 0; i < 3; ++i) {
    pos = arn.find(':', pos);
    if (pos == std::string_view::npos) return "";
    ++pos;
  }
  size_t end = arn.find(':', pos);
  if (!arn.starts_with("arn:") || end == std::string_view::npos) return "";
  return std::string(arn.substr(pos, end - pos));
}

Result<AwsBusConfig> AwsBusConfigFromSettings(const AwsSettings& s) {
  AwsBusConfig c;
  std::vector<std::string> missing;
  c.topic_arn = s.topic_arn;
  if (c.topic_arn.empty()) missing.push_back("SNS_CAMPAIGN_EVENTS_TOPIC_ARN");
  for (size_t i = 0; i < 3; ++i) {
    c.work_queue_urls[i] = s.work_queue_urls[i];
    if (c.work_queue_urls[i].empty()) missing.push_back(kQueueUrlVars[i]);
    c.dlq_urls[i] = s.dlq_urls[i];
  }
  if (!missing.empty()) {
    std::string names;
    for (const auto& m : missing) names += (names.empty() ? "" : ", ") + m;
    return Fail(ErrorCode::kInvalidArgument,
                "EVENT_BUS=aws needs " + names +
                    " (`dripr infra up` creates the topic and queues and prints them)");
  }
  if (!c.topic_arn.starts_with("arn:") || RegionFromArn(c.topic_arn).empty()) {
    return Fail(ErrorCode::kInvalidArgument,
                "SNS_CAMPAIGN_EVENTS_TOPIC_ARN is not an ARN: " + c.topic_arn);
  }
  for (size_t i = 0; i < 3; ++i) {
    const std::string& u = c.work_queue_urls[i];
    if (!u.starts_with("http://") && !u.starts_with("https://")) {
      return Fail(ErrorCode::kInvalidArgument,
                  std::string(kQueueUrlVars[i]) + " is not an http(s) URL: " + u);
    }
  }
  return c;
}

Result<ClientOptions> ClientOptionsFromSettings(const AwsSettings& s, std::string_view service,
                                                std::string_view fallback_region,
                                                CredentialsProviderPtr credentials,
                                                HttpClientPtr http) {
  ClientOptions o;
  auto region = ResolveRegion(s);
  if (region) {
    o.region = *region;
  } else if (!fallback_region.empty()) {
    o.region = std::string(fallback_region);
  } else {
    return Fail(region.error());
  }
  o.endpoint = ResolveEndpoint(s, service, o.region);
  o.http = http ? std::move(http) : NewCurlHttpClient();
  o.credentials = credentials
                      ? std::move(credentials)
                      : NewDefaultCredentialsChain(s, CredentialChainOptions{.http = o.http});
  return o;
}

}  // namespace dripr::aws

namespace dripr {

Status CheckAwsRedrive(const aws::AwsSettings& settings, int max_attempts, Ticker* ticker,
                       Random* random) {
  DRIPR_ASSIGN_OR_RETURN(auto config, aws::AwsBusConfigFromSettings(settings));
  DRIPR_ASSIGN_OR_RETURN(auto options, aws::ClientOptionsFromSettings(
                                           settings, "sqs", aws::RegionFromArn(config.topic_arn)));
  options.ticker = ticker;
  options.random = random;
  aws::SqsClient sqs(std::move(options));
  return aws::CheckRedriveAllowsAttempts(sqs, config, max_attempts);
}

Result<BusPtr> OpenAwsBus(const aws::AwsSettings& settings, Ticker* ticker, Random* random) {
  DRIPR_ASSIGN_OR_RETURN(auto config, aws::AwsBusConfigFromSettings(settings));
  const std::string arn_region = aws::RegionFromArn(config.topic_arn);
  DRIPR_ASSIGN_OR_RETURN(auto sqs_options,
                         aws::ClientOptionsFromSettings(settings, "sqs", arn_region));
  DRIPR_ASSIGN_OR_RETURN(auto sns_options,
                         aws::ClientOptionsFromSettings(settings, "sns", arn_region,
                                                        sqs_options.credentials, sqs_options.http));
  sqs_options.ticker = sns_options.ticker = ticker;
  sqs_options.random = sns_options.random = random;
  auto sqs = std::make_shared<aws::SqsClient>(std::move(sqs_options));
  auto sns = std::make_shared<aws::SnsClient>(std::move(sns_options));
  return BusPtr(std::make_unique<aws::AwsBus>(std::move(sns), std::move(sqs), config));
}

}  // namespace dripr
