// The ops HTTP server over real HTTP: standard routes, added routes, bind failures.

#include "dripr/ops/ops_server.h"

#include <gtest/gtest.h>
#include <httplib.h>

#include <atomic>
#include <fstream>
#include <nlohmann/json.hpp>

#include "support/poll.h"

namespace dripr {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;

class OpsServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    AddStandardRoutes(server_, metrics_, [this] {
      std::vector<CheckStatus> checks = {
          {"database", db_ok_.load(), db_ok_ ? "" : "UNAVAILABLE: connection refused"},
          {"bus", true, ""},
          {"consumers", true, ""}};
      return checks;
    });
  }
  void Start() {
    auto port = server_.Start("127.0.0.1", 0);
    ASSERT_TRUE(port) << port.error().ToString();
    port_ = *port;
    client_ = std::make_unique<httplib::Client>("127.0.0.1", port_);
  }
  httplib::Result Get(const std::string& path) { return client_->Get(path.c_str()); }

  Metrics metrics_;
  OpsServer server_{RealTicker()};
  std::atomic<bool> db_ok_{true};
  int port_ = 0;
  std::unique_ptr<httplib::Client> client_;
};

TEST_F(OpsServerTest, MetricsAreServedInTextFormat004) {
  metrics_.Counter(kEventsPublished, {}).Increment(5);
  Start();
  auto r = Get("/metrics");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->get_header_value("Content-Type"), "text/plain; version=0.0.4; charset=utf-8");
  EXPECT_NE(r->body.find("\ndripr_events_published_total 5\n"), std::string::npos) << r->body;
}

TEST_F(OpsServerTest, HealthzIs503WhileALoopIsWedged) {
  Start();
  auto r = Get("/healthz");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(json::parse(r->body)["status"], "ok");

  auto wedged = metrics_.AddHeartbeat("receive loop active_listings#0", 1ms);
  ASSERT_TRUE(testing::Eventually([&] {
    auto again = Get("/healthz");
    return again && again->status == 503;
  }));
  r = Get("/healthz");
  ASSERT_TRUE(r);
  auto j = json::parse(r->body);
  EXPECT_EQ(j["status"], "unhealthy");
  ASSERT_EQ(j["problems"].size(), 1u);
  EXPECT_TRUE(j["problems"][0].get<std::string>().starts_with(
      "receive loop active_listings#0: no progress"))
      << r->body;

  wedged.Stop();  // the loop ended on purpose
  r = Get("/healthz");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
}

TEST_F(OpsServerTest, ReadyzNamesEachFailingCheck) {
  Start();
  auto r = Get("/readyz");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  auto j = json::parse(r->body);
  EXPECT_EQ(j["status"], "ready");
  EXPECT_EQ(j["checks"]["database"], "ok");
  EXPECT_FALSE(j.contains("failing"));

  db_ok_ = false;
  r = Get("/readyz");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 503);
  EXPECT_EQ(r->get_header_value("Content-Type"), "application/json");
  j = json::parse(r->body);
  EXPECT_EQ(j["status"], "not ready");
  EXPECT_EQ(j["failing"], json({{"database", "UNAVAILABLE: connection refused"}}));
  EXPECT_EQ(j["checks"]["bus"], "ok");
}

TEST_F(OpsServerTest, MoreRoutesCanBeAdded) {
  server_.Get("/dashboard", [](const OpsRequest& req) {
    auto it = req.params.find("campaign");
    return OpsResponse{200, "text/html",
                       "<p>" + (it == req.params.end() ? "-" : it->second) + "</p>"};
  });
  server_.Post("/actions/echo",
               [](const OpsRequest& req) { return OpsResponse::Json(202, req.body); });
  server_.Get("/broken", [](const OpsRequest&) -> OpsResponse { throw std::runtime_error("bug"); });
  Start();
  auto r = Get("/dashboard?campaign=c-1");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body, "<p>c-1</p>");
  auto p = client_->Post("/actions/echo", R"({"a":1})", "application/json");
  ASSERT_TRUE(p);
  EXPECT_EQ(p->status, 202);
  EXPECT_EQ(p->body, R"({"a":1})");
  auto b = Get("/broken");
  ASSERT_TRUE(b);
  EXPECT_EQ(b->status, 500);
  auto missing = Get("/nope");
  ASSERT_TRUE(missing);
  EXPECT_EQ(missing->status, 404);
  EXPECT_EQ(Get("/healthz")->status, 200);  // still serving
}

TEST_F(OpsServerTest, AnAddressInUseIsReportedNamingTheVariable) {
  Start();
  OpsServer second(RealTicker());
  auto r = second.Start("127.0.0.1", port_);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::kUnavailable);
  EXPECT_EQ(r.error().message, "DRIPR_OPS_ADDR 127.0.0.1:" + std::to_string(port_) +
                                   ": the port is in use; choose another port, 0 for any free "
                                   "one, or off");
}

// An address this host does not have is the configuration's fault (kInvalidArgument: exit 2),
// unlike a port in use (kUnavailable: exit 1, above). 203.0.113.7 is TEST-NET-3 (RFC 5737),
// never a host's address.
TEST_F(OpsServerTest, AnAddressThisHostDoesNotHaveIsAConfigurationError) {
  std::ifstream nonlocal("/proc/sys/net/ipv4/ip_nonlocal_bind");
  int allowed = 0;
  if (nonlocal >> allowed && allowed != 0) GTEST_SKIP() << "this host binds non-local addresses";
  OpsServer server(RealTicker());
  auto r = server.Start("203.0.113.7", 9464);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::kInvalidArgument);
  EXPECT_EQ(r.error().message,
            "DRIPR_OPS_ADDR 203.0.113.7:9464: not an address of this host; use one of its "
            "addresses, 127.0.0.1, 0.0.0.0 (every interface) or off");
}

TEST_F(OpsServerTest, StopIsPromptAndIdempotent) {
  Start();
  const auto t0 = std::chrono::steady_clock::now();
  server_.Stop();
  server_.Stop();
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 2s);
  EXPECT_FALSE(Get("/healthz"));
}

}  // namespace
}  // namespace dripr
