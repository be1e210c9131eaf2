#include "dripr/bus/aws/sns_client.h"

#include <pugixml.hpp>

#include "dripr/core/text.h"

namespace dripr::aws {
namespace {

using Params = std::vector<std::pair<std::string, std::string>>;

ServiceError ParseSnsError(const HttpResponse& res) {
  ServiceError e;
  pugi::xml_document doc;
  if (doc.load_buffer(res.body.data(), res.body.size())) {
    pugi::xml_node err = doc.child("ErrorResponse").child("Error");
    if (!err) err = doc.select_node("//Error").node();
    e.code = err.child_value("Code");
    e.message = err.child_value("Message");
    e.request_id = doc.child("ErrorResponse").child_value("RequestId");
  }
  if (e.request_id.empty()) e.request_id = res.Header("x-amzn-requestid");
  if (e.code.empty() && e.message.empty() && !res.body.empty()) {
    e.message = Excerpt(res.body, 120);
  }
  return e;
}

// The <OpResult> element of a reply parsed into `doc`, or an error when the reply is not the
// XML SNS sends.
Result<pugi::xml_node> ResultNode(pugi::xml_document& doc, const std::string& body,
                                  std::string_view op) {
  const std::string name(op);
  if (!doc.load_buffer(body.data(), body.size())) {
    return Fail(ErrorCode::kUnavailable, "SNS " + name + ": unparsable XML reply");
  }
  pugi::xml_node result = doc.child((name + "Response").c_str()).child((name + "Result").c_str());
  if (!result) return Fail(ErrorCode::kUnavailable, "SNS " + name + ": malformed XML reply");
  return result;
}

// The text of `result`'s child `field`; kUnavailable when the reply lacks it.
Result<std::string> RequiredValue(pugi::xml_node result, std::string_view op, const char* field) {
  std::string value = result.child_value(field);
  if (value.empty()) {
    return Fail(ErrorCode::kUnavailable,
                "SNS " + std::string(op) + ": reply without " + std::string(field));
  }
  return value;
}

void AddAttributeEntries(Params& params, const std::string& prefix,
                         const std::map<std::string, std::string>& attributes) {
  int n = 1;
  for (const auto& [k, v] : attributes) {
    std::string base = prefix + ".entry." + std::to_string(n++);
    params.emplace_back(base + ".key", k);
    params.emplace_back(base + ".value", v);
  }
}

}  // namespace

SnsClient::SnsClient(ClientOptions options)
    : caller_(std::move(options), "sns", "SNS", &ParseSnsError) {}

Result<std::string> SnsClient::Call(std::string_view op, const Params& params) {
  std::string body = "Action=" + std::string(op) + "&Version=2010-03-31";
  for (const auto& [k, v] : params) body += "&" + UrlEncode(k) + "=" + UrlEncode(v);
  DRIPR_ASSIGN_OR_RETURN(
      auto res,
      caller_.Post(op, {{"Content-Type", "application/x-www-form-urlencoded; charset=utf-8"}},
                   std::move(body)));
  return std::move(res.body);
}

Result<std::string> SnsClient::CreateTopic(const std::string& name) {
  DRIPR_ASSIGN_OR_RETURN(auto body, Call("CreateTopic", {{"Name", name}}));
  pugi::xml_document doc;
  DRIPR_ASSIGN_OR_RETURN(auto result, ResultNode(doc, body, "CreateTopic"));
  return RequiredValue(result, "CreateTopic", "TopicArn");
}

Status SnsClient::DeleteTopic(const std::string& topic_arn) {
  DRIPR_TRY(Call("DeleteTopic", {{"TopicArn", topic_arn}}));
  return Ok();
}

Result<std::vector<std::string>> SnsClient::ListTopics() {
  std::vector<std::string> arns;
  std::string token;
  int pages = 0;
  do {
    Params params;
    if (!token.empty()) params.emplace_back("NextToken", token);
    DRIPR_ASSIGN_OR_RETURN(auto body, Call("ListTopics", params));
    pugi::xml_document doc;
    DRIPR_ASSIGN_OR_RETURN(auto result, ResultNode(doc, body, "ListTopics"));
    for (pugi::xml_node m : result.child("Topics").children("member")) {
      arns.emplace_back(m.child_value("TopicArn"));
    }
    std::string next = result.child_value("NextToken");
    DRIPR_TRY(CheckNextPage("SNS ListTopics", ++pages, token, next));
    token = std::move(next);
  } while (!token.empty());
  return arns;
}

Result<std::string> SnsClient::Subscribe(const std::string& topic_arn, const std::string& protocol,
                                         const std::string& endpoint,
                                         const std::map<std::string, std::string>& attributes) {
  Params params = {{"TopicArn", topic_arn},
                   {"Protocol", protocol},
                   {"Endpoint", endpoint},
                   {"ReturnSubscriptionArn", "true"}};
  AddAttributeEntries(params, "Attributes", attributes);
  DRIPR_ASSIGN_OR_RETURN(auto body, Call("Subscribe", params));
  pugi::xml_document doc;
  DRIPR_ASSIGN_OR_RETURN(auto result, ResultNode(doc, body, "Subscribe"));
  return RequiredValue(result, "Subscribe", "SubscriptionArn");
}

Status SnsClient::SetSubscriptionAttributes(const std::string& subscription_arn,
                                            const std::string& name, const std::string& value) {
  DRIPR_TRY(Call(
      "SetSubscriptionAttributes",
      {{"SubscriptionArn", subscription_arn}, {"AttributeName", name}, {"AttributeValue", value}}));
  return Ok();
}

Result<std::map<std::string, std::string>> SnsClient::GetSubscriptionAttributes(
    const std::string& subscription_arn) {
  DRIPR_ASSIGN_OR_RETURN(
      auto body, Call("GetSubscriptionAttributes", {{"SubscriptionArn", subscription_arn}}));
  pugi::xml_document doc;
  DRIPR_ASSIGN_OR_RETURN(auto result, ResultNode(doc, body, "GetSubscriptionAttributes"));
  std::map<std::string, std::string> attrs;
  for (pugi::xml_node e : result.child("Attributes").children("entry")) {
    attrs[e.child_value("key")] = e.child_value("value");
  }
  return attrs;
}

Result<std::vector<SnsSubscription>> SnsClient::ListSubscriptionsByTopic(
    const std::string& topic_arn) {
  std::vector<SnsSubscription> subs;
  std::string token;
  int pages = 0;
  do {
    Params params = {{"TopicArn", topic_arn}};
    if (!token.empty()) params.emplace_back("NextToken", token);
    DRIPR_ASSIGN_OR_RETURN(auto body, Call("ListSubscriptionsByTopic", params));
    pugi::xml_document doc;
    DRIPR_ASSIGN_OR_RETURN(auto result, ResultNode(doc, body, "ListSubscriptionsByTopic"));
    for (pugi::xml_node m : result.child("Subscriptions").children("member")) {
      subs.push_back(SnsSubscription{.subscription_arn = m.child_value("SubscriptionArn"),
                                     .protocol = m.child_value("Protocol"),
                                     .endpoint = m.child_value("Endpoint"),
                                     .topic_arn = m.child_value("TopicArn")});
    }
    std::string next = result.child_value("NextToken");
    DRIPR_TRY(CheckNextPage("SNS ListSubscriptionsByTopic", ++pages, token, next));
    token = std::move(next);
  } while (!token.empty());
  return subs;
}

Status SnsClient::Unsubscribe(const std::string& subscription_arn) {
  DRIPR_TRY(Call("Unsubscribe", {{"SubscriptionArn", subscription_arn}}));
  return Ok();
}

Result<std::string> SnsClient::Publish(const std::string& topic_arn, const std::string& message,
                                       const std::map<std::string, std::string>& attributes,
                                       const std::string& subject) {
  Params params = {{"TopicArn", topic_arn}, {"Message", message}};
  if (!subject.empty()) params.emplace_back("Subject", subject);
  int n = 1;
  for (const auto& [k, v] : attributes) {
    std::string base = "MessageAttributes.entry." + std::to_string(n++);
    params.emplace_back(base + ".Name", k);
    params.emplace_back(base + ".Value.DataType", "String");
    params.emplace_back(base + ".Value.StringValue", v);
  }
  DRIPR_ASSIGN_OR_RETURN(auto body, Call("Publish", params));
  pugi::xml_document doc;
  DRIPR_ASSIGN_OR_RETURN(auto result, ResultNode(doc, body, "Publish"));
  return RequiredValue(result, "Publish", "MessageId");
}

}  // namespace dripr::aws
