// The dashboard's HTTP side without a database (ops/dashboard.h): pages and assets over real
// HTTP with their security headers, reading figures back from an exposition, parameters.

#include "dripr/ops/dashboard.h"

#include <gtest/gtest.h>
#include <httplib.h>

#include "dripr/core/clock.h"

namespace dripr {
namespace {

using nlohmann::json;

TEST(DashboardPagesTest, EveryPagePathServesTheAppWithAStrictCsp) {
  OpsServer server{RealTicker()};
  AddDashboardPages(server);
  auto port = server.Start("127.0.0.1", 0);
  ASSERT_TRUE(port) << port.error().ToString();
  httplib::Client client("127.0.0.1", *port);
  for (const char* path : {"/", "/campaigns", "/campaigns/c%3Cx%3E%2Fy", "/dead-letters"}) {
    auto r = client.Get(path);
    ASSERT_TRUE(r) << path;
    EXPECT_EQ(r->status, 200) << path;
    EXPECT_EQ(r->get_header_value("Content-Type"), "text/html; charset=utf-8");
    EXPECT_NE(r->body.find("<script src=\"/assets/app.js\""), std::string::npos);
    const std::string csp = r->get_header_value("Content-Security-Policy");
    EXPECT_NE(csp.find("default-src 'none'"), std::string::npos) << csp;
    EXPECT_NE(csp.find("script-src 'self'"), std::string::npos) << csp;
    EXPECT_EQ(csp.find("unsafe"), std::string::npos) << csp;
  }
  auto js = client.Get("/assets/app.js");
  ASSERT_TRUE(js);
  EXPECT_EQ(js->status, 200);
  EXPECT_EQ(js->get_header_value("Content-Type"), "text/javascript; charset=utf-8");
  for (const char* sink : {"innerHTML", "outerHTML", "insertAdjacentHTML", "document.write"}) {
    EXPECT_EQ(js->body.find(sink), std::string::npos) << sink << ": values go in as text only";
  }
  auto css = client.Get("/assets/app.css");
  ASSERT_TRUE(css);
  EXPECT_NE(css->body.find("prefers-color-scheme: dark"), std::string::npos);
  auto missing = client.Get("/assets/nope.js");
  ASSERT_TRUE(missing);
  EXPECT_EQ(missing->status, 404);
  auto other = client.Get("/elsewhere");
  ASSERT_TRUE(other);
  EXPECT_EQ(other->status, 404);
}

TEST(DashboardMetricSamplesTest, ReadsLabelsAndValuesOfTheAskedFamilies) {
  const std::string text =
      "# HELP dripr_messages_handled_total x\n"
      "# TYPE dripr_messages_handled_total counter\n"
      "dripr_messages_handled_total{queue=\"a\",outcome=\"done\"} 12\n"
      "dripr_messages_handled_total{queue=\"q\\\"x\",outcome=\"retry\"} 0.5\n"
      "dripr_events_published_total 7\n"
      "dripr_other 3\n";
  const std::string_view names[] = {"dripr_messages_handled_total", "dripr_events_published_total",
                                    "dripr_missing"};
  json j = MetricSamples(text, names);
  ASSERT_EQ(j["dripr_messages_handled_total"].size(), 2u);
  EXPECT_EQ(j["dripr_messages_handled_total"][0]["labels"]["outcome"], "done");
  EXPECT_EQ(j["dripr_messages_handled_total"][0]["value"], 12.0);
  EXPECT_EQ(j["dripr_messages_handled_total"][1]["labels"]["queue"], "q\"x");
  EXPECT_EQ(j["dripr_events_published_total"][0]["value"], 7.0);
  EXPECT_TRUE(j["dripr_missing"].empty());
  EXPECT_FALSE(j.contains("dripr_other"));
}

TEST(DashboardParamsTest, PageLimitIsAWholeNumberInRange) {
  EXPECT_EQ(ParsePageLimit(std::nullopt, 50, 500), 50);
  EXPECT_EQ(ParsePageLimit(std::string(""), 50, 500), 50);
  EXPECT_EQ(ParsePageLimit(std::string("500"), 50, 500), 500);
  EXPECT_EQ(ParsePageLimit(std::string("501"), 50, 500), std::nullopt);
  EXPECT_EQ(ParsePageLimit(std::string("0"), 50, 500), std::nullopt);
  EXPECT_EQ(ParsePageLimit(std::string("1e3"), 50, 500), std::nullopt);
  EXPECT_EQ(ParsePageLimit(std::string("99999999999999999999"), 50, 500), std::nullopt);
}

TEST(DashboardGuardTest, LoopbackHosts) {
  EXPECT_TRUE(IsLoopbackHost("127.0.0.1"));
  EXPECT_TRUE(IsLoopbackHost("127.1.2.3"));
  EXPECT_TRUE(IsLoopbackHost("::1"));
  EXPECT_TRUE(IsLoopbackHost("localhost"));
  EXPECT_FALSE(IsLoopbackHost("0.0.0.0"));
  EXPECT_FALSE(IsLoopbackHost("::"));
  EXPECT_FALSE(IsLoopbackHost("10.0.0.1"));
}

}  // namespace
}  // namespace dripr
