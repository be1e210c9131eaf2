// `dripr infra up`: plan and apply in one pass. Every write is guarded by !dry_run, so a dry
// run walks exactly the same decisions and reads as the real run (docs/decisions/awsinfra.md).

#include <fmt/format.h>

#include <optional>

#include "dripr/bus/aws/aws_bus.h"
#include "dripr/bus/aws/infra.h"
#include "dripr/bus/aws/infra_internal.h"

namespace dripr::aws {
namespace {

using nlohmann::json;
using namespace infra_internal;

constexpr char kCreate[] = "create";
constexpr char kReuse[] = "reuse";
constexpr char kChange[] = "change";
constexpr char kKeep[] = "keep";
// Stands in for an ARN a dry run cannot know (the resource would be created).
constexpr char kNewArn[] = "(new)";

class UpRun {
 public:
  UpRun(SnsClient& sns, SqsClient& sqs, const InfraOptions& o, InfraUpResult& r)
      : sns_(sns), sqs_(sqs), o_(o), r_(r) {}

  Status Run() {
    DRIPR_ASSIGN_OR_RETURN(auto names, InfraNames::For(o_.env_name, o_.name_prefix));
    r_.dry_run = o_.dry_run;
    DRIPR_ASSIGN_OR_RETURN(r_.topic_arn, Topic(names.topic));
    if (!r_.topic_arn.empty()) {
      DRIPR_ASSIGN_OR_RETURN(subs_, sns_.ListSubscriptionsByTopic(r_.topic_arn));
    }
    for (size_t i = 0; i < 3; ++i) {
      const std::string name =
          o_.queue_urls[i].empty() ? names.queues[i] : QueueNameFromUrl(o_.queue_urls[i]);
      DRIPR_TRY(WorkQueue(i, name, !o_.queue_urls[i].empty()));
    }
    if (!o_.dry_run) {
      r_.env_lines.push_back("SNS_CAMPAIGN_EVENTS_TOPIC_ARN=" + r_.topic_arn);
      for (size_t i = 0; i < 3; ++i) {
        r_.env_lines.push_back(std::string(kQueueUrlVars[i]) + "=" + r_.queue_urls[i]);
      }
      r_.env_lines.push_back("EVENT_BUS=aws");
    }
    return Ok();
  }

 private:
  struct Existing {
    std::string url;  // "" when the queue does not exist
    AttributeMap attrs;
  };

  void Step(std::string resource, std::string name, std::string action, std::string detail) {
    r_.plan.push_back({std::move(resource), std::move(name), std::move(action), std::move(detail)});
  }

  // The topic's ARN ("" in a dry run that would create it).
  Result<std::string> Topic(const std::string& default_name) {
    const bool named = !o_.topic_arn.empty();
    const std::string name = named ? NameFromArn(o_.topic_arn) : default_name;
    std::string found;
    if (named) {
      DRIPR_ASSIGN_OR_RETURN(found, FindTopicArn(sns_, o_.topic_arn));
    } else {
      DRIPR_ASSIGN_OR_RETURN(found, FindTopic(sns_, name));
    }
    if (!found.empty()) {
      Step("topic", name, kReuse, named ? "named by SNS_CAMPAIGN_EVENTS_TOPIC_ARN" : "exists");
      return found;
    }
    Step("topic", name, kCreate,
         named ? "named by SNS_CAMPAIGN_EVENTS_TOPIC_ARN, does not exist" : "");
    if (o_.dry_run) return std::string();
    DRIPR_ASSIGN_OR_RETURN(auto arn, sns_.CreateTopic(name));
    if (named && arn != o_.topic_arn) {
      return Fail(ErrorCode::kFailedPrecondition,
                  "SNS_CAMPAIGN_EVENTS_TOPIC_ARN is " + o_.topic_arn +
                      " but the topic was created as " + arn + ": check the account and region");
    }
    return arn;
  }

  Result<Existing> Inspect(const std::string& name) {
    Existing e;
    DRIPR_ASSIGN_OR_RETURN(e.url, FindQueue(sqs_, name));
    if (!e.url.empty()) {
      DRIPR_ASSIGN_OR_RETURN(e.attrs, sqs_.GetQueueAttributes(e.url, {"All"}));
    }
    return e;
  }

  // A RedrivePolicy reduced to what matters, so that "5" and 5 compare equal.
  static std::string Normalized(const std::string& attribute, const std::string& value) {
    if (attribute != "RedrivePolicy") return value;
    auto p = json::parse(value, nullptr, false);
    if (!p.is_object()) return value;
    return json{{"deadLetterTargetArn", StringField(p, "deadLetterTargetArn")},
                {"maxReceiveCount", RedriveMaxReceiveCount(value)}}
        .dump();
  }

  // Creates the queue with `want`, or adds the attributes it lacks (and, with force, changes
  // those that differ). Returns its URL ("" in a dry run that would create it).
  Result<std::string> Converge(const char* resource, const std::string& name, const Existing& e,
                               const AttributeMap& want, const std::string& origin) {
    if (e.url.empty()) {
      Step(resource, name, kCreate, origin.empty() ? origin : origin + ", does not exist");
      if (o_.dry_run) return std::string();
      return sqs_.CreateQueue(name, want);
    }
    AttributeMap set;
    std::vector<std::string> changed, kept;
    for (const auto& [k, v] : want) {
      auto it = e.attrs.find(k);
      if (it == e.attrs.end() || it->second.empty()) {
        set[k] = v;
        changed.push_back(k + " added");
      } else if (Normalized(k, it->second) != Normalized(k, v)) {
        (o_.force ? changed : kept).push_back(fmt::format("{} {} -> {}", k, it->second, v));
        if (o_.force) set[k] = v;
      }
    }
    std::string detail = origin;
    auto append = [&detail](const std::string& s) { detail += (detail.empty() ? "" : "; ") + s; };
    for (const auto& c : changed) append(c);
    for (const auto& k : kept) append("not changed without --force: " + k);
    Step(resource, name, !set.empty() ? kChange : !kept.empty() ? kKeep : kReuse, detail);
    if (!set.empty() && !o_.dry_run) DRIPR_TRY(sqs_.SetQueueAttributes(e.url, set));
    return e.url;
  }

  Status WorkQueue(size_t i, const std::string& name, bool named) {
    const std::string origin = named ? std::string("named by ") + kQueueUrlVars[i] : "";
    DRIPR_ASSIGN_OR_RETURN(auto queue, Inspect(name));
    // An existing queue's RedrivePolicy names its DLQ: that one is adopted.
    std::string dlq_name = name + "-dlq";
    if (auto it = queue.attrs.find("RedrivePolicy"); it != queue.attrs.end()) {
      const std::string target =
          StringField(json::parse(it->second, nullptr, false), "deadLetterTargetArn");
      if (!target.empty()) dlq_name = NameFromArn(target);
    }
    DRIPR_ASSIGN_OR_RETURN(auto dlq, Inspect(dlq_name));
    DRIPR_ASSIGN_OR_RETURN(
        r_.dlq_urls[i],
        Converge("dlq", dlq_name, dlq,
                 {{"MessageRetentionPeriod", std::to_string(o_.dlq_retention.count())}}, ""));
    std::string dlq_arn = kNewArn;
    if (!r_.dlq_urls[i].empty()) {
      DRIPR_ASSIGN_OR_RETURN(dlq_arn, QueueArn(sqs_, r_.dlq_urls[i]));
    }
    const std::string redrive =
        json{{"deadLetterTargetArn", dlq_arn}, {"maxReceiveCount", o_.max_receive_count}}.dump();
    DRIPR_ASSIGN_OR_RETURN(
        r_.queue_urls[i],
        Converge("queue", name, queue,
                 {{"VisibilityTimeout", std::to_string(o_.visibility_timeout.count())},
                  {"MessageRetentionPeriod", std::to_string(o_.message_retention.count())},
                  {"RedrivePolicy", redrive}},
                 origin));
    std::string queue_arn = kNewArn;
    if (!r_.queue_urls[i].empty()) {
      DRIPR_ASSIGN_OR_RETURN(queue_arn, QueueArn(sqs_, r_.queue_urls[i]));
    }
    DRIPR_TRY(Policy(name, queue, r_.queue_urls[i], queue_arn));
    return Subscription(name, queue_arn, !r_.queue_urls[i].empty());
  }

  // Our statement added to, or updated in, the queue's access policy; all others kept.
  Status Policy(const std::string& name, const Existing& queue, const std::string& url,
                const std::string& queue_arn) {
    const std::string topic_arn = r_.topic_arn.empty() ? kNewArn : r_.topic_arn;
    json ours = {{"Sid", kTopicPolicySid},
                 {"Effect", "Allow"},
                 {"Principal", {{"Service", "sns.amazonaws.com"}}},
                 {"Action", "sqs:SendMessage"},
                 {"Resource", queue_arn},
                 {"Condition", {{"ArnEquals", {{"aws:SourceArn", topic_arn}}}}}};
    json policy;
    auto it = queue.attrs.find("Policy");
    if (it == queue.attrs.end() || it->second.empty()) {
      policy = {{"Version", "2012-10-17"},
                {"Id", queue_arn + "/SQSDefaultPolicy"},
                {"Statement", json::array({ours})}};
      Step("queue policy", name, queue.url.empty() ? kCreate : kChange,
           std::string("statement ") + kTopicPolicySid + " added");
    } else {
      policy = json::parse(it->second, nullptr, false);
      if (!policy.is_object()) {
        return Fail(ErrorCode::kFailedPrecondition,
                    "queue " + name + ": its access policy is not a JSON object; fix it first");
      }
      json& statements = policy["Statement"];
      if (statements.is_object()) statements = json::array({statements});
      if (!statements.is_array()) statements = json::array();
      json* mine = nullptr;
      for (auto& s : statements) {
        if (StringField(s, "Sid") == kTopicPolicySid) mine = &s;
      }
      const size_t others = statements.size() - (mine ? 1 : 0);
      const std::string kept = fmt::format("{} other statement(s) kept", others);
      if (mine && *mine == ours) {
        Step("queue policy", name, kReuse,
             std::string("statement ") + kTopicPolicySid + " in place; " + kept);
        return Ok();
      }
      Step("queue policy", name, kChange,
           std::string("statement ") + kTopicPolicySid + (mine ? " updated; " : " added; ") + kept);
      if (mine) {
        *mine = ours;
      } else {
        statements.push_back(ours);
      }
    }
    if (o_.dry_run) return Ok();
    return sqs_.SetQueueAttributes(url, {{"Policy", policy.dump()}});
  }

  Status Subscription(const std::string& name, const std::string& queue_arn, bool queue_exists) {
    const std::string raw = o_.raw_message_delivery ? "true" : "false";
    const std::string scope(sqs::kFilterPolicyScope);
    std::vector<std::string> existing;
    if (queue_exists) {
      for (const auto& s : subs_) {
        if (s.protocol == "sqs" && s.endpoint == queue_arn) existing.push_back(s.subscription_arn);
      }
    }
    if (existing.empty()) {
      Step("subscription", name, kCreate, "filter " + scope + " " + o_.filter_policy);
      if (o_.dry_run) return Ok();
      auto arn = sns_.Subscribe(r_.topic_arn, "sqs", queue_arn,
                                {{"FilterPolicyScope", scope},
                                 {"FilterPolicy", o_.filter_policy},
                                 {"RawMessageDelivery", raw}});
      return arn ? Ok() : Status(Fail(arn.error()));
    }
    DRIPR_ASSIGN_OR_RETURN(auto attrs, sns_.GetSubscriptionAttributes(existing[0]));
    const std::string policy = attrs.contains("FilterPolicy") ? attrs["FilterPolicy"] : "";
    const std::string have_scope =
        attrs.contains("FilterPolicyScope") ? attrs["FilterPolicyScope"] : "MessageAttributes";
    bool set_filter = false, kept_filter = false;
    std::string detail;
    if (policy.empty()) {
      set_filter = true;
      detail = "filter " + scope + " " + o_.filter_policy + " set (had none)";
    } else if (have_scope == scope && SameJson(policy, o_.filter_policy)) {
      detail = "filter in place";
    } else if (o_.force) {
      set_filter = true;
      detail = "filter " + have_scope + " " + policy + " -> " + scope + " " + o_.filter_policy;
    } else {
      kept_filter = true;
      detail = "filter " + have_scope + " " + policy + " differs; not changed without --force";
    }
    std::vector<std::string> duplicates(existing.begin() + 1, existing.end());
    if (!duplicates.empty()) {
      detail +=
          fmt::format("; {} duplicate subscription(s) of this queue {}", duplicates.size(),
                      o_.force ? "removed" : "deliver every event again (--force removes them)");
    }
    const bool changes = set_filter || (o_.force && !duplicates.empty());
    const bool differs = !changes && (kept_filter || !duplicates.empty());
    Step("subscription", name, changes ? kChange : differs ? kKeep : kReuse, detail);
    if (o_.dry_run) return Ok();
    if (set_filter) {
      // Scope first: a nested body policy is invalid under the MessageAttributes scope.
      DRIPR_TRY(sns_.SetSubscriptionAttributes(existing[0], "FilterPolicyScope", scope));
      DRIPR_TRY(sns_.SetSubscriptionAttributes(existing[0], "FilterPolicy", o_.filter_policy));
    }
    if (o_.force) {
      for (const auto& d : duplicates) DRIPR_TRY(sns_.Unsubscribe(d));
    }
    return Ok();
  }

  SnsClient& sns_;
  SqsClient& sqs_;
  const InfraOptions& o_;
  InfraUpResult& r_;
  std::vector<SnsSubscription> subs_;
};

}  // namespace

json InfraStep::ToJson() const {
  return {{"resource", resource}, {"name", name}, {"action", action}, {"detail", detail}};
}

std::string InfraStep::ToText() const {
  return fmt::format("{:<7} {:<13} {}{}{}", action, resource, name, detail.empty() ? "" : ": ",
                     detail);
}

json InfraUpResult::ToJson() const {
  json env = json::object();
  for (const auto& line : env_lines) {
    auto eq = line.find('=');
    env[line.substr(0, eq)] = line.substr(eq + 1);
  }
  json steps = json::array();
  for (const auto& s : plan) steps.push_back(s.ToJson());
  return {{"dry_run", dry_run},       {"plan", steps},        {"topic_arn", topic_arn},
          {"queue_urls", queue_urls}, {"dlq_urls", dlq_urls}, {"env", env}};
}

Result<InfraUpResult> InfraUp(SnsClient& sns, SqsClient& sqs, const InfraOptions& options) {
  InfraUpResult r;
  UpRun run(sns, sqs, options, r);
  DRIPR_TRY(run.Run());
  return r;
}

}  // namespace dripr::aws
