#include "dripr/domain/event.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "dripr/core/time.h"
#include "support/campaign_ids.h"

namespace dripr {
namespace {

StatusChangeEvent Sample() {
  StatusChangeEvent e;
  e.campaign_id = Cid("c-123");
  e.zip_code = "02139";
  e.from_status = CampaignStatus::kDormant;
  e.to_status = CampaignStatus::kWaitingForData;
  e.timestamp = *ParseIso8601("2026-11-29T13:40:22.123Z");
  e.event_id = "3f0c2a1e-9b7d-4c1a-8e2f-0a1b2c3d4e5f";
  e.data_cycle = 7;
  return e;
}

// A payload with every required field; `payload_fields` (",\"key\":value...") is appended,
// and a required field it names replaces the default (the decoder refuses duplicate keys).
std::string Body(const std::string& payload_fields) {
  const std::pair<const char*, const char*> defaults[] = {
      {"campaign_id", R"("c-1")"},
      {"zip_code", R"("02139")"},
      {"to_status", R"("WAITING_FOR_DATA")"},
      {"timestamp", R"("2026-11-29T13:40:22Z")"}};
  std::string fields;
  for (const auto& [key, value] : defaults) {
    if (payload_fields.find("\"" + std::string(key) + "\":") != std::string::npos) continue;
    fields += (fields.empty() ? "\"" : ",\"") + std::string(key) + "\":" + value;
  }
  return R"({"event_type":"STATUS_CHANGE","payload":{)" + fields + payload_fields + "}}";
}

// The error message for `body`, asserting it is kInvalidArgument.
std::string DecodeError(std::string_view body) {
  auto r = DecodeStatusChange(body);
  if (r) return "decoded OK";
  EXPECT_EQ(r.error().code, ErrorCode::kInvalidArgument) << r.error().message;
  return r.error().message;
}

// A JSON value of one payload field and what the error message says it got.
struct BadValue {
  std::string_view json;
  std::string_view got;
};

// Each value of `field`, in an otherwise valid body, is refused with
// "<field>: <rule>, got <got>".
void ExpectRefused(std::string_view field, std::string_view rule,
                   std::initializer_list<BadValue> values) {
  for (const BadValue& v : values) {
    SCOPED_TRACE(std::string(field) + " = " + std::string(v.json));
    EXPECT_EQ(DecodeError(Body(",\"" + std::string(field) + "\":" + std::string(v.json))),
              std::string(field) + ": " + std::string(rule) + ", got " + std::string(v.got));
  }
}

TEST(EncodeStatusChange, WritesTheWireContractCompactlyInOrder) {
  EXPECT_EQ(EncodeStatusChange(Sample()),
            R"({"event_type":"STATUS_CHANGE","payload":{"campaign_id":"c-123","zip_code":"02139",)"
            R"("from_status":"DORMANT","to_status":"WAITING_FOR_DATA",)"
            R"("timestamp":"2026-11-29T13:40:22.123Z",)"
            R"("event_id":"3f0c2a1e-9b7d-4c1a-8e2f-0a1b2c3d4e5f","data_cycle":7}})");
}

TEST(EncodeStatusChange, OmitsAbsentOptionalFields) {
  StatusChangeEvent e = Sample();
  e.from_status.reset();
  e.event_id.reset();
  e.data_cycle.reset();
  EXPECT_EQ(EncodeStatusChange(e),
            R"({"event_type":"STATUS_CHANGE","payload":{"campaign_id":"c-123","zip_code":"02139",)"
            R"("to_status":"WAITING_FOR_DATA","timestamp":"2026-11-29T13:40:22.123Z"}})");
}

TEST(EncodeStatusChange, NeverThrowsOnInvalidUtf8) {
  StatusChangeEvent e = Sample();
  e.campaign_id = CampaignId::FromStoredRow("bad\xff");  // a row another program wrote
  std::string out = EncodeStatusChange(e);
  EXPECT_NE(out.find("\"campaign_id\":\"bad\xEF\xBF\xBD\""), std::string::npos) << out;
}

TEST(DecodeStatusChange, RoundTripsEveryStatus) {
  for (CampaignStatus s :
       {CampaignStatus::kDormant, CampaignStatus::kWaitingForData,
        CampaignStatus::kWaitingForHomeAnalysis, CampaignStatus::kReadyToCreateEmail,
        CampaignStatus::kFetching, CampaignStatus::kWaitingForManualApproval,
        CampaignStatus::kReadyToSendEmail, CampaignStatus::kUnsubscribed, CampaignStatus::kError}) {
    StatusChangeEvent e = Sample();
    e.to_status = s;
    e.from_status = s;
    auto back = DecodeStatusChange(EncodeStatusChange(e));
    ASSERT_TRUE(back) << back.error().message;
    EXPECT_EQ(*back, e);
  }
  StatusChangeEvent bare = Sample();
  bare.from_status.reset();
  bare.event_id.reset();
  bare.data_cycle.reset();
  EXPECT_EQ(*DecodeStatusChange(EncodeStatusChange(bare)), bare);
}

// The event the Python client publishes in these tests: c-123 in 02139 going from DORMANT to
// WAITING_FOR_DATA at 2026-11-29T13:40:22.123456 (shown to the millisecond).
void ExpectThePythonClientsEvent(const Result<StatusChangeEvent>& e) {
  ASSERT_TRUE(e) << e.error().message;
  EXPECT_EQ(e->campaign_id, "c-123");
  EXPECT_EQ(e->zip_code, "02139");
  EXPECT_EQ(e->from_status, CampaignStatus::kDormant);
  EXPECT_EQ(e->to_status, CampaignStatus::kWaitingForData);
  EXPECT_EQ(FormatIso8601(e->timestamp), "2026-11-29T13:40:22.123Z");
}

TEST(DecodeStatusChange, AcceptsWhatThePythonDbClientPublishes) {
  // json.dumps() with its default separators; naive isoformat() timestamp with microseconds.
  auto e = DecodeStatusChange(
      R"({"event_type": "STATUS_CHANGE", "payload": {"campaign_id": "c-123", "zip_code": "02139", )"
      R"("from_status": "DORMANT", "to_status": "WAITING_FOR_DATA", )"
      R"("timestamp": "2026-11-29T13:40:22.123456"}})");
  ASSERT_NO_FATAL_FAILURE(ExpectThePythonClientsEvent(e));
  EXPECT_EQ(e->timestamp.time_since_epoch() % std::chrono::seconds(1),
            std::chrono::microseconds(123456));
  EXPECT_EQ(e->event_id, std::nullopt);
  EXPECT_EQ(e->data_cycle, std::nullopt);

  auto aware = DecodeStatusChange(
      R"({"event_type": "STATUS_CHANGE", "payload": {"campaign_id": "c-123", "zip_code": "02139", )"
      R"("from_status": "DORMANT", "to_status": "WAITING_FOR_DATA", )"
      R"("timestamp": "2026-11-29T13:40:22.123456+00:00"}})");
  ASSERT_TRUE(aware) << aware.error().message;
  EXPECT_EQ(aware->timestamp, e->timestamp);
}

// Verbatim SQS body from moto 5.2.1: boto3 SNS publish of json.dumps(event) to a topic with
// an SQS subscription (no raw delivery). Pretty-printed, sorted keys.
constexpr std::string_view kMotoEnvelope = R"({
  "Message": "{\"event_type\": \"STATUS_CHANGE\", \"payload\": {\"campaign_id\": \"c-123\", \"zip_code\": \"02139\", \"from_status\": \"DORMANT\", \"to_status\": \"WAITING_FOR_DATA\", \"timestamp\": \"2026-11-29T13:40:22.123456\"}}",
  "MessageAttributes": {
    "event_type": {
      "Type": "String",
      "Value": "STATUS_CHANGE"
    },
    "to_status": {
      "Type": "String",
      "Value": "WAITING_FOR_DATA"
    }
  },
  "MessageId": "7c34234b-4c59-4812-85b6-997f8c4747e9",
  "Signature": "WSejXsZqmSvj4YgNgOplNsLFShJTdrbQr/VCD6AbmKzB/IxsGkTxnI09Tj9f06bPVKSrMnzokf5WnMY48B3UjsmFizKfawaJj+t8WcgIE/uZfcwyCX/wpZmXg3dqiKVsxVER0ZckHpstIzhADCJwQw9YSeaDTgNXui7ZMadkQTCILVpXFX/2BJBYx570MX3PjwvdYmhBfcWtPAQbaPwueGBgxKuzmUsDoFFCzIbw772aNZ/8tddTECMzx9NmwwvbsvkczBnoHhDh3ou8smlfbT0LSzklM6ovnSpeOwgfgH2XH3wCq8kIq/JNGj5LXvg6qVd5PcR2P8JzZwjxqcRvmg==",
  "SignatureVersion": "2",
  "SigningCertURL": "https://sns.us-east-1.amazonaws.com/SimpleNotificationService-30c8ec3d1b3c44c3847dcbf50c796013.pem",
  "Timestamp": "2026-11-29T17:54:51.674Z",
  "TopicArn": "arn:aws:sns:us-east-1:123456789012:dripr-campaign-events",
  "Type": "Notification",
  "UnsubscribeURL": "https://sns.us-east-1.amazonaws.com/?Action=Unsubscribe&SubscriptionArn=arn:aws:sns:us-east-1:123456789012:dripr-campaign-events:2bcfbf39-05c3-41de-beaa-fcfcc21c8f55"
})";

TEST(DecodeStatusChange, UnwrapsTheSnsEnvelopeAsMotoWritesIt) {
  ASSERT_NO_FATAL_FAILURE(ExpectThePythonClientsEvent(DecodeStatusChange(kMotoEnvelope)));
}

TEST(DecodeStatusChange, UnwrapsAnEnvelopeAroundOurOwnEncoding) {
  nlohmann::json env = {{"Type", "Notification"},
                        {"MessageId", "m-1"},
                        {"TopicArn", "arn:aws:sns:us-east-1:123456789012:t"},
                        {"Message", EncodeStatusChange(Sample())},
                        {"MessageAttributes", {{"to_status", {{"Type", "String"}}}}}};
  auto e = DecodeStatusChange(env.dump());
  ASSERT_TRUE(e) << e.error().message;
  EXPECT_EQ(*e, Sample());
}

TEST(DecodeStatusChange, IgnoresUnknownFieldsAndNullOptionals) {
  auto e = DecodeStatusChange(Body(R"(,"from_status":null,"event_id":null,"data_cycle":null,)"
                                   R"("reason":{"deep":[1,2,3]},"x":true)") +
                              "");
  ASSERT_TRUE(e) << e.error().message;
  EXPECT_EQ(e->from_status, std::nullopt);
  EXPECT_EQ(e->event_id, std::nullopt);
  EXPECT_EQ(e->data_cycle, std::nullopt);
  auto top = DecodeStatusChange(
      R"({"version":2,"event_type":"STATUS_CHANGE","payload":{"campaign_id":"c","zip_code":"02139",)"
      R"("to_status":"ERROR","timestamp":"2026-11-29T13:40:22Z"},"Type":"ignored here"})");
  ASSERT_TRUE(top) << top.error().message;
  EXPECT_EQ(top->to_status, CampaignStatus::kError);
}

TEST(DecodeStatusChange, AcceptsIntegerCampaignIdAsDecimalText) {
  auto e = DecodeStatusChange(Body(R"(,"campaign_id":12345)"));
  ASSERT_TRUE(e) << e.error().message;
  EXPECT_EQ(e->campaign_id, "12345");
  EXPECT_EQ(DecodeStatusChange(Body(R"(,"campaign_id":0)"))->campaign_id, "0");
}

TEST(DecodeStatusChange, CampaignIdProblems) {
  EXPECT_EQ(DecodeError(R"({"event_type":"STATUS_CHANGE","payload":{"zip_code":"02139"}})"),
            "campaign_id: missing");
  EXPECT_EQ(DecodeError(Body(R"(,"campaign_id":"")")), "campaign_id: must not be empty");
  ExpectRefused("campaign_id", "must be a non-empty string or a non-negative integer",
                {{"-4", "number -4"},
                 {"1.5", "number 1.5"},
                 {"null", "null"},
                 {R"(["c"])", "array"},
                 {"true", "boolean true"}});
  std::string max(64, 'a');
  EXPECT_EQ(DecodeStatusChange(Body(R"(,"campaign_id":")" + max + "\""))->campaign_id, max);
  EXPECT_EQ(DecodeError(Body(R"(,"campaign_id":")" + max + "b\"")),
            "campaign_id: at most 64 characters, got 65");
  EXPECT_EQ(DecodeError(Body(R"(,"campaign_id":"a\u0001b")")),
            "campaign_id: only printable ASCII characters without spaces are allowed, got "
            "\"a\\x01b\"");
  EXPECT_EQ(DecodeError(Body(R"(,"campaign_id":"caf\u00e9")")),
            "campaign_id: only printable ASCII characters without spaces are allowed, got "
            "\"caf\\xc3\\xa9\"");
}

TEST(DecodeStatusChange, ZipCodeProblems) {
  EXPECT_EQ(DecodeStatusChange(Body(R"(,"zip_code":"02139-4307")"))->zip_code, "02139");
  ExpectRefused("zip_code", "must be 5 digits or ZIP+4 (12345-6789)",
                {{R"("1234")", R"("1234")"},
                 {R"("123456")", R"("123456")"},
                 {R"("0213a")", R"("0213a")"},
                 {R"("")", R"("")"}});
  ExpectRefused("zip_code", "must be a string (zip codes keep leading zeros)",
                {{"2139", "number 2139"}, {"null", "null"}});
  EXPECT_EQ(DecodeError(R"({"event_type":"STATUS_CHANGE","payload":{"campaign_id":"c"}})"),
            "zip_code: missing");
}

TEST(NormalizeZip, AcceptsFiveDigitsAndZipPlusFourOnly) {
  EXPECT_EQ(*NormalizeZip("02139"), "02139");
  EXPECT_EQ(*NormalizeZip("02139-4307"), "02139");
  for (std::string_view bad : {"2139", "021390", "02139-430", "02139 4307", "02139-43a7",
                               "0213-94307", " 02139", "02139\n",
                               "\xef\xbc\x90"
                               "2139"}) {
    auto r = NormalizeZip(bad);
    ASSERT_FALSE(r) << bad;
    EXPECT_EQ(r.error().code, ErrorCode::kInvalidArgument);
  }
  EXPECT_EQ(NormalizeZip("021 39").error().message,
            "must be 5 digits or ZIP+4 (12345-6789), got \"021 39\"");
}

TEST(DecodeStatusChange, StatusProblems) {
  EXPECT_EQ(DecodeError(Body(R"(,"to_status":"waiting_for_data")")),
            "to_status: unknown campaign status \"waiting_for_data\"");
  EXPECT_EQ(DecodeError(Body(R"(,"to_status":"READY")")),
            "to_status: unknown campaign status \"READY\"");
  EXPECT_EQ(DecodeError(Body(R"(,"to_status":3)")), "to_status: must be a string, got number 3");
  EXPECT_EQ(DecodeError(Body(R"(,"to_status":null)")), "to_status: must be a string, got null");
  EXPECT_EQ(DecodeError(Body(R"(,"from_status":"NOPE")")),
            "from_status: unknown campaign status \"NOPE\"");
  EXPECT_EQ(DecodeError(Body(R"(,"from_status":{})")), "from_status: must be a string, got object");
  EXPECT_EQ(DecodeError(R"({"event_type":"STATUS_CHANGE","payload":{"campaign_id":"c",)"
                        R"("zip_code":"02139","timestamp":"2026-11-29T13:40:22Z"}})"),
            "to_status: missing");
}

TEST(DecodeStatusChange, TimestampProblems) {
  EXPECT_EQ(DecodeError(R"({"event_type":"STATUS_CHANGE","payload":{"campaign_id":"c",)"
                        R"("zip_code":"02139","to_status":"ERROR"}})"),
            "timestamp: missing");
  EXPECT_EQ(DecodeError(Body(R"(,"timestamp":1764423622)")),
            "timestamp: must be an ISO-8601 string, got number 1764423622");
  EXPECT_EQ(DecodeError(Body(R"(,"timestamp":"2026-02-30T00:00:00")")),
            "timestamp: invalid ISO-8601 timestamp \"2026-02-30T00:00:00\": day 30 is out of "
            "range 1-28 for 2026-02");
  EXPECT_EQ(DecodeError(Body(R"(,"timestamp":"yesterday")")),
            "timestamp: invalid ISO-8601 timestamp \"yesterday\": expected a date YYYY-MM-DD");
}

TEST(DecodeStatusChange, OptionalFieldProblems) {
  EXPECT_EQ(DecodeStatusChange(Body(R"(,"data_cycle":0)"))->data_cycle, 0);
  EXPECT_EQ(DecodeStatusChange(Body(R"(,"data_cycle":9223372036854775807)"))->data_cycle,
            INT64_MAX);
  ExpectRefused("data_cycle", "must be a non-negative integer",
                {{"9223372036854775808", "number 9223372036854775808"},
                 {"-1", "number -1"},
                 {"7.0", "number 7.0"},
                 {R"("7")", R"(string "7")"}});
  EXPECT_EQ(DecodeError(Body(R"(,"event_id":5)")), "event_id: must be a string, got number 5");
  EXPECT_EQ(DecodeError(Body(R"(,"event_id":"")")),
            "event_id: must be 1 to 128 printable ASCII characters, got \"\"");
  EXPECT_EQ(DecodeError(Body(R"(,"event_id":"a\tb")")),
            "event_id: must be 1 to 128 printable ASCII characters, got \"a\\x09b\"");
}

TEST(DecodeStatusChange, EnvelopeAndShapeProblems) {
  EXPECT_EQ(DecodeError(""), "body is empty");
  EXPECT_EQ(DecodeError("  \n"), "body is empty");
  EXPECT_EQ(DecodeError("not json"), "body is not JSON (syntax error at byte 2)");
  EXPECT_EQ(DecodeError(R"({"event_type":"STATUS_CHANGE")"),
            "body is not JSON (syntax error at byte 30)");
  EXPECT_EQ(DecodeError(R"({"a":1} trailing)"), "body is not JSON (syntax error at byte 11)");
  EXPECT_EQ(DecodeError("[1,2]"), "body must be a JSON object, got array");
  EXPECT_EQ(DecodeError("\"STATUS_CHANGE\""),
            "body must be a JSON object, got string \"STATUS_CHANGE\"");
  EXPECT_EQ(DecodeError("42"), "body must be a JSON object, got number 42");
  EXPECT_EQ(DecodeError("{}"), "event_type: missing");
  EXPECT_EQ(DecodeError(R"({"event_type":"CREATED","payload":{}})"),
            "event_type: must be \"STATUS_CHANGE\", got \"CREATED\"");
  EXPECT_EQ(DecodeError(R"({"event_type":1,"payload":{}})"),
            "event_type: must be a string, got number 1");
  EXPECT_EQ(DecodeError(R"({"event_type":"STATUS_CHANGE"})"), "payload: missing");
  EXPECT_EQ(DecodeError(R"({"event_type":"STATUS_CHANGE","payload":"{}"})"),
            "payload: must be an object, got string \"{}\"");
  EXPECT_EQ(DecodeError(R"({"Type":"SubscriptionConfirmation","Message":"x"})"),
            "SNS envelope: Type must be \"Notification\", got string \"SubscriptionConfirmation\"");
  EXPECT_EQ(DecodeError(R"({"Type":7})"),
            "SNS envelope: Type must be \"Notification\", got number 7");
  EXPECT_EQ(DecodeError(R"({"Type":"Notification"})"), "SNS envelope: Message missing");
  EXPECT_EQ(DecodeError(R"({"Type":"Notification","Message":{"event_type":"STATUS_CHANGE"}})"),
            "SNS envelope: Message must be a string, got object");
  EXPECT_EQ(DecodeError(R"({"Type":"Notification","Message":"hello"})"),
            "SNS Message is not JSON (syntax error at byte 1)");
  EXPECT_EQ(DecodeError(R"({"Type":"Notification","Message":"[]"})"),
            "SNS Message must be a JSON object, got array");
  EXPECT_EQ(DecodeError(R"({"Type":"Notification","Message":"{}"})"), "event_type: missing");
  // An envelope inside an envelope is not unwrapped twice.
  EXPECT_EQ(DecodeError(R"({"Type":"Notification","Message":"{\"Type\":\"Notification\"}"})"),
            "event_type: missing");
}

TEST(DecodeStatusChange, RefusesDuplicateKeysAtAnyLevel) {
  // Readers disagree on which duplicate wins, so neither does (docs/decisions/domain.md).
  EXPECT_EQ(DecodeError(Body(R"(,"data_cycle":1,"data_cycle":2)")),
            "body has a duplicate key \"data_cycle\"");
  EXPECT_EQ(DecodeError(R"({"event_type":"STATUS_CHANGE","event_type":"STATUS_CHANGE"})"),
            "body has a duplicate key \"event_type\"");
  EXPECT_EQ(DecodeError(Body(R"(,"x":{"a":1,"a":1})")), "body has a duplicate key \"a\"");
  nlohmann::json env = {{"Type", "Notification"},
                        {"Message", Body(R"(,"zip_code":"0","zip_code":"1")")}};
  EXPECT_EQ(DecodeError(env.dump()), "SNS Message has a duplicate key \"zip_code\"");
  // The same key in sibling or nested objects is not a duplicate.
  EXPECT_TRUE(DecodeStatusChange(Body(R"(,"x":{"a":1},"y":{"a":{"a":2}})")));
}

TEST(DecodeStatusChange, RejectsDeepNestingWithoutRecursing) {
  std::string ok = Body(",\"x\":" + std::string(60, '[') + std::string(60, ']'));
  EXPECT_TRUE(DecodeStatusChange(ok)) << DecodeError(ok);
  std::string deep = Body(",\"x\":" + std::string(63, '[') + std::string(63, ']'));
  EXPECT_EQ(DecodeError(deep), "body nests deeper than 64 levels");
  // A bomb that is not even balanced, and one hidden in the SNS Message string.
  EXPECT_EQ(DecodeError(std::string(200000, '[')), "body nests deeper than 64 levels");
  std::string inner = "{" + std::string(100, '[');
  nlohmann::json env = {{"Type", "Notification"}, {"Message", inner}};
  EXPECT_EQ(DecodeError(env.dump()), "SNS Message nests deeper than 64 levels");
  // Brackets inside strings do not count.
  std::string brackets = Body(",\"x\":\"" + std::string(1000, '[') + "\\\"{{{\"");
  EXPECT_TRUE(DecodeStatusChange(brackets)) << DecodeError(brackets);
}

TEST(DecodeStatusChange, RejectsOversizedBodies) {
  std::string at_limit = Body("");
  at_limit += std::string(256 * 1024 - at_limit.size(), ' ');
  EXPECT_TRUE(DecodeStatusChange(at_limit));
  std::string huge = Body(",\"x\":\"" + std::string(300000, 'a') + "\"");
  EXPECT_EQ(DecodeError(huge),
            "body is " + std::to_string(huge.size()) + " bytes, more than the 262144-byte limit");
}

TEST(DecodeStatusChange, RejectsInvalidUtf8WithItsOffset) {
  std::string body = Body(R"(,"x":"ok)");
  body += "\xc3\x28\"";  // 0xc3 must be followed by a continuation byte
  EXPECT_EQ(DecodeError(body + ""),
            "body is not valid UTF-8 (byte " + std::to_string(body.size() - 3) + ")");
  EXPECT_EQ(DecodeError("{\"a\":\"\xed\xa0\x80\"}"),
            "body is not valid UTF-8 (byte 6)");                                       // surrogate
  EXPECT_EQ(DecodeError("{\"a\":\"\xc0\xaf\"}"), "body is not valid UTF-8 (byte 6)");  // overlong
  EXPECT_EQ(DecodeError("{\"a\":\"\xf4\x90\x80\x80\"}"), "body is not valid UTF-8 (byte 6)");
  EXPECT_EQ(DecodeError("{\"a\":\"\xe2\x82\"}"), "body is not valid UTF-8 (byte 6)");  // truncated
  EXPECT_EQ(DecodeError(std::string("\xff")), "body is not valid UTF-8 (byte 0)");
  // Valid multi-byte text is fine; an escaped lone surrogate is a JSON error, not a crash.
  EXPECT_TRUE(DecodeStatusChange(Body(R"(,"note":"café ✓ 🏠")")));
  EXPECT_EQ(DecodeError(Body(R"(,"note":"\ud800")")).substr(0, 16), "body is not JSON");
}

TEST(DecodeStatusChange, NulBytesAreHandled) {
  std::string body = Body("");
  body[10] = '\0';
  EXPECT_EQ(DecodeError(body).substr(0, 16), "body is not JSON");
  EXPECT_EQ(DecodeError(std::string_view("\0", 1)), "body is not JSON (syntax error at byte 1)");
}

TEST(DecodeStatusChange, SurvivesEveryTruncationAndByteFlip) {
  // Cheap in-test fuzzing; tests/fuzz/event_fuzz.cc does the real thing.
  const std::string good = EncodeStatusChange(Sample());
  for (size_t n = 0; n < good.size(); ++n) {
    auto r = DecodeStatusChange(std::string_view(good).substr(0, n));
    EXPECT_FALSE(r) << n;
    if (!r) {
      EXPECT_EQ(r.error().code, ErrorCode::kInvalidArgument) << r.error().message;
    }
  }
  for (size_t i = 0; i < good.size(); ++i) {
    for (unsigned char b : {0x00, 0x22, 0x5b, 0x5c, 0x7b, 0x80, 0xff}) {
      std::string mutated = good;
      mutated[i] = static_cast<char>(b);
      auto r = DecodeStatusChange(mutated);
      if (!r) {
        EXPECT_EQ(r.error().code, ErrorCode::kInvalidArgument) << r.error().message;
      }
    }
  }
}

}  // namespace
}  // namespace dripr
