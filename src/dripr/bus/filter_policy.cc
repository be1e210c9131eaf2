#include "dripr/bus/filter_policy.h"

#include <algorithm>
#include <nlohmann/json.hpp>
#include <utility>

#include "dripr/core/text.h"

namespace dripr {

using nlohmann::json;

// Named, not anonymous: FilterPolicy::Node (declared in the header) holds these, and a type
// with internal linkage inside it is an error in a unity build (-Wsubobject-linkage).
namespace filter_policy_detail {

struct Condition {
  enum class Kind { kEquals, kAnythingBut, kAnythingButPrefix, kExists, kPrefix };
  Kind kind = Kind::kEquals;
  std::vector<json> values;  // kEquals (one value), kAnythingBut (one or more)
  std::string prefix;        // kPrefix, kAnythingButPrefix
  bool exists = false;       // kExists
};

}  // namespace filter_policy_detail

using filter_policy_detail::Condition;

namespace {

constexpr int kMaxDepth = 5;  // SNS allows nesting to a depth of 5 levels

// A key, path or operator of the policy as an error message quotes it: cut to a bound (on a
// character boundary), since the policy is outside input of any length.
std::string Quoted(std::string_view name) {
  return "\"" + TruncateUtf8WithEllipsis(name, 100) + "\"";
}

Error Invalid(const std::string& path, const std::string& what) {
  return Error{ErrorCode::kInvalidArgument,
               "filter policy: " + (path.empty() ? what : Quoted(path) + ": " + what)};
}

bool IsScalar(const json& v) {
  return v.is_string() || v.is_number() || v.is_boolean() || v.is_null();
}

// Type-aware equality: "7" never equals 7; numbers compare by value (1 == 1.0).
bool ScalarEquals(const json& a, const json& b) {
  if (a.is_number() && b.is_number()) return a.get<double>() == b.get<double>();
  if (a.type() != b.type()) return false;
  return a == b;
}

bool StartsWith(const json& v, const std::string& prefix) {
  return v.is_string() && v.get_ref<const std::string&>().starts_with(prefix);
}

}  // namespace

struct FilterPolicy::Node {
  struct Entry {
    std::string key;
    std::vector<Condition> conditions;  // leaf: ORed
    std::unique_ptr<Node> child;        // nested object (MessageBody scope)
  };
  std::vector<Entry> entries;  // ANDed
};

namespace {

using Node = FilterPolicy::Node;

Result<Condition> ParseOperator(const json& obj, const std::string& path) {
  if (obj.size() != 1) return Fail(Invalid(path, "an operator object must have exactly one key"));
  const auto first = obj.begin();  // (items() would dangle here)
  const std::string& op = first.key();
  const json& arg = first.value();
  Condition c;
  if (op == "exists") {
    if (!arg.is_boolean()) return Fail(Invalid(path, "\"exists\" takes true or false"));
    c.kind = Condition::Kind::kExists;
    c.exists = arg.get<bool>();
  } else if (op == "prefix") {
    if (!arg.is_string()) return Fail(Invalid(path, "\"prefix\" takes a string"));
    c.kind = Condition::Kind::kPrefix;
    c.prefix = arg.get<std::string>();
  } else if (op == "anything-but") {
    if (arg.is_object()) {
      if (arg.size() != 1 || !arg.contains("prefix") || !arg["prefix"].is_string()) {
        return Fail(
            Invalid(path, "\"anything-but\" object form supports only {\"prefix\": string}"));
      }
      c.kind = Condition::Kind::kAnythingButPrefix;
      c.prefix = arg["prefix"].get<std::string>();
    } else if (arg.is_array()) {
      if (arg.empty()) return Fail(Invalid(path, "\"anything-but\" list must not be empty"));
      for (const auto& v : arg) {
        if (!v.is_string() && !v.is_number()) {
          return Fail(Invalid(path, "\"anything-but\" values must be strings or numbers"));
        }
        c.values.push_back(v);
      }
      c.kind = Condition::Kind::kAnythingBut;
    } else if (arg.is_string() || arg.is_number()) {
      c.kind = Condition::Kind::kAnythingBut;
      c.values.push_back(arg);
    } else {
      return Fail(
          Invalid(path, "\"anything-but\" takes a string, a number, a list or {\"prefix\"}"));
    }
  } else {
    return Fail(Invalid(path, "operator " + Quoted(op) +
                                  " is not supported (supported: exact match, anything-but, "
                                  "exists, prefix)"));
  }
  return c;
}

Result<std::unique_ptr<Node>> ParseObject(const json& obj, FilterScope scope,
                                          const std::string& path, int depth) {
  if (depth > kMaxDepth) return Fail(Invalid(path, "nested deeper than 5 levels"));
  auto node = std::make_unique<Node>();
  for (const auto& [key, value] : obj.items()) {
    std::string key_path = path.empty() ? key : path + "." + key;
    if (key.starts_with("$")) {
      return Fail(Invalid(key_path, "operator " + Quoted(key) + " is not supported"));
    }
    Node::Entry entry;
    entry.key = key;
    if (value.is_array()) {
      if (value.empty()) return Fail(Invalid(key_path, "the list of values must not be empty"));
      for (const auto& item : value) {
        if (item.is_object()) {
          DRIPR_ASSIGN_OR_RETURN(Condition c, ParseOperator(item, key_path));
          entry.conditions.push_back(std::move(c));
        } else if (IsScalar(item)) {
          Condition c;
          c.kind = Condition::Kind::kEquals;
          c.values.push_back(item);
          entry.conditions.push_back(std::move(c));
        } else {
          return Fail(Invalid(key_path, "a list of values must not contain lists"));
        }
      }
    } else if (value.is_object()) {
      if (scope != FilterScope::kMessageBody) {
        return Fail(Invalid(key_path, "nested keys need filter scope MessageBody"));
      }
      if (value.empty()) return Fail(Invalid(key_path, "a nested object must not be empty"));
      DRIPR_ASSIGN_OR_RETURN(entry.child, ParseObject(value, scope, key_path, depth + 1));
    } else {
      return Fail(Invalid(key_path, "the value must be a list or an object"));
    }
    node->entries.push_back(std::move(entry));
  }
  return node;
}

// One condition against one present scalar value.
bool MatchScalar(const Condition& c, const json& v) {
  switch (c.kind) {
    case Condition::Kind::kEquals:
      return ScalarEquals(c.values.front(), v);
    case Condition::Kind::kPrefix:
      return StartsWith(v, c.prefix);
    case Condition::Kind::kAnythingBut:
      if (!v.is_string() && !v.is_number()) return false;
      return std::none_of(c.values.begin(), c.values.end(),
                          [&](const json& x) { return ScalarEquals(x, v); });
    case Condition::Kind::kAnythingButPrefix:
      return v.is_string() && !StartsWith(v, c.prefix);
    case Condition::Kind::kExists:
      return c.exists;
  }
  return false;
}

// One condition against a field: `v` is null when the key is absent. An array value
// matches when any element does (all elements, for anything-but).
bool MatchField(const Condition& c, const json* v) {
  if (c.kind == Condition::Kind::kExists) return c.exists == (v != nullptr && !v->is_object());
  if (v == nullptr) return false;
  if (v->is_array()) {
    if (v->empty()) return false;
    auto match = [&](const json& e) { return IsScalar(e) && MatchScalar(c, e); };
    bool negative =
        c.kind == Condition::Kind::kAnythingBut || c.kind == Condition::Kind::kAnythingButPrefix;
    return negative ? std::all_of(v->begin(), v->end(), match)
                    : std::any_of(v->begin(), v->end(), match);
  }
  if (!IsScalar(*v)) return false;
  return MatchScalar(c, *v);
}

bool MatchLeaf(const Node::Entry& e, const json* v) {
  return std::any_of(e.conditions.begin(), e.conditions.end(),
                     [&](const Condition& c) { return MatchField(c, v); });
}

// `obj` is null when the enclosing key is absent: every leaf below counts as absent.
bool MatchBody(const Node& node, const json* obj) {
  for (const auto& e : node.entries) {
    const json* v = nullptr;
    if (obj != nullptr && obj->is_object()) {
      auto it = obj->find(e.key);
      if (it != obj->end()) v = &*it;
    }
    if (e.child) {
      bool ok;
      if (v != nullptr && v->is_array()) {
        ok = std::any_of(v->begin(), v->end(), [&](const json& el) {
          return el.is_object() && MatchBody(*e.child, &el);
        });
      } else if (v != nullptr && !v->is_object()) {
        ok = false;  // a scalar where the policy expects an object
      } else {
        ok = MatchBody(*e.child, v);
      }
      if (!ok) return false;
    } else if (!MatchLeaf(e, v)) {
      return false;
    }
  }
  return true;
}

}  // namespace

std::string_view ToString(FilterScope s) {
  return s == FilterScope::kMessageBody ? "MessageBody" : "MessageAttributes";
}

std::optional<FilterScope> ParseFilterScope(std::string_view s) {
  if (s == "MessageAttributes") return FilterScope::kMessageAttributes;
  if (s == "MessageBody") return FilterScope::kMessageBody;
  return std::nullopt;
}

Result<FilterPolicy> FilterPolicy::Parse(std::string_view text, FilterScope scope) {
  FilterPolicy p;
  p.scope_ = scope;
  if (text.find_first_not_of(" \t\r\n") == std::string_view::npos) return p;
  json doc = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded()) return Fail(Invalid("", "not valid JSON"));
  if (!doc.is_object()) return Fail(Invalid("", "must be a JSON object"));
  if (doc.empty()) return p;
  DRIPR_ASSIGN_OR_RETURN(auto root, ParseObject(doc, scope, "", 1));
  p.root_ = std::shared_ptr<const Node>(std::move(root));
  return p;
}

ParsedBody::ParsedBody(std::string_view body) : body_(body) {}
ParsedBody::~ParsedBody() = default;

const json* ParsedBody::Object() const {
  if (!parsed_) {
    parsed_ = true;
    json doc = json::parse(body_, nullptr, /*allow_exceptions=*/false);
    if (!doc.is_discarded() && doc.is_object()) doc_ = std::make_unique<json>(std::move(doc));
  }
  return doc_.get();
}

bool FilterPolicy::Matches(const MessageAttributes& attributes, std::string_view body) const {
  return Matches(attributes, ParsedBody(body));
}

bool FilterPolicy::Matches(const MessageAttributes& attributes, const ParsedBody& body) const {
  if (root_ == nullptr) return true;
  if (scope_ == FilterScope::kMessageAttributes) {
    for (const auto& e : root_->entries) {
      auto it = attributes.find(e.key);
      std::optional<json> v;
      if (it != attributes.end()) v = json(it->second);
      if (!MatchLeaf(e, v ? &*v : nullptr)) return false;
    }
    return true;
  }
  const json* doc = body.Object();
  return doc != nullptr && MatchBody(*root_, doc);
}

}  // namespace dripr
