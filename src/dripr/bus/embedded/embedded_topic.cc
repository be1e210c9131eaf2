// EmbeddedTopic: SNS publish with filter policies and envelope / raw delivery.
#include <algorithm>
#include <nlohmann/json.hpp>
#include <optional>

#include "dripr/bus/embedded/embedded_bus.h"
#include "dripr/bus/embedded/messages.h"
#include "dripr/core/ids.h"
#include "dripr/core/time.h"

namespace dripr {

using sqlite::Connection;

namespace {

// The SNS notification JSON that SQS receives when raw delivery is off (see
// docs/reference/aws-sqs-sns.md §4); signature fields are omitted.
std::string Envelope(const std::string& message_id, const std::string& topic_arn,
                     const OutgoingMessage& m, int64_t now_ms) {
  nlohmann::json j;
  j["Type"] = "Notification";
  j["MessageId"] = message_id;
  j["TopicArn"] = topic_arn;
  j["Message"] = m.body;
  j["Timestamp"] = FormatIso8601(FromUnixMillis(now_ms));
  if (!m.attributes.empty()) {
    nlohmann::json attrs = nlohmann::json::object();
    for (const auto& [k, v] : m.attributes) attrs[k] = {{"Type", "String"}, {"Value", v}};
    j["MessageAttributes"] = std::move(attrs);
  }
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace

namespace embedded {

Result<std::vector<SubscriptionRow>> ReadSubscriptions(Connection& conn, const std::string& topic) {
  DRIPR_ASSIGN_OR_RETURN(auto st, conn.Prepare("SELECT queue, filter_policy, filter_scope, "
                                               "raw_delivery FROM bus_subscriptions "
                                               "WHERE topic=?1 ORDER BY queue"));
  st.BindString(topic);
  return st.ReadAll<SubscriptionRow>([](sqlite::Statement& s) {
    return SubscriptionRow{s.Text(0), s.Text(1), s.Text(2), s.Int(3) != 0};
  });
}

}  // namespace embedded

Status EmbeddedTopic::PublishOn(Connection& conn, const std::vector<const OutgoingMessage*>& ms,
                                std::vector<std::string>& ids,
                                std::vector<std::string>& delivered) {
  ids.clear();
  delivered.clear();
  DRIPR_ASSIGN_OR_RETURN(auto t, conn.Prepare("SELECT 1 FROM bus_topics WHERE name=?1"));
  t.BindString(name_);
  DRIPR_ASSIGN_OR_RETURN(bool found, t.Step());
  if (!found) return Fail(ErrorCode::kNotFound, "topic \"" + name_ + "\" is not declared");

  DRIPR_ASSIGN_OR_RETURN(auto subs, embedded::ReadSubscriptions(conn, name_));
  const int64_t now = broker_->NowMillis();
  for (const OutgoingMessage* m : ms) {
    const std::string sns_id = NewUuid();
    std::string envelope;  // built once, on first use
    const std::string attrs_json = embedded::EncodeAttributes(m->attributes);
    const ParsedBody body(m->body);  // once for every body-scoped subscription
    for (const auto& s : subs) {
      auto scope = ParseFilterScope(s.filter_scope);
      if (!scope) {
        return Fail(ErrorCode::kDataLoss, "bus_subscriptions: bad scope " + s.filter_scope);
      }
      auto policy = broker_->CachedPolicy(*scope, s.filter_policy);
      if (!policy) {
        return Fail(policy.error().Wrap("subscription " + name_ + " -> " + s.queue));
      }
      if (!(*policy)->Matches(m->attributes, body)) continue;
      if (s.raw_delivery) {
        DRIPR_TRY(embedded::InsertMessage(conn, s.queue, NewUuid(), m->body, attrs_json, now));
      } else {
        if (envelope.empty()) envelope = Envelope(sns_id, Arn(), *m, now);
        DRIPR_TRY(embedded::InsertMessage(conn, s.queue, NewUuid(), envelope, "{}", now));
      }
      if (std::find(delivered.begin(), delivered.end(), s.queue) == delivered.end()) {
        delivered.push_back(s.queue);
      }
    }
    ids.push_back(sns_id);
  }
  return Ok();
}

Result<std::string> EmbeddedTopic::Publish(const OutgoingMessage& m) {
  DRIPR_TRY(embedded::ValidateMessage(m));
  std::vector<std::string> ids, delivered;
  DRIPR_TRY(broker_->InWriteTransaction("publish to " + name_, [&](Connection& conn) {
    return PublishOn(conn, {&m}, ids, delivered);
  }));
  broker_->Notify(delivered);
  return ids.front();
}

std::vector<Result<std::string>> EmbeddedTopic::PublishBatch(
    const std::vector<OutgoingMessage>& ms) {
  // What goes into the transaction: the messages before the first invalid one.
  std::vector<const OutgoingMessage*> valid;
  std::optional<Error> invalid;
  for (const auto& m : ms) {
    if (auto st = embedded::ValidateMessage(m); !st) {
      invalid = st.error();
      break;
    }
    valid.push_back(&m);
  }
  std::vector<Result<std::string>> out;
  out.reserve(ms.size());
  std::vector<std::string> ids, delivered;
  Status st = Ok();
  if (!valid.empty()) {
    st = broker_->InWriteTransaction("publish to " + name_, [&](Connection& conn) {
      return PublishOn(conn, valid, ids, delivered);
    });
  }
  if (!st) {
    for (size_t i = 0; i < ms.size(); ++i) out.push_back(std::unexpected(st.error()));
    return out;
  }
  broker_->Notify(delivered);
  for (auto& id : ids) out.push_back(std::move(id));
  if (invalid) out.push_back(std::unexpected(*invalid));
  while (out.size() < ms.size()) {
    out.push_back(Fail(ErrorCode::kAborted, "not published: an earlier message failed"));
  }
  return out;
}

Result<SubscriptionMatches> EmbeddedTopic::MatchSubscriptions(const OutgoingMessage& m) {
  SubscriptionMatches r;
  DRIPR_TRY(broker_->WithConnection([&](Connection& conn) -> Status {
    r = SubscriptionMatches{};
    const ParsedBody body(m.body);
    DRIPR_ASSIGN_OR_RETURN(auto st, conn.Prepare("SELECT queue, filter_policy, filter_scope "
                                                 "FROM bus_subscriptions WHERE topic=?1"));
    st.BindString(name_);
    return st.ForEachRow([&](sqlite::Statement& row) -> Status {
      auto scope = ParseFilterScope(row.Text(2));
      if (!scope) return Fail(ErrorCode::kDataLoss, "bus_subscriptions: bad scope " + row.Text(2));
      auto policy = broker_->CachedPolicy(*scope, row.Text(1));
      if (!policy) return Fail(policy.error().Wrap("subscription " + name_ + " -> " + row.Text(0)));
      ++r.subscriptions;
      if ((*policy)->Matches(m.attributes, body)) ++r.matched;
      return Ok();
    });
  }));
  return r;
}

}  // namespace dripr
