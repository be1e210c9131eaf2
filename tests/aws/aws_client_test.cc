// Error classification and retries of the SQS/SNS clients against a scripted fake server.

#include "dripr/bus/aws/aws_client.h"

#include <gtest/gtest.h>

#include <atomic>
#include <deque>
#include <mutex>

#include "aws/test_server.h"
#include "dripr/bus/aws/sns_client.h"
#include "dripr/bus/aws/sqs_client.h"
#include "dripr/core/clock.h"
#include "dripr/core/random.h"
#include "dripr/core/text.h"

namespace dripr::aws {
namespace {

using namespace std::chrono_literals;
using dripr::testing::TestServer;

struct Reply {
  int status = 200;
  std::string body = "{}";
  std::vector<std::pair<std::string, std::string>> headers;
};

// Serves the scripted replies in order (the last one repeats) and records requests.
class ScriptedServer {
 public:
  explicit ScriptedServer(std::vector<Reply> script) : script_(script.begin(), script.end()) {
    server_.server().Post("/", [this](const httplib::Request& req, httplib::Response& res) {
      Reply r;
      {
        std::lock_guard lock(mu_);
        requests_.push_back(req);
        r = script_.size() > 1 ? script_.front() : script_.back();
        if (script_.size() > 1) script_.pop_front();
      }
      res.status = r.status;
      for (const auto& [k, v] : r.headers) res.set_header(k, v);
      res.set_content(r.body, "application/x-amz-json-1.0");
    });
    server_.Start();
  }
  std::string Url() const { return server_.Url(); }
  std::vector<httplib::Request> Requests() {
    std::lock_guard lock(mu_);
    return requests_;
  }

 private:
  TestServer server_;
  std::mutex mu_;
  std::deque<Reply> script_;
  std::vector<httplib::Request> requests_;
};

class CountingProvider final : public CredentialsProvider {
 public:
  Result<Credentials> Get() override {
    return Credentials{.access_key_id = "AKIDTEST",
                       .secret_access_key = "secret-never-shown",
                       .session_token = "token-" + std::to_string(invalidations.load()),
                       .source = "test"};
  }
  void Invalidate() override { ++invalidations; }
  std::atomic<int> invalidations{0};
};

// Client options on a manual ticker (the retry waits move it, nothing sleeps) and a scripted
// random source (the jitter): 0.0, 1.0, then 0.5 for every later draw.
struct Harness {
  std::shared_ptr<CountingProvider> creds = std::make_shared<CountingProvider>();
  ManualTicker ticker;
  ScriptedRandom random{{0.0, 1.0, 0.5}};
  // The retry waits, each on its own (the ticker records where each one ended).
  std::vector<Ticker::Duration> Waits() const {
    std::vector<Ticker::Duration> waits;
    Ticker::Duration before{};
    for (auto end : ticker.Sleeps()) {
      waits.push_back(end - before);
      before = end;
    }
    return waits;
  }
  ClientOptions Options(const std::string& endpoint) {
    ClientOptions o;
    o.region = "us-east-1";
    o.endpoint = endpoint;
    o.credentials = creds;
    o.http = NewCurlHttpClient();
    o.retry = {.max_attempts = 3, .base_delay = 100ms, .max_delay = 2s};
    o.ticker = &ticker;
    o.random = &random;
    return o;
  }
};

TEST(ClassifyAwsError, RetryableAndPermanentCodes) {
  EXPECT_EQ(ClassifyAwsError(400, "AWS.SimpleQueueService.NonExistentQueue"), ErrorCode::kNotFound);
  EXPECT_EQ(ClassifyAwsError(404, "NotFound"), ErrorCode::kNotFound);
  EXPECT_EQ(ClassifyAwsError(400, "ReceiptHandleIsInvalid"), ErrorCode::kInvalidArgument);
  EXPECT_EQ(ClassifyAwsError(400, "InvalidParameterValue"), ErrorCode::kInvalidArgument);
  EXPECT_EQ(ClassifyAwsError(400, "ThrottlingException"), ErrorCode::kResourceExhausted);
  EXPECT_EQ(ClassifyAwsError(400, "AWS.SimpleQueueService.RequestThrottled"),
            ErrorCode::kResourceExhausted);
  EXPECT_EQ(ClassifyAwsError(403, "SignatureDoesNotMatch"), ErrorCode::kPermissionDenied);
  EXPECT_EQ(ClassifyAwsError(400, "QueueAlreadyExists"), ErrorCode::kAlreadyExists);
  EXPECT_EQ(ClassifyAwsError(500, "InternalError"), ErrorCode::kUnavailable);
  EXPECT_EQ(ClassifyAwsError(503, ""), ErrorCode::kUnavailable);
  EXPECT_EQ(ClassifyAwsError(429, ""), ErrorCode::kResourceExhausted);
  EXPECT_EQ(ClassifyAwsError(400, "RequestTimeout"), ErrorCode::kUnavailable);
}

TEST(SqsClientRetries, TransientFailuresAreRetriedWithBackoff) {
  ScriptedServer server(
      {{503, "busy"}, {500, R"({"__type":"InternalError"})"}, {200, R"({"MessageId":"m-1"})"}});
  Harness h;
  SqsClient sqs(h.Options(server.Url()));
  auto id = sqs.SendMessage("http://q/1/q", "hello", {{"a", "b"}});
  ASSERT_TRUE(id) << id.error().ToString();
  EXPECT_EQ(*id, "m-1");
  ASSERT_EQ(server.Requests().size(), 3u);
  // Retry n waits cap/2 + u * cap/2, cap = 100 ms * 2^(n-1): u = 0.0, then 1.0.
  EXPECT_EQ(h.Waits(), (std::vector<Ticker::Duration>{50ms, 200ms}));

  const auto requests = server.Requests();
  const auto& req = requests[0];
  EXPECT_EQ(req.get_header_value("X-Amz-Target"), "AmazonSQS.SendMessage");
  EXPECT_EQ(req.get_header_value("Content-Type"), "application/x-amz-json-1.0");
  EXPECT_EQ(req.get_header_value("X-Amz-Security-Token"), "token-0");
  EXPECT_TRUE(
      req.get_header_value("Authorization").starts_with("AWS4-HMAC-SHA256 Credential=AKIDTEST/"))
      << req.get_header_value("Authorization");
  EXPECT_NE(req.get_header_value("Authorization").find("/us-east-1/sqs/aws4_request"),
            std::string::npos);
  auto body = nlohmann::json::parse(req.body);
  EXPECT_EQ(body["QueueUrl"], "http://q/1/q");
  EXPECT_EQ(body["MessageAttributes"]["a"],
            (nlohmann::json{{"DataType", "String"}, {"StringValue", "b"}}));
}

TEST(SqsClientRetries, GivesUpAfterTheAttemptBudgetWithUnavailable) {
  ScriptedServer server({{503, "busy"}});
  Harness h;
  SqsClient sqs(h.Options(server.Url()));
  auto r = sqs.PurgeQueue("http://q/1/q");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::kUnavailable);
  EXPECT_TRUE(r.error().message.starts_with("SQS PurgeQueue: ")) << r.error().message;
  EXPECT_EQ(server.Requests().size(), 3u);
}

TEST(SqsClientRetries, TheBackoffDoublesUpToMaxDelayOnTheInjectedTicker) {
  ScriptedServer server({{503, "busy"}});
  Harness h;
  ClientOptions o = h.Options(server.Url());
  o.retry = {.max_attempts = 6, .base_delay = 100ms, .max_delay = 300ms};
  SqsClient sqs(o);
  ASSERT_FALSE(sqs.PurgeQueue("http://q/1/q"));
  EXPECT_EQ(server.Requests().size(), 6u);
  // cap = 100, 200, then max_delay 300 ms; u = 0.0, 1.0, then 0.5.
  EXPECT_EQ(h.Waits(), (std::vector<Ticker::Duration>{50ms, 200ms, 225ms, 225ms, 225ms}));
  EXPECT_EQ(h.ticker.Elapsed(), 925ms);
}

TEST(SqsClientRetries, PermanentErrorsAreNotRetried) {
  ScriptedServer server(
      {{400,
        R"({"__type":"com.amazonaws.sqs#QueueDoesNotExist","message":"The specified queue does not exist."})",
        {{"x-amzn-query-error", "AWS.SimpleQueueService.NonExistentQueue;Sender"},
         {"x-amzn-RequestId", "req-9"}}}});
  Harness h;
  SqsClient sqs(h.Options(server.Url()));
  auto r = sqs.GetQueueUrl("missing");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::kNotFound);
  EXPECT_EQ(r.error().message,
            "SQS GetQueueUrl: AWS.SimpleQueueService.NonExistentQueue: The specified queue does "
            "not exist. (HTTP 400, request req-9)");
  EXPECT_EQ(server.Requests().size(), 1u);
  EXPECT_TRUE(h.Waits().empty());
}

TEST(SqsClientRetries, ThrottlingIsRetried) {
  ScriptedServer server({{400, R"({"__type":"com.amazonaws.sqs#ThrottlingException"})"},
                         {200, R"({"QueueUrl":"http://q/1/x"})"}});
  Harness h;
  SqsClient sqs(h.Options(server.Url()));
  auto r = sqs.GetQueueUrl("x");
  ASSERT_TRUE(r) << r.error().ToString();
  EXPECT_EQ(server.Requests().size(), 2u);
}

TEST(SqsClientRetries, ExpiredTokenRefreshesCredentialsOnce) {
  ScriptedServer server({{400, R"({"__type":"com.amazonaws.sqs#ExpiredToken"})"},
                         {200, R"({"QueueUrl":"http://q/1/x"})"}});
  Harness h;
  SqsClient sqs(h.Options(server.Url()));
  ASSERT_TRUE(sqs.GetQueueUrl("x"));
  EXPECT_EQ(h.creds->invalidations.load(), 1);
  ASSERT_EQ(server.Requests().size(), 2u);
  EXPECT_EQ(server.Requests()[1].get_header_value("X-Amz-Security-Token"), "token-1");
}

TEST(SqsClientRetries, ClockSkewIsCorrectedFromTheServerDate) {
  ScriptedServer server({{403,
                          R"({"__type":"com.amazonaws.sqs#RequestTimeTooSkewed"})",
                          {{"Date", "Sun, 29 Nov 2026 13:00:00 GMT"}}},
                         {200, R"({"QueueUrl":"http://q/1/x"})"}});
  Harness h;
  ManualClock clock(std::chrono::system_clock::from_time_t(1795953600));  // 2026-11-29T12:00:00Z
  ClientOptions o = h.Options(server.Url());
  o.clock = &clock;
  SqsClient sqs(o);
  auto r = sqs.GetQueueUrl("x");
  ASSERT_TRUE(r) << r.error().ToString();
  auto requests = server.Requests();
  ASSERT_EQ(requests.size(), 2u);
  EXPECT_EQ(requests[0].get_header_value("X-Amz-Date"), "20261129T120000Z");
  EXPECT_EQ(requests[1].get_header_value("X-Amz-Date"), "20261129T130000Z");
}

TEST(SqsClientRetries, UnreachableBrokerIsUnavailableQuickly) {
  std::string url;
  {
    TestServer gone;
    gone.Start();
    url = gone.Url();
  }
  Harness h;
  SqsClient sqs(h.Options(url));
  auto t0 = std::chrono::steady_clock::now();
  auto r = sqs.ReceiveMessage(url + "/1/q", {.max_messages = 10, .wait = 20s});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::kUnavailable);
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 2s);
  EXPECT_EQ(h.Waits(), (std::vector<Ticker::Duration>{50ms, 200ms}));
}

TEST(SqsClientBatch, RetriesOnlyServerSideEntryFailures) {
  ScriptedServer server(
      {{200, R"({"Successful":[{"Id":"0"}],"Failed":[)"
             R"({"Id":"1","SenderFault":false,"Code":"InternalError","Message":"try again"},)"
             R"({"Id":"2","SenderFault":true,"Code":"ReceiptHandleIsInvalid","Message":"bad"}]})"},
       {200, R"({"Successful":[{"Id":"1"}]})"}});
  Harness h;
  SqsClient sqs(h.Options(server.Url()));
  auto r = sqs.DeleteMessageBatch("http://q/1/q", {"r0", "r1", "r2"});
  ASSERT_TRUE(r) << r.error().ToString();
  ASSERT_EQ(r->size(), 3u);
  EXPECT_TRUE((*r)[0]);
  EXPECT_TRUE((*r)[1]) << (*r)[1].error().ToString();
  ASSERT_FALSE((*r)[2]);
  EXPECT_EQ((*r)[2].error().code, ErrorCode::kInvalidArgument);
  EXPECT_EQ((*r)[2].error().message, "SQS DeleteMessageBatch entry 2: ReceiptHandleIsInvalid: bad");
  auto requests = server.Requests();
  ASSERT_EQ(requests.size(), 2u);
  auto second = nlohmann::json::parse(requests[1].body);
  ASSERT_EQ(second["Entries"].size(), 1u);
  EXPECT_EQ(second["Entries"][0]["Id"], "1");
  EXPECT_EQ(second["Entries"][0]["ReceiptHandle"], "r1");
  EXPECT_EQ(h.Waits(), (std::vector<Ticker::Duration>{50ms}));  // the caller's first backoff
}

TEST(SqsClientBatch, MalformedRepliesDoNotThrow) {
  ScriptedServer server({{200, R"({"Successful":"nope","Failed":[{"Id":7}]})"}});
  Harness h;
  SqsClient sqs(h.Options(server.Url()));
  auto r = sqs.DeleteMessageBatch("http://q/1/q", {"r0"});
  ASSERT_TRUE(r) << r.error().ToString();
  ASSERT_EQ(r->size(), 1u);
  ASSERT_FALSE((*r)[0]);
  EXPECT_EQ((*r)[0].error().code, ErrorCode::kUnavailable);
  ScriptedServer garbage({{200, "not json"}});
  SqsClient sqs2(h.Options(garbage.Url()));
  auto g = sqs2.ReceiveMessage("http://q/1/q", {.max_messages = 1});
  ASSERT_FALSE(g);
  EXPECT_EQ(g.error().code, ErrorCode::kUnavailable);
}

TEST(SnsClientErrors, XmlErrorsAreClassified) {
  ScriptedServer server(
      {{404,
        "<ErrorResponse><Error><Type>Sender</Type><Code>NotFound</Code><Message>Topic does not "
        "exist</Message></Error><RequestId>r-1</RequestId></ErrorResponse>"}});
  Harness h;
  SnsClient sns(h.Options(server.Url()));
  auto r = sns.Publish("arn:aws:sns:us-east-1:1:t", "m", {{"k", "v"}});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::kNotFound);
  EXPECT_EQ(r.error().message,
            "SNS Publish: NotFound: Topic does not exist (HTTP 404, request r-1)");
  ASSERT_EQ(server.Requests().size(), 1u);
  const auto requests = server.Requests();
  const auto& req = requests[0];
  EXPECT_EQ(req.get_header_value("Content-Type"),
            "application/x-www-form-urlencoded; charset=utf-8");
  EXPECT_EQ(req.body,
            "Action=Publish&Version=2010-03-31&TopicArn=arn%3Aaws%3Asns%3Aus-east-1%3A1%3At&"
            "Message=m&MessageAttributes.entry.1.Name=k&"
            "MessageAttributes.entry.1.Value.DataType=String&"
            "MessageAttributes.entry.1.Value.StringValue=v");
}

TEST(SnsClientErrors, ThrottledIsRetried) {
  ScriptedServer server(
      {{400, "<ErrorResponse><Error><Code>Throttled</Code></Error></ErrorResponse>"},
       {200,
        "<PublishResponse><PublishResult><MessageId>id-2</MessageId></PublishResult>"
        "</PublishResponse>"}});
  Harness h;
  SnsClient sns(h.Options(server.Url()));
  auto r = sns.Publish("arn:aws:sns:us-east-1:1:t", "m");
  ASSERT_TRUE(r) << r.error().ToString();
  EXPECT_EQ(*r, "id-2");
}

// Found while fuzzing (tests/fuzz/corpus/aws_error/, docs/decisions/fuzzing.md): a server's
// error text went into messages whole and unchecked.
TEST(ServiceErrorText, IsCutShortEscapedAndValidUtf8) {
  std::string huge(5000, 'x');
  ScriptedServer sns_server({{400,
                              "<ErrorResponse><Error><Code>Bad\x01"
                              "Code</Code><Message>caf\xc3" +
                                  huge + "</Message></Error></ErrorResponse>"}});
  Harness h;
  auto r = SnsClient(h.Options(sns_server.Url())).Publish("arn:aws:sns:us-east-1:1:t", "m");
  ASSERT_FALSE(r);
  EXPECT_TRUE(r.error().message.starts_with("SNS Publish: Bad\\x01Code: caf\\xc3xxx"))
      << r.error().message;
  EXPECT_LT(r.error().message.size(), 400u);
  EXPECT_EQ(FindInvalidUtf8(r.error().message), std::string::npos);
  // SQS: a non-JSON body is quoted by its first 120 bytes, never cutting a character.
  ScriptedServer sqs_server({{400, std::string(119, 'a') + "\xc3\xa9 tail"}});
  auto q = SqsClient(h.Options(sqs_server.Url())).SendMessage("http://q/1/q", "m");
  ASSERT_FALSE(q);
  EXPECT_EQ(FindInvalidUtf8(q.error().message), std::string::npos) << q.error().message;
  EXPECT_NE(q.error().message.find(std::string(119, 'a') + "..."), std::string::npos)
      << q.error().message;
}

TEST(Pagination, AServerThatRepeatsItsTokenIsAnErrorNotALoop) {
  ScriptedServer sqs_server({{200, R"({"QueueUrls":["http://q/1/a"],"NextToken":"t"})"}});
  Harness h;
  auto q = SqsClient(h.Options(sqs_server.Url())).ListQueues("");
  ASSERT_FALSE(q);
  EXPECT_EQ(q.error().code, ErrorCode::kUnavailable);
  EXPECT_EQ(q.error().message,
            "SQS ListQueues: the server repeated its NextToken (pagination never ends)");
  EXPECT_EQ(sqs_server.Requests().size(), 2u);
  ScriptedServer sns_server(
      {{200,
        "<ListTopicsResponse><ListTopicsResult><Topics/><NextToken>n</NextToken>"
        "</ListTopicsResult></ListTopicsResponse>"}});
  auto t = SnsClient(h.Options(sns_server.Url())).ListTopics();
  ASSERT_FALSE(t);
  EXPECT_EQ(t.error().code, ErrorCode::kUnavailable);
  EXPECT_EQ(sns_server.Requests().size(), 2u);
}

}  // namespace
}  // namespace dripr::aws
