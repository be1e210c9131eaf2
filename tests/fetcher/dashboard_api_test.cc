// The ops dashboard's JSON API (fetcher/dashboard_api.h) on a real SQLite store and embedded
// bus, handlers called directly: paging and its parameter checks, the token rules of every
// action, dead-letter actions, and that values are returned as data (the page renders them
// as text) with the security headers.

#include "dripr/fetcher/dashboard_api.h"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "dripr/core/time.h"
#include "dripr/fetcher/consumer.h"
#include "dripr/fetcher/reports.h"
#include "fetcher/local_pipeline.h"
#include "support/campaign_ids.h"
#include "support/poll.h"

namespace dripr {
namespace {

using nlohmann::json;

class DashboardApiTest : public testing::LocalPipelineTest {
 protected:
  DashboardApi Api(ActionGuard guard = {"", true}) {
    return DashboardApi(
        *store_, *bus_, metrics_,
        [] {
          return std::vector<CheckStatus>{{"database", false, "UNAVAILABLE: gone"}};
        },
        guard, SystemClock::Instance());
  }
  static OpsRequest Req(std::string path, std::multimap<std::string, std::string> params = {},
                        std::multimap<std::string, std::string> headers = {}) {
    OpsRequest r;
    r.method = "GET";
    r.path = std::move(path);
    r.params = std::move(params);
    r.headers = std::move(headers);
    return r;
  }
  static json Body(const OpsResponse& r) { return json::parse(r.body); }
  void Create(const std::string& id, const std::string& zip = "02139") {
    ASSERT_TRUE(store_->CreateCampaign(NewCampaign{id, "u", zip, std::nullopt}));
  }
  std::string DeadLetter(const std::string& body) {
    auto id = bus_->DeadLetterQueue(DataPart::kRecentSales)
                  .Send(OutgoingMessage{body,
                                        {{std::string(kFailureReasonAttribute), "boom"},
                                         {std::string(kReceiveCountAttribute), "4"}}});
    EXPECT_TRUE(id);
    return id ? *id : "";
  }
  static std::string HeaderOf(const OpsResponse& r, const std::string& name) {
    for (const auto& [k, v] : r.headers)
      if (k == name) return v;
    return "";
  }

  Metrics metrics_;
};

TEST_F(DashboardApiTest, CampaignPagesFollowNextUntilTheEnd) {
  for (int i = 0; i < 7; ++i) Create("c" + std::to_string(i));
  auto api = Api();
  std::vector<std::string> seen;
  std::string after;
  int pages = 0;
  while (true) {
    auto r = api.Campaigns(Req("/api/campaigns", {{"limit", "3"}, {"after", after}}));
    ASSERT_EQ(r.status, 200) << r.body;
    auto j = Body(r);
    for (const auto& c : j["campaigns"]) seen.push_back(c["id"]);
    ++pages;
    if (j["next"].is_null()) break;
    after = j["next"];
  }
  EXPECT_EQ(pages, 3);
  EXPECT_EQ(seen, (std::vector<std::string>{"c0", "c1", "c2", "c3", "c4", "c5", "c6"}));
}

TEST_F(DashboardApiTest, AFullPageOfTheLargestSizeStillHasANext) {
  std::vector<NewCampaign> many;
  for (int i = 0; i < kMaxCampaignPage + 1; ++i) {
    many.push_back(NewCampaign{fmt::format("m{:04}", i), "u", "02139", std::nullopt});
  }
  ASSERT_TRUE(store_->CreateCampaigns(many, false));
  auto r = Api().Campaigns(Req("/api/campaigns", {{"limit", std::to_string(kMaxCampaignPage)}}));
  ASSERT_EQ(r.status, 200) << r.body;
  auto j = Body(r);
  EXPECT_EQ(j["campaigns"].size(), static_cast<size_t>(kMaxCampaignPage));
  EXPECT_EQ(j["next"], "m0499");
}

TEST_F(DashboardApiTest, BadPagingParametersAre400) {
  auto api = Api();
  for (const auto& [k, v] :
       std::vector<std::pair<std::string, std::string>>{{"limit", "0"},
                                                        {"limit", "501"},
                                                        {"limit", "abc"},
                                                        {"limit", "-1"},
                                                        {"status", "NOPE"},
                                                        {"after", "a b"},
                                                        {"q", std::string(65, 'x')}}) {
    auto r = api.Campaigns(Req("/api/campaigns", {{k, v}}));
    EXPECT_EQ(r.status, 400) << k << "=" << v;
    EXPECT_TRUE(Body(r).contains("error"));
  }
  EXPECT_EQ(api.Campaign(Req("/api/campaign")).status, 400);
  EXPECT_EQ(api.Campaign(Req("/api/campaign", {{"id", "no such"}})).status, 400);
  EXPECT_EQ(api.Campaign(Req("/api/campaign", {{"id", "nope"}})).status, 404);
}

TEST_F(DashboardApiTest, MarkupInValuesIsReturnedAsDataWithAStrictCsp) {
  const std::string id = "<script>window.__xss=1</script>";
  Create(id);
  auto r = Api().Campaign(Req("/api/campaign", {{"id", id}}));
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.content_type, "application/json");
  EXPECT_EQ(Body(r)["id"], id);
  const std::string csp = HeaderOf(r, "Content-Security-Policy");
  EXPECT_NE(csp.find("script-src 'self'"), std::string::npos) << csp;
  EXPECT_EQ(csp.find("unsafe-inline"), std::string::npos) << csp;
  EXPECT_EQ(HeaderOf(r, "X-Content-Type-Options"), "nosniff");
}

TEST_F(DashboardApiTest, ActionsFollowTheTokenRules) {
  Create("e1");
  ASSERT_TRUE(store_->StartCampaign(Cid("e1")));
  ASSERT_TRUE(store_->FailCampaign(Cid("e1"), std::nullopt, std::nullopt, "bad"));
  auto post = [](std::multimap<std::string, std::string> headers) {
    OpsRequest r = Req("/api/campaign/reset", {{"id", "e1"}}, std::move(headers));
    r.method = "POST";
    return r;
  };
  // A token is set: missing or wrong is 401, in either header it works.
  auto with_token = Api({"s3cret", false});
  EXPECT_EQ(with_token.CampaignAction(post({})).status, 401);
  EXPECT_EQ(with_token.CampaignAction(post({{"x-dripr-token", "wrong"}})).status, 401);
  EXPECT_EQ(with_token.CampaignAction(post({{"authorization", "Bearer s3cre"}})).status, 401);
  auto ok = with_token.CampaignAction(post({{"authorization", "Bearer s3cret"}}));
  EXPECT_EQ(ok.status, 200) << ok.body;
  EXPECT_EQ(Body(ok)["campaign"]["campaign_status"], "DORMANT");
  EXPECT_EQ(ok.body.find("s3cret"), std::string::npos);
  // No token on a non-loopback address: refused whatever is sent.
  EXPECT_EQ(Api({"", false}).CampaignAction(post({{"x-dripr-token", "x"}})).status, 403);
  // No token on loopback: needs the header (a cross-site form cannot send one).
  auto local = Api({"", true});
  EXPECT_EQ(local.CampaignAction(post({})).status, 401);
  auto again = local.CampaignAction(post({{"x-dripr-token", "none"}}));
  EXPECT_EQ(again.status, 200) << again.body;
  EXPECT_FALSE(Body(again)["changed"]);  // already DORMANT: nothing to reset
  // Dead-letter actions are guarded too.
  OpsRequest redrive = Req("/api/dead-letters/redrive", {{"queue", "recent_sales"}});
  redrive.method = "POST";
  EXPECT_EQ(with_token.DeadLetterAction(redrive).status, 401);
}

TEST_F(DashboardApiTest, DeadLettersAreListedRedrivenAndDeletedOneByOne) {
  const std::string body = R"({"note":"<img src=x onerror=alert(1)>"})";
  const std::string first = DeadLetter(body);
  const std::string second = DeadLetter("not json");
  auto api = Api();
  auto list = Body(api.DeadLetters(Req("/api/dead-letters")));
  ASSERT_EQ(list["queues"].size(), 3u);
  const json& sales = list["queues"][2];
  EXPECT_EQ(sales["part"], "recent_sales");
  ASSERT_EQ(sales["messages"].size(), 2u);
  EXPECT_EQ(sales["messages"][0]["body"], body);
  EXPECT_EQ(sales["messages"][0]["reason"], "boom");
  EXPECT_EQ(sales["messages"][0]["receive_count"], 4);  // the consumer's attempts

  auto act = [&](const std::string& path, std::multimap<std::string, std::string> params) {
    OpsRequest r = Req(path, std::move(params), {{"x-dripr-token", "none"}});
    r.method = "POST";
    return api.DeadLetterAction(r);
  };
  auto moved = act("/api/dead-letters/redrive", {{"queue", "recent_sales"}, {"message_id", first}});
  ASSERT_EQ(moved.status, 200) << moved.body;
  EXPECT_EQ(Body(moved)["messages"][0]["action"], "redriven");
  auto gone = act("/api/dead-letters/delete", {{"queue", "recent_sales"}, {"message_id", second}});
  ASSERT_EQ(gone.status, 200) << gone.body;
  EXPECT_EQ(Body(gone)["messages"][0]["action"], "discarded");
  EXPECT_EQ(
      act("/api/dead-letters/delete", {{"queue", "recent_sales"}, {"message_id", second}}).status,
      404);
  EXPECT_EQ(act("/api/dead-letters/delete", {{"queue", "recent_sales"}}).status, 400);
  EXPECT_EQ(act("/api/dead-letters/redrive", {{"queue", "nope"}}).status, 400);
  auto dlq = bus_->DeadLetterQueue(DataPart::kRecentSales).Stats();
  auto work = bus_->WorkQueue(DataPart::kRecentSales).Stats();
  ASSERT_TRUE(dlq && work);
  EXPECT_EQ(dlq->visible + dlq->in_flight, 0);
  EXPECT_EQ(work->visible, 1);
}

TEST_F(DashboardApiTest, OverviewHasTheCliAndMetricsFigures) {
  Create("a");
  Create("b");
  ASSERT_TRUE(store_->StartCampaign(Cid("b")));
  metrics_.Counter(kMessagesHandled, {{"queue", "recent_sales"}, {"outcome", "done"}}).Increment(4);
  auto r = Api().Overview(Req("/api/overview"));
  ASSERT_EQ(r.status, 200) << r.body;
  auto j = Body(r);
  EXPECT_EQ(j["campaigns_by_status"]["DORMANT"], 1);
  EXPECT_EQ(j["campaigns_by_status"]["WAITING_FOR_DATA"], 1);
  EXPECT_EQ(j["campaigns_by_status"]["ERROR"], 0);
  EXPECT_EQ(j["outbox"]["unpublished"], 1);
  EXPECT_EQ(j["queues"].size(), 3u);
  EXPECT_FALSE(j["ready"]);
  EXPECT_EQ(j["failing"]["database"], "UNAVAILABLE: gone");
  bool found = false;
  for (const auto& s : j["metrics"]["dripr_messages_handled_total"]) {
    if (s["labels"]["queue"] == "recent_sales" && s["labels"]["outcome"] == "done") {
      EXPECT_EQ(s["value"], 4.0);
      found = true;
    }
  }
  EXPECT_TRUE(found) << j["metrics"].dump();
  EXPECT_EQ(r.body.find("sqlite:"), std::string::npos) << "the database URL is not shown";
  EXPECT_EQ(j["reconciler"]["enabled"], false);  // no reconciler given
}

TEST_F(DashboardApiTest, OverviewQueuesHaveDelayedAndOldestAgeAsDriprQueuesHas) {
  Queue& work = bus_->WorkQueue(DataPart::kActiveListings);
  ASSERT_TRUE(work.Send({"a", {}}));
  ASSERT_TRUE(work.Send({"b", {}, std::chrono::seconds(300)}));
  // The page is read 42 s after the messages were sent (a manual clock ahead of the bus's).
  ManualClock clock(std::chrono::system_clock::now() + std::chrono::seconds(42));
  DashboardApi api(
      *store_, *bus_, metrics_, [] { return std::vector<CheckStatus>{}; }, {"", true}, clock);
  auto j = Body(api.Overview(Req("/api/overview")));
  ASSERT_EQ(j["queues"].size(), 3u);
  const json& q = j["queues"][1];
  EXPECT_EQ(q["part"], "active_listings");
  EXPECT_EQ(q["visible"], 1);
  EXPECT_EQ(q["delayed"], 1);
  EXPECT_EQ(q["in_flight"], 0);
  EXPECT_NEAR(q["oldest_age_seconds"].get<double>(), 42, 3);
  EXPECT_EQ(q["dlq_oldest_age_seconds"], 0.0);  // empty
  EXPECT_EQ(j["queues"][0]["oldest_age_seconds"], 0.0);
  // The same figures as `dripr queues --json` (one function builds both).
  auto cli = QueuesReport(*bus_, *store_, clock.Now());
  ASSERT_TRUE(cli);
  EXPECT_EQ((*cli)["queues"], j["queues"]);
}

TEST_F(DashboardApiTest, OverviewShowsTheReconcilersLastPass) {
  ManualClock clock(SysTime{} + std::chrono::hours(24 * 365 * 56));
  ManualTicker ticker;
  ReconcilerOptions options;
  options.settings.interval = std::chrono::seconds(60);
  Reconciler reconciler(*store_, clock, ticker, options);
  DashboardApi api(
      *store_, *bus_, metrics_, [] { return std::vector<CheckStatus>{}; }, {"", true}, clock,
      DashboardSources{&reconciler, nullptr});
  auto before = Body(api.Overview(Req("/api/overview")))["reconciler"];
  EXPECT_EQ(before["enabled"], true);
  EXPECT_EQ(before["interval_seconds"], 60);
  EXPECT_TRUE(before["last_pass"].is_null());

  reconciler.Start();
  ASSERT_TRUE(testing::Eventually([&] { return reconciler.LastPass().has_value(); }));
  clock.Advance(std::chrono::seconds(7));
  auto last = Body(api.Overview(Req("/api/overview")))["reconciler"]["last_pass"];
  reconciler.Stop();
  ASSERT_TRUE(last.is_object()) << last.dump();
  EXPECT_EQ(last["ok"], true);
  EXPECT_EQ(last["acted"], true);
  EXPECT_EQ(last["looked_at"], 0);
  EXPECT_EQ(last["actions"]["republish"], 0);
  EXPECT_DOUBLE_EQ(last["age_seconds"].get<double>(), 7.0);
  EXPECT_EQ(last["time"], FormatIso8601(clock.Now() - std::chrono::seconds(7)));
}

TEST_F(DashboardApiTest, HistoryServesTheSamplesOfTheWindowOldestFirst) {
  ManualClock clock(SysTime{} + std::chrono::hours(24 * 365 * 56));
  StatusHistory history(std::chrono::seconds(10), std::chrono::seconds(60));
  StatusCounts counts{};
  for (int i = 0; i < 9; ++i) {  // 90 s of samples: the first three fall out of the window
    counts[3] = i;               // READY_TO_CREATE_EMAIL
    history.Record(clock.Now(), counts);
    clock.Advance(std::chrono::seconds(10));
  }
  DashboardApi api(
      *store_, *bus_, metrics_, [] { return std::vector<CheckStatus>{}; }, {"", true}, clock,
      DashboardSources{nullptr, &history});
  auto r = api.History(Req("/api/history"));
  ASSERT_EQ(r.status, 200) << r.body;
  auto j = Body(r);
  EXPECT_EQ(j["interval_seconds"], 10);
  EXPECT_EQ(j["window_seconds"], 60);
  ASSERT_EQ(j["samples"].size(), 6u) << j.dump();
  EXPECT_EQ(j["samples"][0]["counts"]["READY_TO_CREATE_EMAIL"], 3);
  EXPECT_EQ(j["samples"][5]["counts"]["READY_TO_CREATE_EMAIL"], 8);
  EXPECT_EQ(j["samples"][5]["counts"]["ERROR"], 0);
  EXPECT_EQ(j["samples"][5]["time"], FormatIso8601(clock.Now() - std::chrono::seconds(10)));

  DashboardApi without(
      *store_, *bus_, metrics_, [] { return std::vector<CheckStatus>{}; }, {"", true}, clock);
  EXPECT_TRUE(Body(without.History(Req("/api/history")))["samples"].empty());
}

}  // namespace
}  // namespace dripr
