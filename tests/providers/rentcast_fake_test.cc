// The fake RentCast server itself: deterministic data, the real API's validation, the admin
// endpoints, and the fake_rentcast program.

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <set>

#include "providers/rentcast_fixture.h"
#include "support/ctest_env.h"
#include "support/fake_rentcast_data.h"

namespace dripr {
namespace {

using nlohmann::json;

class RentCastFakeTest : public RentCastFixture {
 protected:
  HttpResponse Get(const std::string& path_and_query, const std::string& key = kTestApiKey) {
    HttpRequest req{.url = "http://127.0.0.1:" + std::to_string(server_->port()) + path_and_query};
    if (!key.empty()) req.headers = {{"X-Api-Key", key}};
    auto r = http_->Send(req);
    EXPECT_TRUE(r) << r.error().ToString();
    return r ? *r : HttpResponse{};
  }
  HttpResponse Admin(const std::string& method, const std::string& path, const std::string& body) {
    auto r =
        http_->Send(HttpRequest{.method = method,
                                .url = "http://127.0.0.1:" + std::to_string(server_->port()) + path,
                                .body = body});
    EXPECT_TRUE(r) << r.error().ToString();
    return r ? *r : HttpResponse{};
  }
  HttpClientPtr http_ = NewCurlHttpClient();
};

std::set<std::string> Ids(const json& records) {
  std::set<std::string> ids;
  for (const json& r : records) ids.insert(r.at("id").get<std::string>());
  return ids;
}

TEST_F(RentCastFakeTest, SameQuerySameRecordsAndAWiderRadiusIsASuperset) {
  const std::string q = "/v1/listings/sale?status=Active&latitude=30.2672&longitude=-97.7431";
  auto small1 = Get(q + "&radius=1&limit=500");
  auto small2 = Get(q + "&radius=1&limit=500");
  auto wide = Get(q + "&radius=2&limit=500");
  ASSERT_EQ(small1.status, 200) << small1.body;
  ASSERT_EQ(wide.status, 200) << wide.body;
  EXPECT_EQ(small1.body, small2.body);
  auto s = Ids(json::parse(small1.body)), w = Ids(json::parse(wide.body));
  EXPECT_LT(s.size(), w.size());
  for (const auto& id : s) EXPECT_TRUE(w.contains(id)) << id;
}

TEST_F(RentCastFakeTest, DensityVariesSoSomePlacesNeedAWiderRadius) {
  auto world = server_->world();
  size_t sparse = 0, dense = 0;
  for (int i = 0; i < 40; ++i) {
    fake::SearchQuery q{
        .kind = fake::FakeKind::kListing, .lat = 30 + i * 0.25, .lng = -97, .radius_miles = 1};
    size_t n = world->Count(q);
    if (n < 10) ++sparse;
    if (n >= 10) ++dense;
  }
  EXPECT_GT(sparse, 0u);
  EXPECT_GT(dense, 0u);
}

TEST_F(RentCastFakeTest, ZipCentroidsGiveRealZipsAndCityDensity) {
  fake::FakeRentCastConfig config;
  config.world.today = kTestToday;
  const std::string data_dir = testing::DataDir();
  ASSERT_FALSE(data_dir.empty());
  config.zip_centroids_csv = data_dir + "/zip_codes.csv";
  ASSERT_TRUE(std::filesystem::exists(config.zip_centroids_csv)) << config.zip_centroids_csv;
  fake::FakeRentCastServer with_zips(config);
  ASSERT_TRUE(with_zips.Start());
  auto world = with_zips.world();
  fake::SearchQuery manhattan{.kind = fake::FakeKind::kListing,
                              .lat = 40.758,
                              .lng = -73.9855,
                              .radius_miles = 1,
                              .limit = 5};
  fake::SearchQuery badlands{
      .kind = fake::FakeKind::kListing, .lat = 44.0, .lng = -103.0, .radius_miles = 1};
  EXPECT_GE(world->Count(manhattan), 50u);
  EXPECT_LT(world->Count(badlands), 10u);
  for (const json& r : world->Search(manhattan)) {
    if (r.is_null() || !r.contains("zipCode")) continue;
    EXPECT_TRUE(r["zipCode"].get<std::string>().starts_with("10")) << r.dump();
  }
}

TEST_F(RentCastFakeTest, ValidatesTheKeyAndParametersLikeTheRealApi) {
  const std::string where = "latitude=30.2&longitude=-97.7&radius=1";
  struct Case {
    std::string query;
    int status;
    std::string message_start;
  };
  for (const Case& c : std::vector<Case>{
           {"/v1/listings/sale?" + where + "&limit=0", 400, "Invalid limit parameter '0'"},
           {"/v1/listings/sale?" + where + "&limit=501", 400, "Invalid limit parameter '501'"},
           {"/v1/listings/sale?" + where + "&offset=-5", 400, "Invalid offset parameter '-5'"},
           {"/v1/listings/sale?latitude=abc&longitude=-97.7&radius=1", 400,
            "Invalid latitude parameter 'abc'"},
           {"/v1/listings/sale?latitude=91&longitude=-97.7&radius=1", 400,
            "Invalid latitude parameter '91'"},
           {"/v1/listings/sale?latitude=30&radius=1", 400,
            "latitude and longitude must be given together"},
           {"/v1/listings/sale?latitude=30.2&longitude=-97.7&radius=101", 400,
            "Invalid radius parameter '101'"},
           {"/v1/listings/sale?" + where + "&status=Sold", 400, "Invalid status parameter"},
           {"/v1/properties?" + where + "&saleDateRange=90", 400,
            "Invalid saleDateRange parameter '90'"},
           {"/v1/properties", 400, "A location is required"},
           {"/v1/markets?zipCode=123", 400, "Invalid or missing zipCode"},
           {"/v1/markets?zipCode=78701&historyRange=0", 400, "Invalid historyRange parameter"},
       }) {
    auto r = Get(c.query);
    EXPECT_EQ(r.status, c.status) << c.query;
    json body = json::parse(r.body, nullptr, false);
    ASSERT_TRUE(body.is_object()) << r.body;
    EXPECT_EQ(body["status"], c.status);
    EXPECT_EQ(body["error"], "resource/bad-request") << c.query;
    EXPECT_TRUE(body["message"].get<std::string>().starts_with(c.message_start))
        << c.query << " -> " << body["message"];
  }
  auto bad_key = Get("/v1/listings/sale?" + where, "nope");
  EXPECT_EQ(bad_key.status, 401);
  EXPECT_EQ(
      json::parse(bad_key.body),
      (json{{"status", 401}, {"error", "auth/api-key-invalid"}, {"message", "Invalid API key"}}));
  auto no_key = Get("/v1/listings/sale?" + where, "");
  EXPECT_EQ(no_key.status, 401);
  EXPECT_EQ(json::parse(no_key.body)["error"], "auth/api-key-missing");
}

TEST_F(RentCastFakeTest, AdminFaultsRequestsAndConfig) {
  auto added = Admin("POST", "/__admin/faults",
                     R"([{"kind":"429","count":1,"retry_after":7},{"kind":"504","count":1}])");
  ASSERT_EQ(added.status, 200) << added.body;
  const std::string q = "/v1/properties?latitude=30.2&longitude=-97.7&radius=1";
  auto first = Get(q);
  EXPECT_EQ(first.status, 429);
  EXPECT_EQ(first.Header("Retry-After"), "7");
  EXPECT_EQ(json::parse(first.body)["error"], "auth/rate-limit-exceeded");
  EXPECT_EQ(Get(q).status, 504);
  EXPECT_EQ(Get(q).status, 200);

  auto config = Admin("POST", "/__admin/config", R"({"fixed_count":0,"empty_as_404":false})");
  ASSERT_EQ(config.status, 200) << config.body;
  auto empty = Get(q);
  EXPECT_EQ(empty.status, 200);
  EXPECT_EQ(empty.body, "[]");
  ASSERT_EQ(Admin("POST", "/__admin/config", R"({"empty_as_404":true})").status, 200);
  EXPECT_EQ(Get(q).status, 404);

  auto log = Admin("GET", "/__admin/requests", "");
  ASSERT_EQ(log.status, 200);
  json entries = json::parse(log.body);
  ASSERT_EQ(entries.size(), 5u);  // admin calls are not logged
  EXPECT_EQ(entries[0]["path"], "/v1/properties");
  EXPECT_EQ(entries[0]["query"], "latitude=30.2&longitude=-97.7&radius=1");
  EXPECT_EQ(entries[0]["params"]["radius"], "1");
  EXPECT_EQ(entries[0]["status"], 429);
  EXPECT_EQ(entries[4]["status"], 404);
  EXPECT_GT(entries[0]["time_ms"].get<int64_t>(), 1'600'000'000'000);

  EXPECT_EQ(Admin("DELETE", "/__admin/requests", "").status, 200);
  EXPECT_TRUE(server_->Requests().empty());
  EXPECT_EQ(Admin("POST", "/__admin/faults", R"({"kind":"teapot"})").status, 400);
}

TEST_F(RentCastFakeTest, MalformedFaultTruncatesARealBody) {
  server_->SetFixedCount(5);
  server_->AddFault({.kind = "malformed", .count = 1});
  auto r = Get("/v1/listings/sale?latitude=30.2&longitude=-97.7&radius=1");
  EXPECT_EQ(r.status, 200);
  EXPECT_TRUE(json::parse(r.body, nullptr, false).is_discarded());
  EXPECT_EQ(
      json::parse(Get("/v1/listings/sale?latitude=30.2&longitude=-97.7&radius=1").body).size(), 5u);
}

TEST(FakeFaultSpec, ParsesTheProgramFlag) {
  auto f = fake::ParseFakeFault("429:3:100:2");
  ASSERT_TRUE(f) << f.error().ToString();
  EXPECT_EQ(f->kind, "429");
  EXPECT_EQ(f->count, 3);
  EXPECT_EQ(f->latency_ms, 100);
  EXPECT_EQ(f->retry_after, 2);
  auto latency = fake::ParseFakeFault("latency");
  ASSERT_TRUE(latency);
  EXPECT_EQ(latency->count, 1);
  EXPECT_FALSE(fake::ParseFakeFault("500:x"));
  EXPECT_FALSE(fake::ParseFakeFault("418"));
}

TEST(FakeChaosSpec, ParsesTheProgramFlag) {
  auto c = fake::ParseFakeChaos("seed=42,5xx=0.2,429=0.05,timeout=0.05,malformed=0.02");
  ASSERT_TRUE(c) << c.error().ToString();
  EXPECT_EQ(c->seed, 42u);
  EXPECT_DOUBLE_EQ(c->p_5xx, 0.2);
  EXPECT_DOUBLE_EQ(c->p_429, 0.05);
  EXPECT_DOUBLE_EQ(c->p_timeout, 0.05);
  EXPECT_DOUBLE_EQ(c->p_malformed, 0.02);
  EXPECT_EQ(c->timeout_ms, 3000);
  EXPECT_EQ(c->retry_after, 1);
  auto back = fake::ParseFakeChaos(c->ToString());
  ASSERT_TRUE(back) << c->ToString();
  EXPECT_EQ(back->ToString(), c->ToString());
  for (const char* bad : {"", "seed", "seed=x", "5xx=1.5", "5xx=0.6,429=0.6", "teapot=0.1",
                          "timeout_ms=-1", "5xx=nan"}) {
    auto r = fake::ParseFakeChaos(bad);
    ASSERT_FALSE(r) << bad;
    EXPECT_NE(r.error().message.find("bad chaos spec"), std::string::npos) << bad;
  }
}

// The seeded mix: about the asked share of each kind, counted by /__stats, and the same
// sequence of answers for the same seed.
TEST_F(RentCastFakeTest, ChaosInjectsASeededMixAndCountsIt) {
  server_->SetFixedCount(4);
  auto chaos = fake::ParseFakeChaos(
      "seed=7,5xx=0.2,429=0.1,timeout=0.1,malformed=0.1,timeout_ms=20,retry_after=2");
  ASSERT_TRUE(chaos);
  server_->SetChaos(*chaos);
  const std::string q = "/v1/listings/sale?latitude=30.2&longitude=-97.7&radius=1";
  std::vector<int> statuses;
  int retry_after_2 = 0, truncated = 0;
  for (int i = 0; i < 300; ++i) {
    auto r = Get(q);
    statuses.push_back(r.status);
    if (r.status == 429 && r.Header("Retry-After") == "2") ++retry_after_2;
    if (r.status == 200 && json::parse(r.body, nullptr, false).is_discarded()) ++truncated;
  }
  json stats = json::parse(Get("/__stats").body);
  const json& k = stats["by_kind"];
  EXPECT_EQ(stats["requests"], 300);
  EXPECT_EQ(k["ok"].get<int>() + k["5xx"].get<int>() + k["429"].get<int>() +
                k["timeout"].get<int>() + k["malformed"].get<int>(),
            300);
  EXPECT_NEAR(k["5xx"].get<int>(), 60, 25);
  EXPECT_NEAR(k["429"].get<int>(), 30, 18);
  EXPECT_NEAR(k["timeout"].get<int>(), 30, 18);
  EXPECT_NEAR(k["malformed"].get<int>(), 30, 18);
  EXPECT_EQ(retry_after_2, k["429"].get<int>());
  EXPECT_EQ(truncated, k["malformed"].get<int>());
  EXPECT_EQ(stats["by_path"]["/listings/sale"]["requests"], 300);
  EXPECT_EQ(stats["by_status"]["429"], k["429"]);

  // Another server with the same seed answers the same sequence; DELETE turns chaos off.
  fake::FakeRentCastConfig config;
  config.api_key = kTestApiKey;
  config.world.fixed_count = 4;
  fake::FakeRentCastServer twin(config);
  auto port = twin.Start();
  ASSERT_TRUE(port);
  twin.SetChaos(*chaos);
  for (int i = 0; i < 50; ++i) {
    HttpRequest req{.url = "http://127.0.0.1:" + std::to_string(*port) + q,
                    .headers = {{"X-Api-Key", kTestApiKey}}};
    auto r = http_->Send(req);
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, statuses[static_cast<size_t>(i)]) << "request " << i;
  }
  twin.Stop();
  EXPECT_EQ(Admin("DELETE", "/__admin/chaos", "").status, 200);
  for (int i = 0; i < 20; ++i) EXPECT_EQ(Get(q).status, 200);
  EXPECT_EQ(Admin("POST", "/__admin/chaos", R"({"spec":"5xx=2"})").status, 400);
}

// The program: started like the e2e scripts start it.
TEST(FakeRentCastProgram, ListensServesInjectedFaultsAndStopsOnSigterm) {
  auto exe = std::filesystem::read_symlink("/proc/self/exe").parent_path() / "fake_rentcast";
  if (!std::filesystem::exists(exe)) GTEST_SKIP() << "build the fake_rentcast target first";
  int out[2];
  ASSERT_EQ(pipe(out), 0);
  pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    dup2(out[1], 1);
    close(out[0]);
    execl(exe.c_str(), exe.c_str(), "--port", "0", "--api-key", "prog-key", "--fault", "500:1",
          "--fixed-count", "3", static_cast<char*>(nullptr));
    _exit(127);
  }
  close(out[1]);
  FILE* f = fdopen(out[0], "r");
  char line[128] = {0};
  ASSERT_NE(fgets(line, sizeof line, f), nullptr);
  int port = 0;
  ASSERT_EQ(sscanf(line, "listening on %d", &port), 1) << line;

  auto http = NewCurlHttpClient();
  HttpRequest req{.url = "http://127.0.0.1:" + std::to_string(port) +
                         "/v1/listings/sale?latitude=30.2&longitude=-97.7&radius=1",
                  .headers = {{"X-Api-Key", "prog-key"}}};
  auto first = http->Send(req);
  ASSERT_TRUE(first) << first.error().ToString();
  EXPECT_EQ(first->status, 500);
  auto second = http->Send(req);
  ASSERT_TRUE(second);
  EXPECT_EQ(second->status, 200);
  EXPECT_EQ(json::parse(second->body).size(), 3u);

  kill(pid, SIGTERM);
  int status = 0;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  EXPECT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0);
  fclose(f);
}

}  // namespace
}  // namespace dripr
