#include "dripr/bus/aws/infra.h"

#include <fmt/format.h>

#include "dripr/bus/aws/aws_bus.h"
#include "dripr/core/log.h"
#include "dripr/domain/status.h"

namespace dripr::aws {
namespace {

using nlohmann::json;

constexpr std::array<const char*, 3> kQueueBases = {
    "dripr-local-market-updates-queue", "dripr-active-listings-queue", "dripr-recent-sales-queue"};
constexpr std::array<const char*, 3> kQueueUrlVars = {"SQS_LOCAL_MARKET_UPDATES_QUEUE_URL",
                                                      "SQS_ACTIVE_LISTINGS_QUEUE_URL",
                                                      "SQS_RECENT_SALES_QUEUE_URL"};

bool SameJson(const std::string& a, const std::string& b) {
  auto ja = json::parse(a, nullptr, false);
  auto jb = json::parse(b, nullptr, false);
  return !ja.is_discarded() && !jb.is_discarded() && ja == jb;
}

// The queue's URL, or "" when it does not exist.
Result<std::string> FindQueue(SqsClient& sqs, const std::string& name) {
  auto url = sqs.GetQueueUrl(name);
  if (url) return *url;
  if (url.error().code == ErrorCode::kNotFound) return std::string();
  return Fail(url.error());
}

// The topic's ARN, or "" when it does not exist (read-only, unlike CreateTopic).
Result<std::string> FindTopic(SnsClient& sns, const std::string& name) {
  DRIPR_ASSIGN_OR_RETURN(auto arns, sns.ListTopics());
  for (const auto& arn : arns) {
    if (arn.size() > name.size() && arn.ends_with(":" + name)) return arn;
  }
  return std::string();
}

// Creates the queue with `attrs`, or sets `attrs` on the existing one. Returns its URL.
Result<std::string> EnsureQueue(SqsClient& sqs, const std::string& name, const AttributeMap& attrs,
                                std::vector<std::string>& actions) {
  DRIPR_ASSIGN_OR_RETURN(auto url, FindQueue(sqs, name));
  if (url.empty()) {
    DRIPR_ASSIGN_OR_RETURN(url, sqs.CreateQueue(name, attrs));
    actions.push_back("created queue " + name);
  } else {
    DRIPR_TRY(sqs.SetQueueAttributes(url, attrs));
    actions.push_back("updated queue " + name);
  }
  return url;
}

Result<std::string> QueueArn(SqsClient& sqs, const std::string& url) {
  DRIPR_ASSIGN_OR_RETURN(auto attrs, sqs.GetQueueAttributes(url, {"QueueArn"}));
  auto it = attrs.find("QueueArn");
  if (it == attrs.end() || it->second.empty()) {
    return Fail(ErrorCode::kUnavailable, "no QueueArn for " + QueueNameFromUrl(url));
  }
  return it->second;
}

std::string SendFromTopicPolicy(const std::string& queue_arn, const std::string& topic_arn) {
  json statement = {{"Sid", "AllowCampaignEventsTopic"},
                    {"Effect", "Allow"},
                    {"Principal", {{"Service", "sns.amazonaws.com"}}},
                    {"Action", "sqs:SendMessage"},
                    {"Resource", queue_arn},
                    {"Condition", {{"ArnEquals", {{"aws:SourceArn", topic_arn}}}}}};
  return json{{"Version", "2012-10-17"},
              {"Id", queue_arn + "/SQSDefaultPolicy"},
              {"Statement", json::array({statement})}}
      .dump();
}

}  // namespace

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

Result<InfraUpResult> InfraUp(SnsClient& sns, SqsClient& sqs, const InfraOptions& o) {
  DRIPR_ASSIGN_OR_RETURN(auto names, InfraNames::For(o.env_name, o.name_prefix));
  InfraUpResult r;
  DRIPR_ASSIGN_OR_RETURN(r.topic_arn, sns.CreateTopic(names.topic));
  r.actions.push_back("topic " + names.topic);
  DRIPR_ASSIGN_OR_RETURN(auto subs, sns.ListSubscriptionsByTopic(r.topic_arn));

  for (size_t i = 0; i < 3; ++i) {
    DRIPR_ASSIGN_OR_RETURN(
        r.dlq_urls[i],
        EnsureQueue(sqs, names.dlqs[i],
                    {{"MessageRetentionPeriod", std::to_string(o.dlq_retention.count())}},
                    r.actions));
    DRIPR_ASSIGN_OR_RETURN(auto dlq_arn, QueueArn(sqs, r.dlq_urls[i]));
    const std::string redrive =
        json{{"deadLetterTargetArn", dlq_arn}, {"maxReceiveCount", o.max_receive_count}}.dump();
    DRIPR_ASSIGN_OR_RETURN(
        r.queue_urls[i],
        EnsureQueue(sqs, names.queues[i],
                    {{"VisibilityTimeout", std::to_string(o.visibility_timeout.count())},
                     {"MessageRetentionPeriod", std::to_string(o.message_retention.count())},
                     {"RedrivePolicy", redrive}},
                    r.actions));
    DRIPR_ASSIGN_OR_RETURN(auto queue_arn, QueueArn(sqs, r.queue_urls[i]));
    DRIPR_TRY(sqs.SetQueueAttributes(r.queue_urls[i],
                                     {{"Policy", SendFromTopicPolicy(queue_arn, r.topic_arn)}}));

    // One subscription per queue: update an existing one, remove duplicates.
    std::vector<std::string> existing;
    for (const auto& s : subs) {
      if (s.protocol == "sqs" && s.endpoint == queue_arn) existing.push_back(s.subscription_arn);
    }
    const std::string raw = o.raw_message_delivery ? "true" : "false";
    if (existing.empty()) {
      DRIPR_TRY(sns.Subscribe(r.topic_arn, "sqs", queue_arn,
                              {{"FilterPolicyScope", "MessageBody"},
                               {"FilterPolicy", o.filter_policy},
                               {"RawMessageDelivery", raw}}));
      r.actions.push_back("subscribed " + names.queues[i]);
    } else {
      // Scope first: a nested body policy is invalid under the MessageAttributes scope.
      DRIPR_TRY(sns.SetSubscriptionAttributes(existing[0], "FilterPolicyScope", "MessageBody"));
      DRIPR_TRY(sns.SetSubscriptionAttributes(existing[0], "FilterPolicy", o.filter_policy));
      DRIPR_TRY(sns.SetSubscriptionAttributes(existing[0], "RawMessageDelivery", raw));
      r.actions.push_back("updated subscription of " + names.queues[i]);
      for (size_t k = 1; k < existing.size(); ++k) {
        DRIPR_TRY(sns.Unsubscribe(existing[k]));
        r.actions.push_back("removed duplicate subscription of " + names.queues[i]);
      }
    }
  }
  r.env_lines.push_back("SNS_CAMPAIGN_EVENTS_TOPIC_ARN=" + r.topic_arn);
  for (size_t i = 0; i < 3; ++i) {
    r.env_lines.push_back(std::string(kQueueUrlVars[i]) + "=" + r.queue_urls[i]);
  }
  r.env_lines.push_back("EVENT_BUS=aws");
  return r;
}

json InfraUpResult::ToJson() const {
  json env = json::object();
  for (const auto& line : env_lines) {
    auto eq = line.find('=');
    env[line.substr(0, eq)] = line.substr(eq + 1);
  }
  return {{"topic_arn", topic_arn},
          {"queue_urls", queue_urls},
          {"dlq_urls", dlq_urls},
          {"actions", actions},
          {"env", env}};
}

bool InfraQueueStatus::FilterOk() const {
  return subscribed && filter_policy_scope == "MessageBody" &&
         SameJson(filter_policy, kWaitingForDataBodyFilter);
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
  r.topic_name = names.topic;
  DRIPR_ASSIGN_OR_RETURN(r.topic_arn, FindTopic(sns, names.topic));
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
    q.name = names.queues[i];
    q.dlq_name = names.dlqs[i];
    DRIPR_ASSIGN_OR_RETURN(q.url, FindQueue(sqs, q.name));
    DRIPR_ASSIGN_OR_RETURN(q.dlq_url, FindQueue(sqs, q.dlq_name));
    if (!q.dlq_url.empty()) {
      DRIPR_ASSIGN_OR_RETURN(auto d,
                             sqs.GetQueueAttributes(q.dlq_url, {"ApproximateNumberOfMessages"}));
      q.dlq_visible = count(d, "ApproximateNumberOfMessages");
    }
    if (q.url.empty()) continue;
    DRIPR_ASSIGN_OR_RETURN(auto a, sqs.GetQueueAttributes(q.url, {"All"}));
    q.visible = count(a, "ApproximateNumberOfMessages");
    q.in_flight = count(a, "ApproximateNumberOfMessagesNotVisible");
    if (auto it = a.find("RedrivePolicy"); it != a.end()) {
      auto p = json::parse(it->second, nullptr, false);
      if (p.is_object() && p.contains("maxReceiveCount")) {
        const auto& m = p["maxReceiveCount"];
        q.max_receive_count = m.is_number()   ? m.get<int>()
                              : m.is_string() ? std::atoi(m.get<std::string>().c_str())
                                              : 0;
      }
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
    DRIPR_ASSIGN_OR_RETURN(auto subs, sns.ListSubscriptionsByTopic(topic_arn));
    for (const auto& s : subs) {
      DRIPR_TRY(sns.Unsubscribe(s.subscription_arn));
      done.push_back("unsubscribed " + s.endpoint);
    }
    DRIPR_TRY(sns.DeleteTopic(topic_arn));
    done.push_back("deleted topic " + names.topic);
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

Result<InfraClients> InfraClientsFromEnv(const Env& env) {
  DRIPR_ASSIGN_OR_RETURN(auto sqs_options, ClientOptionsFromEnv(env, "sqs"));
  DRIPR_ASSIGN_OR_RETURN(
      auto sns_options,
      ClientOptionsFromEnv(env, "sns", "", sqs_options.credentials, sqs_options.http));
  return InfraClients{.sns = std::make_shared<SnsClient>(std::move(sns_options)),
                      .sqs = std::make_shared<SqsClient>(std::move(sqs_options))};
}

}  // namespace dripr::aws
