#include "dripr/domain/event.h"

#include <cstdio>
#include <limits>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <vector>

#include "dripr/core/text.h"
#include "dripr/core/time.h"
#include "dripr/domain/campaign_rules.h"

namespace dripr {
namespace {

using nlohmann::json;

// SQS's maximum message size; nothing legitimate is larger.
constexpr size_t kMaxBodyBytes = 256 * 1024;
// The event is two levels deep; the SNS envelope adds none (Message is a string).
constexpr int kMaxDepth = 64;
constexpr size_t kMaxEventIdChars = 128;

// "string \"abc\"", "number 12", "object" ...: what a field held, for error messages.
std::string Describe(const json& v) {
  if (v.is_string()) return "string " + QuotedEcho(v.get_ref<const std::string&>());
  if (v.is_number() || v.is_boolean()) return std::string(v.type_name()) + " " + v.dump();
  return v.type_name();
}

bool IsPrintableAscii(std::string_view s) {
  for (unsigned char c : s) {
    if (c < 0x20 || c > 0x7e) return false;
  }
  return true;
}

// True when no array/object in the JSON text nests deeper than `limit`. Brackets inside
// strings do not count. Checked before parsing so the parser never sees a bomb.
bool DepthWithin(std::string_view s, int limit) {
  int depth = 0;
  bool in_string = false;
  bool escaped = false;
  for (char c : s) {
    if (in_string) {
      if (escaped) {
        escaped = false;
      } else if (c == '\\') {
        escaped = true;
      } else if (c == '"') {
        in_string = false;
      }
    } else if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      if (++depth > limit) return false;
    } else if (c == ']' || c == '}') {
      --depth;
    }
  }
  return true;
}

// nlohmann's document builder, counting the object keys of the text as it goes.
class KeyCountingParser : public nlohmann::detail::json_sax_dom_parser<json> {
 public:
  explicit KeyCountingParser(json& doc) : json_sax_dom_parser(doc) {}
  bool key(json::string_t& k) {
    ++keys;
    return json_sax_dom_parser::key(k);
  }
  size_t keys = 0;
};

// The members of every object in `v` (the text's keys, less any that repeated one).
size_t MemberCount(const json& v) {
  size_t n = v.is_object() ? v.size() : 0;
  if (v.is_structured()) {
    for (const auto& child : v) n += MemberCount(child);
  }
  return n;
}

// The first key that repeats one of its object's (text known to be JSON with one).
std::string FirstDuplicateKey(std::string_view text) {
  std::vector<std::set<std::string>> keys;  // one set per open object
  std::string duplicate;
  auto track = [&](int, json::parse_event_t event, json& parsed) {
    if (event == json::parse_event_t::object_start) {
      keys.emplace_back();
    } else if (event == json::parse_event_t::object_end && !keys.empty()) {
      keys.pop_back();
    } else if (event == json::parse_event_t::key && !keys.empty() && duplicate.empty() &&
               !keys.back().insert(parsed.get<std::string>()).second) {
      duplicate = parsed.get<std::string>();
    }
    return true;
  };
  json parsed = json::parse(text.begin(), text.end(), track, /*allow_exceptions=*/false);
  return duplicate;
}

// Parses untrusted JSON text; `what` ("body", "SNS Message") names it in errors.
Result<json> ParseJson(std::string_view text, std::string_view what) {
  const std::string w(what);
  if (text.size() > kMaxBodyBytes) {
    return FailInvalid(w + " is " + std::to_string(text.size()) + " bytes, more than the " +
                       std::to_string(kMaxBodyBytes) + "-byte limit");
  }
  size_t bad = FindInvalidUtf8(text);
  if (bad != std::string_view::npos) {
    return FailInvalid(w + " is not valid UTF-8 (byte " + std::to_string(bad) + ")");
  }
  if (text.find_first_not_of(" \t\r\n") == std::string_view::npos) {
    return FailInvalid(w + " is empty");
  }
  if (!DepthWithin(text, kMaxDepth)) {
    return FailInvalid(w + " nests deeper than " + std::to_string(kMaxDepth) + " levels");
  }
  // Duplicate keys are refused (docs/decisions/domain.md "Duplicate keys"): parsers disagree
  // on which one wins (nlohmann and Python keep the last, others the first), so a body whose
  // meaning depends on the reader is not an event. nlohmann's own document builder keeps the
  // last, so a duplicate leaves the document with fewer members than the text has keys; only
  // then is the text parsed again, key by key, to name the duplicate (the per-key tracking
  // cost about a third of every event's decoding: docs/decisions/performance.md).
  try {
    json doc;
    KeyCountingParser sax(doc);
    json::sax_parse(text.begin(), text.end(), &sax);
    if (sax.keys != MemberCount(doc)) {
      return FailInvalid(w + " has a duplicate key " + QuotedEcho(FirstDuplicateKey(text)));
    }
    return doc;
  } catch (const json::parse_error& e) {
    return FailInvalid(w + " is not JSON (syntax error at byte " + std::to_string(e.byte) + ")");
  } catch (const std::exception& e) {
    return FailInvalid(w + " is not JSON");
  }
}

// The member `key`, or nullptr when absent.
const json* Member(const json& obj, const char* key) {
  auto it = obj.find(key);
  return it == obj.end() ? nullptr : &*it;
}

Result<CampaignId> DecodeCampaignId(const json* v) {
  if (!v) return FailInvalid("campaign_id: missing");
  std::string id;
  if (v->is_number_unsigned()) {
    id = std::to_string(v->get<uint64_t>());
  } else if (v->is_string()) {
    id = v->get<std::string>();
  } else {
    return FailInvalid("campaign_id: must be a non-empty string or a non-negative integer, got " +
                       Describe(*v));
  }
  // The one campaign-id rule (domain/campaign_id.h): no spaces, as everywhere else.
  auto parsed = CampaignId::Parse(id);
  if (!parsed) return Fail(parsed.error().Wrap("campaign_id"));
  return std::move(*parsed);
}

Result<CampaignStatus> DecodeStatus(const json& v, const char* field) {
  const std::string f(field);
  if (!v.is_string()) return FailInvalid(f + ": must be a string, got " + Describe(v));
  auto s = ParseCampaignStatus(v.get_ref<const std::string&>());
  if (!s) {
    return FailInvalid(f + ": unknown campaign status " +
                       QuotedEcho(v.get_ref<const std::string&>()));
  }
  return *s;
}

Result<StatusChangeEvent> DecodeEvent(const json& doc) {
  const json* type = Member(doc, "event_type");
  if (!type) return FailInvalid("event_type: missing");
  if (!type->is_string())
    return FailInvalid("event_type: must be a string, got " + Describe(*type));
  if (type->get_ref<const std::string&>() != kStatusChangeEventType) {
    return FailInvalid("event_type: must be \"STATUS_CHANGE\", got " +
                       QuotedEcho(type->get_ref<const std::string&>()));
  }
  const json* payload = Member(doc, "payload");
  if (!payload) return FailInvalid("payload: missing");
  if (!payload->is_object()) {
    return FailInvalid("payload: must be an object, got " + Describe(*payload));
  }
  const json& p = *payload;

  StatusChangeEvent e;
  DRIPR_ASSIGN_OR_RETURN(e.campaign_id, DecodeCampaignId(Member(p, "campaign_id")));

  const json* zip = Member(p, "zip_code");
  if (!zip) return FailInvalid("zip_code: missing");
  if (!zip->is_string()) {
    return FailInvalid("zip_code: must be a string (zip codes keep leading zeros), got " +
                       Describe(*zip));
  }
  auto z = NormalizeZip(zip->get_ref<const std::string&>());
  if (!z) return Fail(z.error().Wrap("zip_code"));
  e.zip_code = std::move(*z);

  if (const json* from = Member(p, "from_status"); from && !from->is_null()) {
    DRIPR_ASSIGN_OR_RETURN(e.from_status, DecodeStatus(*from, "from_status"));
  }
  const json* to = Member(p, "to_status");
  if (!to) return FailInvalid("to_status: missing");
  DRIPR_ASSIGN_OR_RETURN(e.to_status, DecodeStatus(*to, "to_status"));

  const json* ts = Member(p, "timestamp");
  if (!ts) return FailInvalid("timestamp: missing");
  if (!ts->is_string()) {
    return FailInvalid("timestamp: must be an ISO-8601 string, got " + Describe(*ts));
  }
  auto t = ParseIso8601(ts->get_ref<const std::string&>());
  if (!t) return Fail(t.error().Wrap("timestamp"));
  e.timestamp = *t;

  if (const json* id = Member(p, "event_id"); id && !id->is_null()) {
    if (!id->is_string()) return FailInvalid("event_id: must be a string, got " + Describe(*id));
    const auto& s = id->get_ref<const std::string&>();
    if (s.empty() || s.size() > kMaxEventIdChars || !IsPrintableAscii(s)) {
      return FailInvalid("event_id: must be 1 to " + std::to_string(kMaxEventIdChars) +
                         " printable ASCII characters, got " + QuotedEcho(s));
    }
    e.event_id = s;
  }
  if (const json* dc = Member(p, "data_cycle"); dc && !dc->is_null()) {
    if (!dc->is_number_unsigned() ||
        dc->get<uint64_t>() > uint64_t(std::numeric_limits<int64_t>::max())) {
      return FailInvalid("data_cycle: must be a non-negative integer, got " + Describe(*dc));
    }
    e.data_cycle = static_cast<int64_t>(dc->get<uint64_t>());
  }
  return e;
}

Result<StatusChangeEvent> Decode(std::string_view body) {
  DRIPR_ASSIGN_OR_RETURN(json doc, ParseJson(body, "body"));
  if (!doc.is_object()) return FailInvalid("body must be a JSON object, got " + Describe(doc));
  // An SNS envelope (Type/Message) unless the body is itself an event.
  if (!doc.contains("event_type") && doc.contains("Type")) {
    const json& type = doc["Type"];
    if (!type.is_string() || type.get_ref<const std::string&>() != "Notification") {
      return FailInvalid("SNS envelope: Type must be \"Notification\", got " + Describe(type));
    }
    const json* message = Member(doc, "Message");
    if (!message) return FailInvalid("SNS envelope: Message missing");
    if (!message->is_string()) {
      return FailInvalid("SNS envelope: Message must be a string, got " + Describe(*message));
    }
    DRIPR_ASSIGN_OR_RETURN(json inner,
                           ParseJson(message->get_ref<const std::string&>(), "SNS Message"));
    if (!inner.is_object()) {
      return FailInvalid("SNS Message must be a JSON object, got " + Describe(inner));
    }
    return DecodeEvent(inner);
  }
  return DecodeEvent(doc);
}

}  // namespace

std::string EncodeStatusChange(const StatusChangeEvent& e) {
  // ordered_json keeps the field order of the wire contract (docs/contracts.md §2).
  nlohmann::ordered_json payload;
  payload["campaign_id"] = e.campaign_id.str();
  payload["zip_code"] = e.zip_code;
  if (e.from_status) payload["from_status"] = ToString(*e.from_status);
  payload["to_status"] = ToString(e.to_status);
  payload["timestamp"] = FormatIso8601(e.timestamp);
  if (e.event_id) payload["event_id"] = *e.event_id;
  if (e.data_cycle) payload["data_cycle"] = *e.data_cycle;
  nlohmann::ordered_json doc;
  doc["event_type"] = kStatusChangeEventType;
  doc["payload"] = std::move(payload);
  // `replace` instead of throwing if a caller ever passes invalid UTF-8.
  return doc.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
}

Result<StatusChangeEvent> DecodeStatusChange(std::string_view body) {
  try {
    return Decode(body);
  } catch (const std::exception& e) {
    // Not expected: every access above is type-checked. Reported rather than thrown.
    return Fail(ErrorCode::kInternal, std::string("decoding STATUS_CHANGE failed: ") + e.what());
  }
}

Result<std::string> NormalizeZip(std::string_view zip) {
  auto digits = [](std::string_view s) {
    for (char c : s) {
      if (c < '0' || c > '9') return false;
    }
    return true;
  };
  if (zip.size() == 5 && digits(zip)) return std::string(zip);
  if (zip.size() == 10 && zip[5] == '-' && digits(zip.substr(0, 5)) && digits(zip.substr(6))) {
    return std::string(zip.substr(0, 5));
  }
  return FailInvalid("must be 5 digits or ZIP+4 (12345-6789), got " + QuotedEcho(zip));
}

}  // namespace dripr
