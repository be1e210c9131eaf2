#include "dripr/bus/filter_policy.h"

#include <gtest/gtest.h>

#include <string>

namespace dripr {
namespace {

FilterPolicy Body(const std::string& json) {
  auto p = FilterPolicy::Parse(json, FilterScope::kMessageBody);
  EXPECT_TRUE(p) << json << ": " << p.error().ToString();
  return p ? *p : FilterPolicy{};
}
FilterPolicy Attr(const std::string& json) {
  auto p = FilterPolicy::Parse(json, FilterScope::kMessageAttributes);
  EXPECT_TRUE(p) << json << ": " << p.error().ToString();
  return p ? *p : FilterPolicy{};
}
std::string ParseError(const std::string& json, FilterScope scope = FilterScope::kMessageBody) {
  auto p = FilterPolicy::Parse(json, scope);
  if (p) return "(parsed)";
  EXPECT_EQ(p.error().code, ErrorCode::kInvalidArgument);
  return p.error().message;
}

const std::string kWaiting =
    R"({"event_type":"STATUS_CHANGE","payload":{"campaign_id":"c-1","zip_code":"02139",)"
    R"("from_status":"DORMANT","to_status":"WAITING_FOR_DATA","data_cycle":7}})";
const std::string kReady =
    R"({"event_type":"STATUS_CHANGE","payload":{"campaign_id":"c-1","zip_code":"02139",)"
    R"("from_status":"WAITING_FOR_DATA","to_status":"READY_TO_CREATE_EMAIL"}})";

TEST(FilterPolicyTest, EmptyPolicyMatchesEverything) {
  for (const char* text : {"", "  ", "{}"}) {
    auto p = Attr(text);
    EXPECT_TRUE(p.MatchesEverything()) << text;
    EXPECT_TRUE(p.Matches({}, "not json"));
  }
}

TEST(FilterPolicyTest, PipelineBodyFilterOnNestedToStatus) {
  auto p = Body(R"({"payload":{"to_status":["WAITING_FOR_DATA"]}})");
  EXPECT_TRUE(p.Matches({}, kWaiting));
  EXPECT_FALSE(p.Matches({}, kReady));
  EXPECT_FALSE(p.Matches({}, R"({"to_status":"WAITING_FOR_DATA"})"));  // not nested
  EXPECT_FALSE(p.Matches({}, R"({"payload":"WAITING_FOR_DATA"})"));    // scalar, not object
  EXPECT_FALSE(p.Matches({}, "not json"));
  EXPECT_FALSE(p.Matches({}, R"(["payload"])"));
  EXPECT_FALSE(p.Matches({}, "\xff\xfe{"));
  EXPECT_FALSE(p.Matches({{"to_status", "WAITING_FOR_DATA"}}, "{}"));  // attributes ignored
}

// A body parsed once serves every policy it is matched against, with the answers the text
// gives each of them: the publish of one message checks each subscription of the topic.
TEST(FilterPolicyTest, OneParsedBodyServesSeveralPoliciesAsTheTextWould) {
  const FilterPolicy waiting = Body(R"({"payload":{"to_status":["WAITING_FOR_DATA"]}})");
  const FilterPolicy ready = Body(R"({"payload":{"to_status":["READY_TO_CREATE_EMAIL"]}})");
  const FilterPolicy zip = Body(R"({"payload":{"zip_code":[{"prefix":"021"}]}})");
  const FilterPolicy attr = Attr(R"({"kind":["a"]})");
  const MessageAttributes attrs = {{"kind", "a"}};
  for (const std::string& text : {kWaiting, kReady, std::string("not json"), std::string("[1]")}) {
    const ParsedBody body(text);
    for (const FilterPolicy* p : {&waiting, &ready, &zip, &attr, &waiting}) {
      EXPECT_EQ(p->Matches(attrs, body), p->Matches(attrs, text)) << text;
    }
  }
  const ParsedBody waiting_body(kWaiting);
  EXPECT_TRUE(waiting.Matches({}, waiting_body));
  EXPECT_FALSE(ready.Matches({}, waiting_body));
  EXPECT_TRUE(zip.Matches({}, waiting_body));
  ASSERT_NE(waiting_body.Object(), nullptr);
  EXPECT_EQ(waiting_body.Object(), waiting_body.Object());  // parsed once, then kept
  EXPECT_EQ(ParsedBody("[1]").Object(), nullptr);           // JSON, but not an object
  EXPECT_EQ(ParsedBody("{").Object(), nullptr);
}

TEST(FilterPolicyTest, AttributeExactMatchIsAnyOfTheList) {
  auto p = Attr(R"({"to_status":["WAITING_FOR_DATA","ERROR"]})");
  EXPECT_TRUE(p.Matches({{"to_status", "WAITING_FOR_DATA"}}, ""));
  EXPECT_TRUE(p.Matches({{"to_status", "ERROR"}}, ""));
  EXPECT_FALSE(p.Matches({{"to_status", "READY"}}, ""));
  EXPECT_FALSE(p.Matches({}, kWaiting));  // the body is not consulted
  EXPECT_FALSE(p.Matches({{"to_status", "waiting_for_data"}}, ""));
}

TEST(FilterPolicyTest, KeysAreAnded) {
  auto p = Attr(R"({"to_status":["WAITING_FOR_DATA"],"event_type":["STATUS_CHANGE"]})");
  EXPECT_TRUE(p.Matches({{"to_status", "WAITING_FOR_DATA"}, {"event_type", "STATUS_CHANGE"}}, ""));
  EXPECT_FALSE(p.Matches({{"to_status", "WAITING_FOR_DATA"}}, ""));
  EXPECT_FALSE(p.Matches({{"to_status", "WAITING_FOR_DATA"}, {"event_type", "OTHER"}}, ""));
}

TEST(FilterPolicyTest, AnythingBut) {
  auto single = Attr(R"({"to_status":[{"anything-but":"ERROR"}]})");
  EXPECT_TRUE(single.Matches({{"to_status", "READY"}}, ""));
  EXPECT_FALSE(single.Matches({{"to_status", "ERROR"}}, ""));
  EXPECT_FALSE(single.Matches({}, ""));  // absent keys match only exists:false

  auto list = Body(R"({"payload":{"to_status":[{"anything-but":["ERROR","DORMANT"]}]}})");
  EXPECT_TRUE(list.Matches({}, kWaiting));
  EXPECT_FALSE(list.Matches({}, R"({"payload":{"to_status":"DORMANT"}})"));
  EXPECT_FALSE(list.Matches({}, R"({"payload":{}})"));
  EXPECT_FALSE(list.Matches({}, R"({"payload":{"to_status":null}})"));

  auto prefix = Body(R"({"payload":{"to_status":[{"anything-but":{"prefix":"WAIT"}}]}})");
  EXPECT_FALSE(prefix.Matches({}, kWaiting));
  EXPECT_TRUE(prefix.Matches({}, kReady));

  auto number = Body(R"({"payload":{"data_cycle":[{"anything-but":[7]}]}})");
  EXPECT_FALSE(number.Matches({}, kWaiting));
  EXPECT_TRUE(number.Matches({}, R"({"payload":{"data_cycle":8}})"));
  EXPECT_TRUE(number.Matches({}, R"({"payload":{"data_cycle":"7"}})"));  // types differ
}

TEST(FilterPolicyTest, Exists) {
  auto yes = Body(R"({"payload":{"event_id":[{"exists":true}]}})");
  auto no = Body(R"({"payload":{"event_id":[{"exists":false}]}})");
  const std::string with = R"({"payload":{"event_id":"e-1"}})";
  EXPECT_TRUE(yes.Matches({}, with));
  EXPECT_FALSE(no.Matches({}, with));
  EXPECT_FALSE(yes.Matches({}, kWaiting));
  EXPECT_TRUE(no.Matches({}, kWaiting));
  EXPECT_TRUE(no.Matches({}, R"({"other":1})"));  // absent parent: leaf absent too

  auto attr = Attr(R"({"trace":[{"exists":false}]})");
  EXPECT_TRUE(attr.Matches({{"to_status", "X"}}, ""));
  EXPECT_FALSE(attr.Matches({{"trace", ""}}, ""));
}

TEST(FilterPolicyTest, Prefix) {
  auto p = Attr(R"({"to_status":[{"prefix":"READY_"}]})");
  EXPECT_TRUE(p.Matches({{"to_status", "READY_TO_SEND_EMAIL"}}, ""));
  EXPECT_FALSE(p.Matches({{"to_status", "WAITING_FOR_DATA"}}, ""));
  EXPECT_FALSE(p.Matches({}, ""));
  auto b = Body(R"({"payload":{"zip_code":[{"prefix":"021"}]}})");
  EXPECT_TRUE(b.Matches({}, kWaiting));
  EXPECT_FALSE(b.Matches({}, R"({"payload":{"zip_code":2139}})"));
}

TEST(FilterPolicyTest, ConditionsOfOneKeyAreOred) {
  auto p = Attr(R"({"to_status":["ERROR",{"prefix":"READY_"}]})");
  EXPECT_TRUE(p.Matches({{"to_status", "ERROR"}}, ""));
  EXPECT_TRUE(p.Matches({{"to_status", "READY_TO_CREATE_EMAIL"}}, ""));
  EXPECT_FALSE(p.Matches({{"to_status", "DORMANT"}}, ""));
}

TEST(FilterPolicyTest, BodyValuesAreTypeAware) {
  auto p = Body(R"({"n":[7],"b":[true],"z":[null]})");
  EXPECT_TRUE(p.Matches({}, R"({"n":7.0,"b":true,"z":null})"));
  EXPECT_FALSE(p.Matches({}, R"({"n":"7","b":true,"z":null})"));
  EXPECT_FALSE(p.Matches({}, R"({"n":7,"b":"true","z":null})"));
  EXPECT_FALSE(p.Matches({}, R"({"n":7,"b":true})"));
}

TEST(FilterPolicyTest, BodyArraysMatchAnyElement) {
  auto p = Body(R"({"tags":["b"],"items":{"kind":["x"]}})");
  EXPECT_TRUE(p.Matches({}, R"({"tags":["a","b"],"items":[{"kind":"y"},{"kind":"x"}]})"));
  EXPECT_FALSE(p.Matches({}, R"({"tags":["a"],"items":[{"kind":"x"}]})"));
  EXPECT_FALSE(p.Matches({}, R"({"tags":["b"],"items":[{"kind":"y"}]})"));
  EXPECT_FALSE(p.Matches({}, R"({"tags":[],"items":[{"kind":"x"}]})"));
  auto but = Body(R"({"tags":[{"anything-but":"b"}]})");
  EXPECT_TRUE(but.Matches({}, R"({"tags":["a","c"]})"));
  EXPECT_FALSE(but.Matches({}, R"({"tags":["a","b"]})"));
}

TEST(FilterPolicyTest, RejectsInvalidPolicies) {
  EXPECT_EQ(ParseError("{"), "filter policy: not valid JSON");
  EXPECT_EQ(ParseError("[]"), "filter policy: must be a JSON object");
  EXPECT_EQ(ParseError(R"({"a":"x"})"),
            "filter policy: \"a\": the value must be a list or an object");
  EXPECT_EQ(ParseError(R"({"a":[]})"),
            "filter policy: \"a\": the list of values must not be empty");
  EXPECT_EQ(ParseError(R"({"a":[["x"]]})"),
            "filter policy: \"a\": a list of values must not contain lists");
  EXPECT_EQ(ParseError(R"({"a":{}})"), "filter policy: \"a\": a nested object must not be empty");
  EXPECT_EQ(ParseError(R"({"p":{"a":["x"]}})", FilterScope::kMessageAttributes),
            "filter policy: \"p\": nested keys need filter scope MessageBody");
  EXPECT_EQ(ParseError(R"({"a":[{"exists":"yes"}]})"),
            "filter policy: \"a\": \"exists\" takes true or false");
  EXPECT_EQ(ParseError(R"({"a":[{"prefix":1}]})"),
            "filter policy: \"a\": \"prefix\" takes a string");
  EXPECT_EQ(ParseError(R"({"a":[{"prefix":"x","exists":true}]})"),
            "filter policy: \"a\": an operator object must have exactly one key");
  EXPECT_EQ(ParseError(R"({"a":[{"anything-but":[]}]})"),
            "filter policy: \"a\": \"anything-but\" list must not be empty");
  EXPECT_EQ(
      ParseError(R"({"a":[{"anything-but":{"suffix":"x"}}]})"),
      "filter policy: \"a\": \"anything-but\" object form supports only {\"prefix\": string}");
  EXPECT_EQ(
      ParseError(R"({"a":[{"anything-but":true}]})"),
      "filter policy: \"a\": \"anything-but\" takes a string, a number, a list or {\"prefix\"}");
  EXPECT_EQ(ParseError(R"({"a":{"b":{"c":{"d":{"e":{"f":["x"]}}}}}})"),
            "filter policy: \"a.b.c.d.e\": nested deeper than 5 levels");
  for (const char* op : {"numeric", "suffix", "equals-ignore-case", "cidr", "wildcard"}) {
    EXPECT_EQ(ParseError(std::string(R"({"a":[{")") + op + R"(":"x"}]})"),
              std::string("filter policy: \"a\": operator \"") + op +
                  "\" is not supported (supported: exact match, anything-but, exists, prefix)");
  }
  EXPECT_EQ(ParseError(R"({"$or":[{"a":["x"]},{"b":["y"]}]})"),
            "filter policy: \"$or\": operator \"$or\" is not supported");
}

// A policy is outside input of any length: the names an error quotes are cut (on a character
// boundary, with "..."), so the message stays short enough for a log line or a DLQ reason.
TEST(FilterPolicyTest, ErrorsQuoteLongNamesCut) {
  const std::string op = "anything-" + std::string(5000, '[') + "\u00e9";
  const std::string long_op = ParseError(R"({"a":[{")" + op + R"(":"x"}]})");
  EXPECT_EQ(long_op, "filter policy: \"a\": operator \"anything-" + std::string(91, '[') +
                         "...\" is not supported (supported: exact match, anything-but, exists, "
                         "prefix)");
  const std::string key(3000, 'k');
  EXPECT_EQ(
      ParseError(R"({")" + key + R"(":{"$x":["y"]}})"),
      "filter policy: \"" + std::string(100, 'k') + "...\": operator \"$x\" is not supported");
  // Cut inside a two-byte character: the whole character goes.
  const std::string accents = std::string(99, 'k') + "\u00e9\u00e9";
  EXPECT_EQ(
      ParseError(R"({")" + accents + R"(":"x"})"),
      "filter policy: \"" + std::string(99, 'k') + "...\": the value must be a list or an object");
}

TEST(FilterPolicyTest, ScopeNames) {
  EXPECT_EQ(ToString(FilterScope::kMessageBody), "MessageBody");
  EXPECT_EQ(ParseFilterScope("MessageAttributes"), FilterScope::kMessageAttributes);
  EXPECT_EQ(ParseFilterScope("messagebody"), std::nullopt);
}

}  // namespace
}  // namespace dripr
