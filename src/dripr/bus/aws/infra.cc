#include "dripr/bus/aws/infra.h"

#include <fmt/format.h>

#include "dripr/bus/aws/aws_bus.h"
#include "dripr/bus/aws/infra_internal.h"
#include "dripr/core/log.h"
#include "dripr/domain/status.h"

namespace dripr::aws {
namespace {

using nlohmann::json;

constexpr std::array<const char*, 3> kQueueBases = {
    "dripr-local-market-updates-queue", "dripr-active-listings-queue", "dripr-recent-sales-queue"};

}  // namespace

namespace infra_internal {

bool SameJson(const std::string& a, const std::string& b) {
  auto ja = json::parse(a, nullptr, false);
  auto jb = json::parse(b, nullptr, false);
  return !ja.is_discarded() && !jb.is_discarded() && ja == jb;
}

Result<std::string> FindQueue(SqsClient& sqs, const std::string& name) {
  auto url = sqs.GetQueueUrl(name);
  if (url) return *url;
  if (url.error().code == ErrorCode::kNotFound) return std::string();
  return Fail(url.error());
}

Result<std::string> FindTopic(SnsClient& sns, const std::string& name) {
  DRIPR_ASSIGN_OR_RETURN(auto arns, sns.ListTopics());
  for (const auto& arn : arns) {
    if (arn.size() > name.size() && arn.ends_with(":" + name)) return arn;
  }
  return std::string();
}

Result<std::string> FindTopicArn(SnsClient& sns, const std::string& arn) {
  DRIPR_ASSIGN_OR_RETURN(auto arns, sns.ListTopics());
  for (const auto& a : arns) {
    if (a == arn) return a;
  }
  return std::string();
}

Result<std::string> QueueArn(SqsClient& sqs, const std::string& url) {
  DRIPR_ASSIGN_OR_RETURN(auto attrs, sqs.GetQueueAttributes(url, {"QueueArn"}));
  auto it = attrs.find("QueueArn");
  if (it == attrs.end() || it->second.empty()) {
    return Fail(ErrorCode::kUnavailable, "no QueueArn for " + QueueNameFromUrl(url));
  }
  return it->second;
}

std::string StringField(const json& j, const char* key) {
  if (!j.is_object()) return "";
  auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : "";
}

std::string NameFromArn(const std::string& arn) {
  auto colon = arn.rfind(':');
  return colon == std::string::npos ? arn : arn.substr(colon + 1);
}

}  // namespace infra_internal

using namespace infra_internal;

Status AdoptFromSettings(const AwsSettings& s, InfraOptions& o) {
  if (const std::string& arn = s.topic_arn; !arn.empty()) {
    if (!arn.starts_with("arn:") || arn.find(":sns:") == std::string::npos ||
        RegionFromArn(arn).empty() || NameFromArn(arn).empty()) {
      return Fail(ErrorCode::kInvalidArgument,
                  "SNS_CAMPAIGN_EVENTS_TOPIC_ARN is not an SNS topic ARN: " + arn);
    }
    o.topic_arn = arn;
  }
  for (size_t i = 0; i < 3; ++i) {
    const std::string& url = s.work_queue_urls[i];
    if (url.empty()) continue;
    if ((!url.starts_with("http://") && !url.starts_with("https://")) ||
        QueueNameFromUrl(url).empty() || QueueNameFromUrl(url).find(':') != std::string::npos) {
      return Fail(ErrorCode::kInvalidArgument,
                  std::string(kQueueUrlVars[i]) + " is not an SQS queue URL: " + url);
    }
    o.queue_urls[i] = url;
  }
  return Ok();
}

Result<InfraNames> InfraNames::For(std::string_view env_name, std::string_view prefix) {
  if (env_name != "dev" && env_name != "prod") {
    return Fail(ErrorCode::kInvalidArgument,
                "environment must be dev or prod, got '" + std::string(env_name) + "'");
  }
  InfraNames n;
  const std::string suffix = "-" + std::string(env_name);
  n.topic = std::string(prefix) + "dripr-campaign-events-topic" + suffix;
  for (size_t i = 0; i < 3; ++i) {
    n.queues[i] = std::string(prefix) + kQueueBases[i] + suffix;
    n.dlqs[i] = n.queues[i] + "-dlq";
  }
  return n;
}

bool InfraQueueStatus::FilterOk() const {
  return subscribed && filter_policy_scope == sqs::kFilterPolicyScope &&
         SameJson(filter_policy, std::string(sqs::kWaitingForDataBodyFilter));
}

bool InfraStatusResult::Complete() const {
  if (topic_arn.empty()) return false;
  for (const auto& q : queues) {
    if (q.url.empty() || q.dlq_url.empty() || q.max_receive_count <= 0 || !q.FilterOk()) {
      return false;
    }
  }
  return true;
}

json InfraStatusResult::ToJson() const {
  json qs = json::array();
  for (const auto& q : queues) {
    qs.push_back({{"name", q.name},
                  {"url", q.url},
                  {"exists", !q.url.empty()},
                  {"visible", q.visible},
                  {"in_flight", q.in_flight},
                  {"dlq",
                   {{"name", q.dlq_name},
                    {"url", q.dlq_url},
                    {"exists", !q.dlq_url.empty()},
                    {"visible", q.dlq_visible}}},
                  {"max_receive_count", q.max_receive_count},
                  {"subscribed", q.subscribed},
                  {"filter_policy", q.filter_policy},
                  {"filter_policy_scope", q.filter_policy_scope},
                  {"filter_ok", q.FilterOk()},
                  {"raw_message_delivery", q.raw_message_delivery}});
  }
  return {{"env", env_name},
          {"topic", {{"name", topic_name}, {"arn", topic_arn}, {"exists", !topic_arn.empty()}}},
          {"queues", qs},
          {"complete", Complete()}};
}

std::string InfraStatusResult::ToText() const {
  std::string out = fmt::format("environment {}\ntopic {} {}\n", env_name, topic_name,
                                topic_arn.empty() ? "MISSING" : topic_arn);
  out += fmt::format("{:<42} {:>8} {:>9} {:>5} {:>8} {}\n", "queue", "visible", "in-flight", "dlq",
                     "redrive", "subscription");
  for (const auto& q : queues) {
    if (q.url.empty()) {
      out += fmt::format("{:<42} MISSING\n", q.name);
      continue;
    }
    std::string dlq = q.dlq_url.empty() ? "-" : std::to_string(q.dlq_visible);
    std::string redrive = q.max_receive_count > 0 ? std::to_string(q.max_receive_count) : "none";
    std::string sub = !q.subscribed ? "MISSING"
                      : q.FilterOk()
                          ? "body filter ok"
                          : "filter WRONG: " + q.filter_policy_scope + " " + q.filter_policy;
    out += fmt::format("{:<42} {:>8} {:>9} {:>5} {:>8} {}\n", q.name, q.visible, q.in_flight, dlq,
                       redrive, sub);
  }
  out += Complete() ? "complete\n" : "INCOMPLETE: run `dripr infra up`\n";
  return out;
}

Result<InfraStatusResult> InfraStatus(SnsClient& sns, SqsClient& sqs, const InfraOptions& o) {
  DRIPR_ASSIGN_OR_RETURN(auto names, InfraNames::For(o.env_name, o.name_prefix));
  InfraStatusResult r;
  r.env_name = o.env_name;
  if (o.topic_arn.empty()) {
    r.topic_name = names.topic;
    DRIPR_ASSIGN_OR_RETURN(r.topic_arn, FindTopic(sns, names.topic));
  } else {  // adopted: the topic the environment names
    r.topic_name = NameFromArn(o.topic_arn);
    DRIPR_ASSIGN_OR_RETURN(r.topic_arn, FindTopicArn(sns, o.topic_arn));
  }
  std::vector<SnsSubscription> subs;
  if (!r.topic_arn.empty()) {
    DRIPR_ASSIGN_OR_RETURN(subs, sns.ListSubscriptionsByTopic(r.topic_arn));
  }
  auto count = [](const AttributeMap& a, const char* k) -> int64_t {
    auto it = a.find(k);
    if (it == a.end()) return 0;
    try {
      return std::stoll(it->second);
    } catch (const std::exception&) {
      return 0;
    }
  };
  for (size_t i = 0; i < 3; ++i) {
    InfraQueueStatus& q = r.queues[i];
    q.name = o.queue_urls[i].empty() ? names.queues[i] : QueueNameFromUrl(o.queue_urls[i]);
    q.dlq_name = q.name + "-dlq";
    DRIPR_ASSIGN_OR_RETURN(q.url, FindQueue(sqs, q.name));
    AttributeMap a;
    if (!q.url.empty()) {
      DRIPR_ASSIGN_OR_RETURN(a, sqs.GetQueueAttributes(q.url, {"All"}));
      // The DLQ is the one the RedrivePolicy names (an adopted queue's may differ).
      const std::string target =
          StringField(json::parse(a["RedrivePolicy"], nullptr, false), "deadLetterTargetArn");
      if (!target.empty()) q.dlq_name = NameFromArn(target);
    }
    DRIPR_ASSIGN_OR_RETURN(q.dlq_url, FindQueue(sqs, q.dlq_name));
    if (!q.dlq_url.empty()) {
      DRIPR_ASSIGN_OR_RETURN(auto d,
                             sqs.GetQueueAttributes(q.dlq_url, {"ApproximateNumberOfMessages"}));
      q.dlq_visible = count(d, "ApproximateNumberOfMessages");
    }
    if (q.url.empty()) continue;
    q.visible = count(a, "ApproximateNumberOfMessages");
    q.in_flight = count(a, "ApproximateNumberOfMessagesNotVisible");
    if (auto it = a.find("RedrivePolicy"); it != a.end()) {
      q.max_receive_count = RedriveMaxReceiveCount(it->second);
    }
    const std::string arn = a["QueueArn"];
    for (const auto& s : subs) {
      if (s.protocol != "sqs" || s.endpoint != arn) continue;
      q.subscribed = true;
      DRIPR_ASSIGN_OR_RETURN(auto sa, sns.GetSubscriptionAttributes(s.subscription_arn));
      q.filter_policy = sa["FilterPolicy"];
      q.filter_policy_scope = sa.contains("FilterPolicyScope") ? sa["FilterPolicyScope"]
                              : q.filter_policy.empty()        ? ""
                                                               : "MessageAttributes";
      q.raw_message_delivery = sa["RawMessageDelivery"] == "true";
      break;
    }
  }
  return r;
}

Result<std::vector<std::string>> InfraDown(SnsClient& sns, SqsClient& sqs, const InfraOptions& o) {
  DRIPR_ASSIGN_OR_RETURN(auto names, InfraNames::For(o.env_name, o.name_prefix));
  std::vector<std::string> done;
  DRIPR_ASSIGN_OR_RETURN(auto topic_arn, FindTopic(sns, names.topic));
  if (!topic_arn.empty()) {
    // Only the subscriptions of our queues; a topic others still use is left in place.
    std::vector<std::string> ours;
    for (size_t i = 0; i < 3; ++i) ours.push_back(":" + names.queues[i]);
    DRIPR_ASSIGN_OR_RETURN(auto subs, sns.ListSubscriptionsByTopic(topic_arn));
    size_t foreign = 0;
    for (const auto& s : subs) {
      bool mine = false;
      for (const auto& suffix : ours) mine = mine || s.endpoint.ends_with(suffix);
      if (!mine) {
        ++foreign;
        continue;
      }
      DRIPR_TRY(sns.Unsubscribe(s.subscription_arn));
      done.push_back("unsubscribed " + s.endpoint);
    }
    if (foreign == 0) {
      DRIPR_TRY(sns.DeleteTopic(topic_arn));
      done.push_back("deleted topic " + names.topic);
    } else {
      done.push_back(
          fmt::format("kept topic {}: {} other subscription(s) use it", names.topic, foreign));
    }
  }
  for (size_t i = 0; i < 3; ++i) {
    for (const auto& name : {names.queues[i], names.dlqs[i]}) {
      DRIPR_ASSIGN_OR_RETURN(auto url, FindQueue(sqs, name));
      if (url.empty()) continue;
      auto deleted = sqs.DeleteQueue(url);
      if (!deleted && deleted.error().code != ErrorCode::kNotFound) return Fail(deleted.error());
      done.push_back("deleted queue " + name);
    }
  }
  return done;
}

Result<InfraClients> InfraClientsFromSettings(const AwsSettings& settings, Ticker* ticker,
                                              Random* random) {
  DRIPR_ASSIGN_OR_RETURN(auto sqs_options, ClientOptionsFromSettings(settings, "sqs"));
  DRIPR_ASSIGN_OR_RETURN(
      auto sns_options,
      ClientOptionsFromSettings(settings, "sns", "", sqs_options.credentials, sqs_options.http));
  sqs_options.ticker = sns_options.ticker = ticker;
  sqs_options.random = sns_options.random = random;
  return InfraClients{.sns = std::make_shared<SnsClient>(std::move(sns_options)),
                      .sqs = std::make_shared<SqsClient>(std::move(sqs_options))};
}

}  // namespace dripr::aws
