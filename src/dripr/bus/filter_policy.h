#pragma once
// SNS subscription filter policies, the subset dripr evaluates: the embedded bus filters its
// deliveries with it, and both buses use it to tell whether a message goes anywhere
// (Topic::MatchSubscriptions; on SNS a policy outside the subset is reported as undecided):
//   exact match      {"k": ["a", "b", 7, true, null]}   (any listed value)
//   anything-but     {"k": [{"anything-but": "a"}]}, [{"anything-but": ["a","b"]}],
//                    [{"anything-but": {"prefix": "x"}}]
//   exists           {"k": [{"exists": true}]} / false
//   prefix           {"k": [{"prefix": "WAIT"}]}
// Keys are ANDed, the conditions of one key are ORed. With scope MessageBody keys may nest
// ({"payload": {"to_status": ["WAITING_FOR_DATA"]}}) and are matched against the JSON
// body; a body that is not a JSON object matches no (non-empty) policy. With scope
// MessageAttributes keys name message attributes (String values).
// A key absent from the message matches only {"exists": false} (as in SNS).

#include <memory>
#include <nlohmann/json_fwd.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "dripr/bus/bus.h"
#include "dripr/core/error.h"

namespace dripr {

enum class FilterScope { kMessageAttributes, kMessageBody };

// "MessageAttributes" / "MessageBody", the SNS FilterPolicyScope values.
std::string_view ToString(FilterScope s);
std::optional<FilterScope> ParseFilterScope(std::string_view s);

// A message body parsed at most once however many body-scoped policies it is matched
// against (a publish checks every subscription of its topic). Keeps a view of the body: the
// body must outlive it.
class ParsedBody {
 public:
  explicit ParsedBody(std::string_view body);
  ~ParsedBody();
  ParsedBody(const ParsedBody&) = delete;
  ParsedBody& operator=(const ParsedBody&) = delete;
  // The body as a JSON object, parsed on first use; nullptr when it is not one.
  const nlohmann::json* Object() const;

 private:
  std::string_view body_;
  mutable bool parsed_ = false;
  mutable std::unique_ptr<nlohmann::json> doc_;  // null: not a JSON object
};

class FilterPolicy {
 public:
  // Parses and validates `json`. An empty string or "{}" matches every message.
  // kInvalidArgument naming the problem: not JSON, not an object, a value that is neither
  // an array nor an object, nesting under scope MessageAttributes, an empty array, or an
  // unsupported operator (numeric, suffix, equals-ignore-case, cidr, $or, ...).
  static Result<FilterPolicy> Parse(std::string_view json, FilterScope scope);

  // Whether a message with these attributes and body passes the policy. Never throws.
  bool Matches(const MessageAttributes& attributes, std::string_view body) const;
  bool Matches(const MessageAttributes& attributes, const ParsedBody& body) const;

  FilterScope scope() const { return scope_; }
  bool MatchesEverything() const { return root_ == nullptr; }

  struct Node;  // the parsed tree (filter_policy.cc)

 private:
  FilterScope scope_ = FilterScope::kMessageAttributes;
  std::shared_ptr<const Node> root_;  // null: matches everything; immutable once parsed
};

}  // namespace dripr
