#include "dripr/bus/aws/sqs_client.h"

#include <set>

#include "dripr/bus/sqs_limits.h"
#include "dripr/core/log.h"
#include "dripr/core/text.h"

namespace dripr::aws {
namespace {

using nlohmann::json;

// Tolerant accessors: a reply of an unexpected shape yields empty values, never throws.
std::string Str(const json& j, const char* key) {
  if (!j.is_object()) return "";
  auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : "";
}

bool Bool(const json& j, const char* key, bool fallback) {
  if (!j.is_object()) return fallback;
  auto it = j.find(key);
  return it != j.end() && it->is_boolean() ? it->get<bool>() : fallback;
}

const json& Member(const json& j, const char* key) {
  static const json kNull;
  if (!j.is_object()) return kNull;
  auto it = j.find(key);
  return it != j.end() ? *it : kNull;
}

std::optional<size_t> ParseIndex(const std::string& s) {
  if (s.empty() || s.size() > 9) return std::nullopt;
  size_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return std::nullopt;
    v = v * 10 + static_cast<size_t>(c - '0');
  }
  return v;
}

ServiceError ParseSqsError(const HttpResponse& res) {
  ServiceError e;
  e.request_id = res.Header("x-amzn-requestid");
  auto j = json::parse(res.body, nullptr, false);
  if (j.is_object()) {
    std::string type = Str(j, "__type");
    e.code = type.substr(type.find('#') == std::string::npos ? 0 : type.find('#') + 1);
    e.message = Str(j, "message");
    if (e.message.empty()) e.message = Str(j, "Message");
  }
  // The legacy (Query-protocol) code, "AWS.SimpleQueueService.NonExistentQueue;Sender".
  std::string legacy = res.Header("x-amzn-query-error");
  if (!legacy.empty()) e.code = legacy.substr(0, legacy.find(';'));
  if (e.code.empty() && e.message.empty() && !res.body.empty()) {
    // moto answers some malformed requests with an HTML page; keep a short excerpt.
    e.message = Excerpt(res.body, 120);
  }
  return e;
}

AttributeMap StringMap(const json& j) {
  AttributeMap out;
  if (!j.is_object()) return out;
  for (const auto& [k, v] : j.items()) {
    out[k] = v.is_string() ? v.get<std::string>() : v.dump();
  }
  return out;
}

json MessageAttributesJson(const AttributeMap& attrs) {
  json out = json::object();
  for (const auto& [name, value] : attrs) {
    out[name] = {{"DataType", "String"}, {"StringValue", value}};
  }
  return out;
}

}  // namespace

std::string QueueNameFromUrl(std::string_view queue_url) {
  while (queue_url.ends_with('/')) queue_url.remove_suffix(1);
  auto slash = queue_url.rfind('/');
  return std::string(slash == std::string_view::npos ? queue_url : queue_url.substr(slash + 1));
}

SqsClient::SqsClient(ClientOptions options)
    : caller_(std::move(options), "sqs", "SQS", &ParseSqsError) {}

Result<json> SqsClient::Call(std::string_view op, const json& request,
                             std::chrono::milliseconds extra_timeout, CancelToken* cancel) {
  std::string body;
  try {
    body = request.dump();
  } catch (const json::exception& e) {  // invalid UTF-8 in a message or attribute
    return Fail(ErrorCode::kInvalidArgument, "SQS " + std::string(op) + ": " + e.what());
  }
  DRIPR_ASSIGN_OR_RETURN(auto res, caller_.Post(op,
                                                {{"Content-Type", "application/x-amz-json-1.0"},
                                                 {"X-Amz-Target", "AmazonSQS." + std::string(op)}},
                                                std::move(body), extra_timeout, cancel));
  if (res.body.empty()) return json::object();
  auto j = json::parse(res.body, nullptr, false);
  if (j.is_discarded() || !j.is_object()) {
    return Fail(ErrorCode::kUnavailable, "SQS " + std::string(op) + ": malformed JSON reply");
  }
  return j;
}

Result<std::string> SqsClient::CreateQueue(const std::string& name,
                                           const AttributeMap& attributes) {
  json req = {{"QueueName", name}};
  if (!attributes.empty()) req["Attributes"] = attributes;
  DRIPR_ASSIGN_OR_RETURN(auto j, Call("CreateQueue", req));
  std::string url = Str(j, "QueueUrl");
  if (url.empty()) return Fail(ErrorCode::kUnavailable, "SQS CreateQueue: reply without QueueUrl");
  return url;
}

Result<std::string> SqsClient::GetQueueUrl(const std::string& name) {
  DRIPR_ASSIGN_OR_RETURN(auto j, Call("GetQueueUrl", {{"QueueName", name}}));
  std::string url = Str(j, "QueueUrl");
  if (url.empty()) return Fail(ErrorCode::kUnavailable, "SQS GetQueueUrl: reply without QueueUrl");
  return url;
}

Result<AttributeMap> SqsClient::GetQueueAttributes(const std::string& queue_url,
                                                   const std::vector<std::string>& names) {
  DRIPR_ASSIGN_OR_RETURN(
      auto j, Call("GetQueueAttributes", {{"QueueUrl", queue_url}, {"AttributeNames", names}}));
  return StringMap(Member(j, "Attributes"));
}

Status SqsClient::SetQueueAttributes(const std::string& queue_url, const AttributeMap& attributes) {
  DRIPR_TRY(Call("SetQueueAttributes", {{"QueueUrl", queue_url}, {"Attributes", attributes}}));
  return Ok();
}

Result<std::string> SqsClient::SendMessage(const std::string& queue_url, const std::string& body,
                                           const AttributeMap& message_attributes,
                                           int delay_seconds) {
  json req = {{"QueueUrl", queue_url}, {"MessageBody", body}};
  if (delay_seconds > 0) req["DelaySeconds"] = delay_seconds;
  if (!message_attributes.empty())
    req["MessageAttributes"] = MessageAttributesJson(message_attributes);
  DRIPR_ASSIGN_OR_RETURN(auto j, Call("SendMessage", req));
  std::string id = Str(j, "MessageId");
  if (id.empty()) return Fail(ErrorCode::kUnavailable, "SQS SendMessage: reply without MessageId");
  return id;
}

Result<std::vector<SqsMessage>> SqsClient::ReceiveMessage(const std::string& queue_url,
                                                          const ReceiveOptions& options) {
  if (options.max_messages < 1 || options.max_messages > 10) {
    return Fail(ErrorCode::kInvalidArgument, "SQS ReceiveMessage: max messages must be 1-10, got " +
                                                 std::to_string(options.max_messages));
  }
  if (options.wait.count() < 0 || options.wait.count() > 20) {
    return Fail(ErrorCode::kInvalidArgument, "SQS ReceiveMessage: wait must be 0-20 s");
  }
  const std::vector<std::string> system = {"ApproximateReceiveCount", "SentTimestamp",
                                           "ApproximateFirstReceiveTimestamp"};
  json req = {{"QueueUrl", queue_url},
              {"MaxNumberOfMessages", options.max_messages},
              {"WaitTimeSeconds", options.wait.count()},
              {"MessageSystemAttributeNames", system},
              {"AttributeNames", system},
              {"MessageAttributeNames", {"All"}}};
  if (options.visibility) req["VisibilityTimeout"] = options.visibility->count();
  DRIPR_ASSIGN_OR_RETURN(auto j, Call("ReceiveMessage", req, options.wait, options.cancel));
  std::vector<SqsMessage> out;
  const json& messages = Member(j, "Messages");
  if (!messages.is_array()) return out;
  for (const auto& m : messages) {
    if (!m.is_object()) continue;
    SqsMessage msg;
    msg.message_id = Str(m, "MessageId");
    msg.receipt_handle = Str(m, "ReceiptHandle");
    msg.body = Str(m, "Body");
    msg.attributes = StringMap(Member(m, "Attributes"));
    const json& attrs = Member(m, "MessageAttributes");
    if (attrs.is_object()) {
      for (const auto& [name, v] : attrs.items()) {
        if (Member(v, "StringValue").is_string())
          msg.message_attributes[name] = Str(v, "StringValue");
      }
    }
    out.push_back(std::move(msg));
  }
  return out;
}

Result<std::vector<Status>> SqsClient::Batch(std::string_view op, const std::string& queue_url,
                                             std::vector<json> entries) {
  std::vector<Status> results(entries.size(), Ok());
  const int max_attempts = std::max(1, caller_.options().retry.max_attempts);
  for (size_t start = 0; start < entries.size(); start += 10) {
    const size_t end = std::min(entries.size(), start + 10);
    std::vector<size_t> pending;
    for (size_t i = start; i < end; ++i) pending.push_back(i);
    for (int attempt = 1; !pending.empty(); ++attempt) {
      if (attempt > 1) caller_.Backoff(attempt - 1);
      json batch = json::array();
      for (size_t i : pending) {
        json e = entries[i];
        e["Id"] = std::to_string(i);
        batch.push_back(std::move(e));
      }
      DRIPR_ASSIGN_OR_RETURN(auto j,
                             Call(op, {{"QueueUrl", queue_url}, {"Entries", std::move(batch)}}));
      std::vector<size_t> retry;
      std::set<size_t> answered;
      const json& successful = Member(j, "Successful");
      for (const auto& ok : successful.is_array() ? successful : json::array()) {
        auto i = ParseIndex(Str(ok, "Id"));
        if (i && *i < results.size()) {
          results[*i] = Ok();
          answered.insert(*i);
        }
      }
      const json& failed = Member(j, "Failed");
      for (const auto& f : failed.is_array() ? failed : json::array()) {
        std::string id = Str(f, "Id");
        auto index = ParseIndex(id);
        if (!index || *index >= results.size()) continue;
        size_t i = *index;
        answered.insert(i);
        const std::string code = Str(f, "Code");
        const bool sender_fault = Bool(f, "SenderFault", true);
        ErrorCode ec = ClassifyAwsError(sender_fault ? 400 : 500, code);
        results[i] = Fail(
            ec, "SQS " + std::string(op) + " entry " + id + ": " + code + ": " + Str(f, "Message"));
        if (!sender_fault && attempt < max_attempts) retry.push_back(i);
      }
      for (size_t i : pending) {
        if (!answered.contains(i)) {
          results[i] =
              Fail(ErrorCode::kUnavailable,
                   "SQS " + std::string(op) + ": no result for entry " + std::to_string(i));
        }
      }
      pending = std::move(retry);
    }
  }
  return results;
}

Result<std::vector<Status>> SqsClient::DeleteMessageBatch(
    const std::string& queue_url, const std::vector<std::string>& receipts) {
  std::vector<json> entries;
  entries.reserve(receipts.size());
  for (const auto& r : receipts) entries.push_back({{"ReceiptHandle", r}});
  return Batch("DeleteMessageBatch", queue_url, std::move(entries));
}

Result<std::vector<Status>> SqsClient::ChangeMessageVisibilityBatch(
    const std::string& queue_url,
    const std::vector<std::pair<std::string, std::chrono::seconds>>& entries) {
  std::vector<json> out;
  out.reserve(entries.size());
  for (const auto& [receipt, timeout] : entries) {
    if (timeout.count() < 0 || timeout.count() > sqs::kMaxVisibilitySeconds) {
      return Fail(ErrorCode::kInvalidArgument,
                  "SQS ChangeMessageVisibilityBatch: visibility must be 0-43200 s");
    }
    out.push_back({{"ReceiptHandle", receipt}, {"VisibilityTimeout", timeout.count()}});
  }
  return Batch("ChangeMessageVisibilityBatch", queue_url, std::move(out));
}

Status SqsClient::PurgeQueue(const std::string& queue_url) {
  DRIPR_TRY(Call("PurgeQueue", {{"QueueUrl", queue_url}}));
  return Ok();
}

Status SqsClient::DeleteQueue(const std::string& queue_url) {
  DRIPR_TRY(Call("DeleteQueue", {{"QueueUrl", queue_url}}));
  return Ok();
}

Result<std::vector<std::string>> SqsClient::ListQueues(const std::string& prefix) {
  std::vector<std::string> urls;
  std::string token;
  int pages = 0;
  do {
    json req = {{"MaxResults", 1000}};
    if (!prefix.empty()) req["QueueNamePrefix"] = prefix;
    if (!token.empty()) req["NextToken"] = token;
    DRIPR_ASSIGN_OR_RETURN(auto j, Call("ListQueues", req));
    const json& list = Member(j, "QueueUrls");
    for (const auto& u : list.is_array() ? list : json::array()) {
      if (u.is_string()) urls.push_back(u.get<std::string>());
    }
    std::string next = Str(j, "NextToken");
    DRIPR_TRY(CheckNextPage("SQS ListQueues", ++pages, token, next));
    token = std::move(next);
  } while (!token.empty());
  return urls;
}

}  // namespace dripr::aws
