// Credential sources, the default chain (caching, refresh), region and endpoint resolution.
// HTTP-based sources run against fake servers on loopback (aws/test_server.h).

#include "dripr/bus/aws/credentials.h"

#include <gtest/gtest.h>

#include <atomic>
#include <fstream>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "aws/settings.h"
#include "aws/test_server.h"
#include "bus/temp_dir.h"
#include "dripr/core/time.h"

namespace dripr::aws {
namespace {

using namespace std::chrono_literals;
using dripr::testing::Aws;
using dripr::testing::TempDir;
using dripr::testing::TestServer;

constexpr char kSecret[] = "sEcReT-NeVeR-LoGgEd-123";
constexpr char kToken[] = "ToKeN-NeVeR-LoGgEd-456";

void WriteFile(const std::string& path, const std::string& text) {
  std::ofstream(path, std::ios::binary) << text;
}

SysTime T0() { return *ParseIso8601("2026-11-29T12:00:00Z"); }

std::string CredsJson(const std::string& id, SysTime expiration) {
  return R"({"Code":"Success","Type":"AWS-HMAC","AccessKeyId":")" + id +
         R"(","SecretAccessKey":")" + kSecret + R"(","Token":")" + kToken + R"(","Expiration":")" +
         FormatIso8601(expiration) + R"("})";
}

void ExpectNoSecrets(const std::string& text) {
  EXPECT_EQ(text.find(kSecret), std::string::npos) << text;
  EXPECT_EQ(text.find(kToken), std::string::npos) << text;
}

TEST(CredentialsFromEnv, ReadsKeysAndToken) {
  auto c = CredentialsFromEnv(Aws({{"AWS_ACCESS_KEY_ID", "AKIAENV"},
                                   {"AWS_SECRET_ACCESS_KEY", kSecret},
                                   {"AWS_SESSION_TOKEN", kToken}}));
  ASSERT_TRUE(c) << c.error().ToString();
  EXPECT_EQ(c->access_key_id, "AKIAENV");
  EXPECT_EQ(c->secret_access_key, kSecret);
  EXPECT_EQ(c->session_token, kToken);
  EXPECT_EQ(c->source, "env");
  EXPECT_FALSE(c->expiration);
  ExpectNoSecrets(c->ToString());
}

TEST(CredentialsFromEnv, NotConfiguredAndHalfConfigured) {
  auto none = CredentialsFromEnv(Aws({}));
  ASSERT_FALSE(none);
  EXPECT_EQ(none.error().code, ErrorCode::kFailedPrecondition);
  auto half = CredentialsFromEnv(Aws({{"AWS_ACCESS_KEY_ID", "AKIA"}}));
  ASSERT_FALSE(half);
  EXPECT_EQ(half.error().code, ErrorCode::kInvalidArgument);
  EXPECT_EQ(half.error().message, "env: AWS_ACCESS_KEY_ID is set but AWS_SECRET_ACCESS_KEY is not");
}

TEST(ParseIni, SectionsCommentsAndNestedBlocks) {
  auto ini = ParseIni(
      "# c\n[default]\naws_access_key_id = A\n; c2\n[profile dev]\nregion=eu-west-1\n"
      "s3 =\n  max_concurrent_requests = 2\nAWS_Secret_Access_Key = S = x\n",
      "cfg");
  ASSERT_TRUE(ini) << ini.error().ToString();
  EXPECT_EQ(ini->at("default").at("aws_access_key_id"), "A");
  EXPECT_EQ(ini->at("profile dev").at("region"), "eu-west-1");
  EXPECT_EQ(ini->at("profile dev").at("aws_secret_access_key"), "S = x");
  EXPECT_FALSE(ini->at("profile dev").contains("max_concurrent_requests"));
  auto bad = ParseIni("[default]\nno equals here\n", "f.ini");
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().message, "f.ini:2: expected key = value");
}

TEST(CredentialsFromProfile, DefaultAndNamedProfilesFromHomeAndOverrides) {
  TempDir dir;
  std::filesystem::create_directories(dir.File(".aws"));
  WriteFile(dir.File(".aws/credentials"),
            std::string("[default]\naws_access_key_id=AKIADEFAULT\naws_secret_access_key=") +
                kSecret + "\n[dev]\naws_access_key_id=AKIADEV\naws_secret_access_key=" + kSecret +
                "\naws_session_token=" + kToken + "\n");
  WriteFile(dir.File(".aws/config"),
            "[default]\nregion=us-west-2\n[profile dev]\nregion=eu-central-1\n"
            "[profile cfgonly]\naws_access_key_id=AKIACFG\naws_secret_access_key=x\n");
  auto def = CredentialsFromProfile(Aws({{"HOME", dir.File("")}}));
  ASSERT_TRUE(def) << def.error().ToString();
  EXPECT_EQ(def->access_key_id, "AKIADEFAULT");

  auto dev = CredentialsFromProfile(Aws({{"HOME", dir.File("")}, {"AWS_PROFILE", "dev"}}));
  ASSERT_TRUE(dev) << dev.error().ToString();
  EXPECT_EQ(dev->access_key_id, "AKIADEV");
  EXPECT_EQ(dev->session_token, kToken);
  EXPECT_TRUE(dev->source.starts_with("profile dev")) << dev->source;

  auto cfg = CredentialsFromProfile(Aws({{"HOME", dir.File("")}, {"AWS_PROFILE", "cfgonly"}}));
  ASSERT_TRUE(cfg) << cfg.error().ToString();
  EXPECT_EQ(cfg->access_key_id, "AKIACFG");

  auto missing = CredentialsFromProfile(Aws({{"HOME", dir.File("")}, {"AWS_PROFILE", "nope"}}));
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code, ErrorCode::kFailedPrecondition);

  WriteFile(dir.File("other-creds"),
            std::string("[dev]\naws_access_key_id=AKIAOTHER\naws_secret_access_key=") + kSecret);
  auto other =
      CredentialsFromProfile(Aws({{"HOME", "/nonexistent"},
                                  {"AWS_PROFILE", "dev"},
                                  {"AWS_SHARED_CREDENTIALS_FILE", dir.File("other-creds")}}));
  ASSERT_TRUE(other) << other.error().ToString();
  EXPECT_EQ(other->access_key_id, "AKIAOTHER");

  // Region: env first, then the profile in the config file.
  EXPECT_EQ(*ResolveRegion(Aws({{"HOME", dir.File("")}})), "us-west-2");
  EXPECT_EQ(*ResolveRegion(Aws({{"HOME", dir.File("")}, {"AWS_PROFILE", "dev"}})), "eu-central-1");
  EXPECT_EQ(*ResolveRegion(Aws({{"HOME", dir.File("")}, {"AWS_DEFAULT_REGION", "ap-south-1"}})),
            "ap-south-1");
  EXPECT_EQ(*ResolveRegion(Aws({{"HOME", dir.File("")},
                                {"AWS_DEFAULT_REGION", "ap-south-1"},
                                {"AWS_REGION", "sa-east-1"}})),
            "sa-east-1");
  auto none = ResolveRegion(Aws({{"HOME", "/nonexistent"}}));
  ASSERT_FALSE(none);
  EXPECT_EQ(none.error().code, ErrorCode::kInvalidArgument);  // a configuration error: exit 2
}

TEST(ResolveEndpoint, ServiceSpecificThenGlobalThenAws) {
  AwsSettings both = Aws({{"AWS_ENDPOINT_URL", "http://127.0.0.1:4566/"},
                          {"AWS_ENDPOINT_URL_SQS", "http://127.0.0.1:9324"}});
  EXPECT_EQ(ResolveEndpoint(both, "sqs", "us-east-1"), "http://127.0.0.1:9324");
  EXPECT_EQ(ResolveEndpoint(both, "sns", "us-east-1"), "http://127.0.0.1:4566");
  AwsSettings none = Aws({});
  EXPECT_EQ(ResolveEndpoint(none, "sqs", "eu-west-1"), "https://sqs.eu-west-1.amazonaws.com");
  EXPECT_EQ(ResolveEndpoint(none, "sns", "cn-north-1"), "https://sns.cn-north-1.amazonaws.com.cn");
}

// A fake EC2 metadata service (IMDSv2) serving one role.
struct FakeImds {
  TestServer server;
  std::atomic<int> credential_fetches{0};
  std::atomic<bool> failing{false};
  std::atomic<bool> token_ttl_sent{true};
  SysTime expiration = T0() + 1h;

  FakeImds() {
    server.server().Put(
        "/latest/api/token", [this](const httplib::Request& req, httplib::Response& res) {
          if (req.get_header_value("X-aws-ec2-metadata-token-ttl-seconds").empty()) {
            token_ttl_sent = false;
          }
          res.set_content("imds-token", "text/plain");
        });
    server.server().Get(
        R"(/latest/meta-data/iam/security-credentials/(.*))",
        [this](const httplib::Request& req, httplib::Response& res) {
          if (req.get_header_value("X-aws-ec2-metadata-token") != "imds-token") {
            res.status = 401;
            return;
          }
          if (failing) {
            res.status = 500;
            return;
          }
          std::string role = req.matches[1];
          if (role.empty()) {
            res.set_content("app-role\n", "text/plain");
          } else if (role == "app-role") {
            ++credential_fetches;
            res.set_content(
                CredsJson("ASIAIMDS" + std::to_string(credential_fetches.load()), expiration),
                "application/json");
          } else {
            res.status = 404;
          }
        });
    server.Start();
  }
};

TEST(CredentialsFromImds, TokenRoleAndCredentials) {
  FakeImds imds;
  auto c = CredentialsFromImds(Aws({{"AWS_EC2_METADATA_SERVICE_ENDPOINT", imds.server.Url()}}),
                               {.http = NewCurlHttpClient()});
  ASSERT_TRUE(c) << c.error().ToString();
  EXPECT_EQ(c->access_key_id, "ASIAIMDS1");
  EXPECT_EQ(c->secret_access_key, kSecret);
  EXPECT_EQ(c->session_token, kToken);
  ASSERT_TRUE(c->expiration);
  EXPECT_EQ(*c->expiration, imds.expiration);
  EXPECT_TRUE(imds.token_ttl_sent);
  EXPECT_EQ(c->source, "EC2 instance metadata (role app-role)");

  auto disabled = CredentialsFromImds(Aws({{"AWS_EC2_METADATA_DISABLED", "true"}}),
                                      {.http = NewCurlHttpClient()});
  ASSERT_FALSE(disabled);
  EXPECT_EQ(disabled.error().code, ErrorCode::kFailedPrecondition);
}

TEST(CredentialsFromImds, UnreachableIsUnavailable) {
  std::string url;
  {
    TestServer gone;
    gone.Start();
    url = gone.Url();
  }
  auto c = CredentialsFromImds(Aws({}), {.http = NewCurlHttpClient(), .imds_endpoint = url});
  ASSERT_FALSE(c);
  EXPECT_EQ(c.error().code, ErrorCode::kUnavailable);
}

TEST(CredentialsFromContainer, RelativeUriAndFullUriWithToken) {
  TestServer server;
  std::atomic<bool> auth_ok{false};
  server.server().Get("/v2/credentials/abc", [](const httplib::Request&, httplib::Response& res) {
    res.set_content(CredsJson("ASIAECS", T0() + 6h), "application/json");
  });
  server.server().Get("/full", [&](const httplib::Request& req, httplib::Response& res) {
    auth_ok = req.get_header_value("Authorization") == "Bearer xyz";
    res.set_content(CredsJson("ASIAEKS", T0() + 6h), "application/json");
  });
  server.server().Get("/broken", [](const httplib::Request&, httplib::Response& res) {
    // Malformed, but carrying the secret: the error must not echo it.
    res.set_content(std::string(R"({"SecretAccessKey":")") + kSecret + "\"", "application/json");
  });
  server.Start();
  auto http = NewCurlHttpClient();
  auto rel = CredentialsFromContainer(
      Aws({{"AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "/v2/credentials/abc"}}),
      {.http = http, .container_endpoint = server.Url()});
  ASSERT_TRUE(rel) << rel.error().ToString();
  EXPECT_EQ(rel->access_key_id, "ASIAECS");

  auto full =
      CredentialsFromContainer(Aws({{"AWS_CONTAINER_CREDENTIALS_FULL_URI", server.Url() + "/full"},
                                    {"AWS_CONTAINER_AUTHORIZATION_TOKEN", "Bearer xyz"}}),
                               {.http = http});
  ASSERT_TRUE(full) << full.error().ToString();
  EXPECT_EQ(full->access_key_id, "ASIAEKS");
  EXPECT_TRUE(auth_ok);

  auto broken = CredentialsFromContainer(
      Aws({{"AWS_CONTAINER_CREDENTIALS_FULL_URI", server.Url() + "/broken"}}), {.http = http});
  ASSERT_FALSE(broken);
  EXPECT_EQ(broken.error().code, ErrorCode::kUnavailable);
  EXPECT_EQ(broken.error().message, "container credentials: malformed credentials document");

  auto remote = CredentialsFromContainer(
      Aws({{"AWS_CONTAINER_CREDENTIALS_FULL_URI", "http://example.com/creds"}}), {.http = http});
  ASSERT_FALSE(remote);
  EXPECT_EQ(remote.error().code, ErrorCode::kInvalidArgument);
}

// An HttpClient that answers every request with a credentials document and records the URLs
// asked for (no request leaves the process).
class RecordingHttpClient : public HttpClient {
 public:
  Result<HttpResponse> Send(const HttpRequest& request) override {
    std::lock_guard lock(mu_);
    urls_.push_back(request.url);
    return HttpResponse{.status = 200, .body = CredsJson("ASIAREC", T0() + 6h)};
  }
  std::vector<std::string> urls() {
    std::lock_guard lock(mu_);
    return urls_;
  }

 private:
  std::mutex mu_;
  std::vector<std::string> urls_;
};

// The host was the text before the first ':' or '/', and any host starting with "127." passed:
// user-info sent the request elsewhere ("http://127.0.0.1@192.0.2.2:18766/creds" goes to
// 192.0.2.2), and "127.evil.example" is a name that DNS resolves anywhere.
TEST(CredentialsFromContainer, PlainHttpOnlyToLoopbackOrTheAgentsAddresses) {
  for (const char* url : {
           "http://127.0.0.1@192.0.2.2:18766/creds",
           "http://127.evil.example/creds",
           "http://127.0.0.1.evil.example/creds",
           "http://127.0.0.256/creds",
           "http://127.0.0/creds",
           "http://localhost@192.0.2.2/creds",
           "http://[::1]@192.0.2.2/creds",
           "http://u:p@127.0.0.1/creds",
           "https://127.0.0.1@192.0.2.2/creds",
           "HTTP://192.0.2.2/creds",
           "ftp://127.0.0.1/creds",
           "192.0.2.2/creds",
           "http://127.0.0.1:80x@192.0.2.2/creds",
           "http://[::1/creds",
           "http://169.254.170.2.evil.example/creds",
       }) {
    auto http = std::make_shared<RecordingHttpClient>();
    auto c = CredentialsFromContainer(Aws({{"AWS_CONTAINER_CREDENTIALS_FULL_URI", url}}),
                                      {.http = http});
    ASSERT_FALSE(c) << url;
    EXPECT_EQ(c.error().code, ErrorCode::kInvalidArgument) << url;
    EXPECT_TRUE(
        c.error().message.starts_with("container credentials: AWS_CONTAINER_CREDENTIALS_FULL_URI "))
        << c.error().message;
    EXPECT_TRUE(http->urls().empty()) << url;
  }
  for (const char* url : {
           "http://127.0.0.1:18766/creds",
           "http://127.1.2.3/creds",
           "http://localhost:8080/creds",
           "http://LOCALHOST/creds",
           "http://[::1]:8080/creds",
           "http://169.254.170.2/v2/credentials/abc",
           "http://169.254.170.23/v1/credentials",
           "http://[fd00:ec2::23]/v1/credentials",
           "http://127.0.0.1",
           "http://127.0.0.1?x=@y",
           "https://creds.example.com/v1",
           "https://creds.example.com:8443/v1?a=b@c",
       }) {
    auto http = std::make_shared<RecordingHttpClient>();
    auto c = CredentialsFromContainer(Aws({{"AWS_CONTAINER_CREDENTIALS_FULL_URI", url}}),
                                      {.http = http});
    ASSERT_TRUE(c) << url << ": " << c.error().ToString();
    EXPECT_EQ(c->access_key_id, "ASIAREC");
    EXPECT_EQ(http->urls(), std::vector<std::string>{url});
  }
  // The relative URI is a path on the agent's address, never the start of another authority.
  auto http = std::make_shared<RecordingHttpClient>();
  auto rel = CredentialsFromContainer(
      Aws({{"AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "@192.0.2.2/creds"}}), {.http = http});
  ASSERT_FALSE(rel);
  EXPECT_EQ(rel.error().code, ErrorCode::kInvalidArgument);
  EXPECT_TRUE(http->urls().empty());
}

// The credentials of a container credentials service (real HTTP on loopback) that answers
// with `document`.
Result<Credentials> FromContainerAnswering(const std::string& document) {
  TestServer server;
  server.server().Get("/creds", [&document](const httplib::Request&, httplib::Response& res) {
    res.set_content(document, "application/json");
  });
  server.Start();
  return CredentialsFromContainer(
      Aws({{"AWS_CONTAINER_CREDENTIALS_FULL_URI", server.Url() + "/creds"}}),
      {.http = NewCurlHttpClient()});
}

// Found while fuzzing (tests/fuzz/corpus/credentials/): a credentials service's text (the
// document's Code, STS's error Message) went into the error whole, control bytes included.
TEST(CredentialsFromContainer, ServiceTextInErrorsIsCutShortAndEscaped) {
  auto r =
      FromContainerAnswering(R"({"AccessKeyId":"a","SecretAccessKey":"b","Code":"Fail\u001b[2J)" +
                             std::string(5000, 'x') + "\"}");
  ASSERT_FALSE(r);
  EXPECT_TRUE(
      r.error().message.starts_with("container credentials: credentials code Fail\\x1b[2Jxxx"))
      << r.error().message;
  EXPECT_LT(r.error().message.size(), 150u);
}

// Found by credentials_fuzz: a document with an empty secret was taken as credentials.
TEST(CredentialsFromContainer, EmptyKeyOrSecretIsMalformed) {
  auto r =
      FromContainerAnswering(R"({"AccessKeyId":"ASIA1","SecretAccessKey":"","Code":"Success"})");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::kUnavailable);
  EXPECT_EQ(r.error().message, "container credentials: empty AccessKeyId or SecretAccessKey");
}

TEST(CredentialsFromWebIdentity, AssumesRoleThroughSts) {
  TempDir dir;
  WriteFile(dir.File("token"), "jwt-token-value\n");
  TestServer sts;
  std::string seen_body;
  std::mutex mu;
  sts.server().Post("/", [&](const httplib::Request& req, httplib::Response& res) {
    {
      std::lock_guard lock(mu);
      seen_body = req.body;
    }
    if (req.body.find("RoleArn=arn%3Aaws%3Aiam%3A%3A123456789012%3Arole%2Fdenied") !=
        std::string::npos) {
      res.status = 403;
      res.set_content(
          "<ErrorResponse><Error><Type>Sender</Type><Code>AccessDenied</Code>"
          "<Message>Not authorized</Message></Error><RequestId>r1</RequestId></ErrorResponse>",
          "text/xml");
      return;
    }
    res.set_content(std::string("<AssumeRoleWithWebIdentityResponse "
                                "xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\">"
                                "<AssumeRoleWithWebIdentityResult><Credentials>"
                                "<AccessKeyId>ASIASTS</AccessKeyId><SecretAccessKey>") +
                        kSecret + "</SecretAccessKey><SessionToken>" + kToken +
                        "</SessionToken><Expiration>2026-11-29T13:00:00Z</Expiration></Credentials>"
                        "</AssumeRoleWithWebIdentityResult></AssumeRoleWithWebIdentityResponse>",
                    "text/xml");
  });
  sts.Start();
  AwsSettings env = Aws({{"AWS_WEB_IDENTITY_TOKEN_FILE", dir.File("token")},
                         {"AWS_ROLE_ARN", "arn:aws:iam::123456789012:role/app"},
                         {"AWS_ROLE_SESSION_NAME", "s1"}});
  auto c =
      CredentialsFromWebIdentity(env, {.http = NewCurlHttpClient(), .sts_endpoint = sts.Url()});
  ASSERT_TRUE(c) << c.error().ToString();
  EXPECT_EQ(c->access_key_id, "ASIASTS");
  EXPECT_EQ(c->secret_access_key, kSecret);
  EXPECT_EQ(c->session_token, kToken);
  EXPECT_EQ(*c->expiration, T0() + 1h);
  {
    std::lock_guard lock(mu);
    EXPECT_NE(seen_body.find("Action=AssumeRoleWithWebIdentity"), std::string::npos);
    EXPECT_NE(seen_body.find("RoleSessionName=s1"), std::string::npos);
    EXPECT_TRUE(seen_body.ends_with("&WebIdentityToken=jwt-token-value")) << seen_body;
  }
  env.role_arn = "arn:aws:iam::123456789012:role/denied";
  auto denied =
      CredentialsFromWebIdentity(env, {.http = NewCurlHttpClient(), .sts_endpoint = sts.Url()});
  ASSERT_FALSE(denied);
  EXPECT_EQ(denied.error().code, ErrorCode::kPermissionDenied);
  EXPECT_EQ(denied.error().message,
            "web identity (arn:aws:iam::123456789012:role/denied): STS HTTP 403 AccessDenied: "
            "Not authorized");
  EXPECT_EQ(denied.error().message.find("jwt-token-value"), std::string::npos);
}

TEST(DefaultChain, EnvWinsOverFilesAndImds) {
  TempDir dir;
  WriteFile(dir.File("creds"), "[default]\naws_access_key_id=AKIAFILE\naws_secret_access_key=x\n");
  FakeImds imds;
  AwsSettings env = Aws({{"HOME", "/nonexistent"},
                         {"AWS_SHARED_CREDENTIALS_FILE", dir.File("creds")},
                         {"AWS_EC2_METADATA_SERVICE_ENDPOINT", imds.server.Url()},
                         {"AWS_ACCESS_KEY_ID", "AKIAENV"},
                         {"AWS_SECRET_ACCESS_KEY", kSecret}});
  auto chain = NewDefaultCredentialsChain(env, {.http = NewCurlHttpClient()});
  auto c = chain->Get();
  ASSERT_TRUE(c) << c.error().ToString();
  EXPECT_EQ(c->access_key_id, "AKIAENV");

  AwsSettings files_only = Aws({{"HOME", "/nonexistent"},
                                {"AWS_SHARED_CREDENTIALS_FILE", dir.File("creds")},
                                {"AWS_EC2_METADATA_SERVICE_ENDPOINT", imds.server.Url()}});
  auto f = NewDefaultCredentialsChain(files_only, {.http = NewCurlHttpClient()})->Get();
  ASSERT_TRUE(f) << f.error().ToString();
  EXPECT_EQ(f->access_key_id, "AKIAFILE");
  EXPECT_EQ(imds.credential_fetches.load(), 0);
}

TEST(DefaultChain, NothingConfiguredIsFailedPrecondition) {
  auto chain = NewDefaultCredentialsChain(
      Aws({{"HOME", "/nonexistent"}, {"AWS_EC2_METADATA_DISABLED", "true"}}),
      {.http = NewCurlHttpClient()});
  auto c = chain->Get();
  ASSERT_FALSE(c);
  EXPECT_EQ(c.error().code, ErrorCode::kFailedPrecondition);
  EXPECT_TRUE(c.error().message.starts_with("no AWS credentials found (env: "))
      << c.error().message;
}

TEST(DefaultChain, UnreachableImdsListsWhatWasTried) {
  std::string url;
  {
    TestServer gone;
    gone.Start();
    url = gone.Url();
  }
  auto chain = NewDefaultCredentialsChain(
      Aws({{"HOME", "/nonexistent"}, {"AWS_EC2_METADATA_SERVICE_ENDPOINT", url}}),
      {.http = NewCurlHttpClient()});
  auto c = chain->Get();
  ASSERT_FALSE(c);
  EXPECT_EQ(c.error().code, ErrorCode::kUnavailable);
  EXPECT_TRUE(c.error().message.starts_with(
      "no AWS credentials found (env: AWS_ACCESS_KEY_ID not set; shared files: no keys for "
      "profile default; "))
      << c.error().message;
  EXPECT_NE(c.error().message.find("EC2 instance metadata token: PUT " + url), std::string::npos)
      << c.error().message;
}

// The default chain with nothing configured but the instance metadata service `imds`.
CredentialsProviderPtr ChainOnImdsOnly(const FakeImds& imds, const Clock& clock,
                                       std::chrono::seconds refresh_margin) {
  return NewDefaultCredentialsChain(
      Aws({{"HOME", "/nonexistent"}, {"AWS_EC2_METADATA_SERVICE_ENDPOINT", imds.server.Url()}}),
      {.http = NewCurlHttpClient(), .clock = &clock, .refresh_margin = refresh_margin});
}

TEST(DefaultChain, CachesAndRefreshesTemporaryCredentialsBeforeExpiry) {
  FakeImds imds;
  ManualClock clock(T0());
  auto chain = ChainOnImdsOnly(imds, clock, 5min);
  auto a = chain->Get();
  ASSERT_TRUE(a) << a.error().ToString();
  auto b = chain->Get();
  ASSERT_TRUE(b);
  EXPECT_EQ(imds.credential_fetches.load(), 1);  // cached
  EXPECT_EQ(b->access_key_id, "ASIAIMDS1");

  clock.Advance(54min);  // 6 min before expiry: still cached
  ASSERT_TRUE(chain->Get());
  EXPECT_EQ(imds.credential_fetches.load(), 1);

  imds.expiration = T0() + 2h;
  clock.Advance(2min);  // 4 min before expiry: refreshed
  auto c = chain->Get();
  ASSERT_TRUE(c);
  EXPECT_EQ(imds.credential_fetches.load(), 2);
  EXPECT_EQ(c->access_key_id, "ASIAIMDS2");

  // A failed refresh keeps serving credentials that are still valid...
  imds.failing = true;
  clock.Advance(60min);  // T0+116min: 4 min before the new expiry
  auto d = chain->Get();
  ASSERT_TRUE(d) << d.error().ToString();
  EXPECT_EQ(d->access_key_id, "ASIAIMDS2");
  // ...but not expired ones.
  clock.Advance(5min);
  auto e = chain->Get();
  ASSERT_FALSE(e);
  EXPECT_EQ(e.error().code, ErrorCode::kUnavailable);
  ExpectNoSecrets(e.error().message);

  // Invalidate forces a fetch.
  imds.failing = false;
  ASSERT_TRUE(chain->Get());
  int fetches = imds.credential_fetches.load();
  chain->Invalidate();
  ASSERT_TRUE(chain->Get());
  EXPECT_EQ(imds.credential_fetches.load(), fetches + 1);
}

TEST(DefaultChain, IsThreadSafe) {
  FakeImds imds;
  ManualClock clock(T0());
  auto chain = ChainOnImdsOnly(imds, clock, CredentialChainOptions{}.refresh_margin);
  std::vector<std::thread> threads;
  std::atomic<int> ok{0};
  for (int i = 0; i < 8; ++i) {
    threads.emplace_back([&] {
      for (int k = 0; k < 20; ++k) ok += chain->Get().has_value();
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(ok.load(), 160);
  EXPECT_EQ(imds.credential_fetches.load(), 1);
}

}  // namespace
}  // namespace dripr::aws
