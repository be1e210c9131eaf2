// libFuzzer target: SNS subscription filter policies as the embedded bus parses and
// evaluates them (docs/decisions/fuzzing.md). Input: one byte choosing the scope, then the
// policy, then (after a "\n--\n" separator) a message body to match; attributes are fixed.
//
// Checked beyond "no crash": failures are kInvalidArgument with a bounded, valid UTF-8
// message; a policy that parses can be evaluated on any body (never throws); a policy that
// matches everything matches this message too; matching is deterministic.

#include "dripr/bus/filter_policy.h"
#include "fuzz_support.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace dripr;
  if (size < 1) return 0;
  auto scope = data[0] & 1 ? FilterScope::kMessageBody : FilterScope::kMessageAttributes;
  auto [policy_text, body] =
      fuzz::Split(std::string_view(reinterpret_cast<const char*>(data) + 1, size - 1), "\n--\n");
  auto policy = FilterPolicy::Parse(policy_text, scope);
  if (!policy) {
    fuzz::CheckError(policy.error());
    fuzz::Check(policy.error().code == ErrorCode::kInvalidArgument);
    return 0;
  }
  const MessageAttributes attrs = {{"to_status", "WAITING_FOR_DATA"}, {"event_type", "x"}};
  bool match = policy->Matches(attrs, body);
  fuzz::Check(match == policy->Matches(attrs, body));
  if (policy->MatchesEverything()) fuzz::Check(match);
  return 0;
}
