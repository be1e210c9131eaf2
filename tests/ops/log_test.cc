// Structured logs (core/log.h) and the ops settings (DRIPR_LOG_FORMAT, DRIPR_OPS_ADDR).

#include "dripr/core/log.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <regex>
#include <sstream>

#include "dripr/fetcher/config.h"
#include "support/captured_log.h"

namespace dripr {
namespace {

using nlohmann::json;

using dripr::testing::CapturedLog;

LogFields HandledFields() {
  LogFields f;
  f.campaign_id = "c-1";
  f.event_id = "e-9";
  f.message_id = "m-7";
  f.queue = "active_listings";
  f.part = "active_listings";
  f.attempt = 2;
  f.duration_ms = 12.345;
  f.outcome = "retry";
  f.error = "RentCast server error (503)";
  return f;
}

TEST(JsonLogs, OneObjectPerLineWithTsLevelMsgAndFields) {
  CapturedLog log(LogFormat::kJson);
  LogStructured(spdlog::level::warn, HandledFields(), "message retry: RentCast server error (503)");
  DRIPR_LOG_INFO("plain {} line", "old-style");
  auto lines = log.Lines();
  ASSERT_EQ(lines.size(), 2u);
  auto j = json::parse(lines[0]);
  EXPECT_TRUE(std::regex_match(j["ts"].get<std::string>(),
                               std::regex(R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z)")))
      << j["ts"];
  EXPECT_EQ(j["level"], "warn");
  EXPECT_EQ(j["msg"], "message retry: RentCast server error (503)");
  EXPECT_EQ(j["campaign_id"], "c-1");
  EXPECT_EQ(j["event_id"], "e-9");
  EXPECT_EQ(j["message_id"], "m-7");
  EXPECT_EQ(j["queue"], "active_listings");
  EXPECT_EQ(j["part"], "active_listings");
  EXPECT_EQ(j["attempt"], 2);
  EXPECT_DOUBLE_EQ(j["duration_ms"].get<double>(), 12.3);
  EXPECT_EQ(j["outcome"], "retry");
  EXPECT_EQ(j["error"], "RentCast server error (503)");
  // The first keys are always ts, level, msg.
  EXPECT_TRUE(lines[0].starts_with(R"({"ts":")")) << lines[0];
  EXPECT_LT(lines[0].find(R"("level":)"), lines[0].find(R"("msg":)"));

  auto plain = json::parse(lines[1]);
  EXPECT_EQ(plain["level"], "info");
  EXPECT_EQ(plain["msg"], "plain old-style line");
  EXPECT_FALSE(plain.contains("campaign_id"));  // fields belong to their own record only
}

TEST(JsonLogs, HostileTextStaysOneValidLine) {
  CapturedLog log(LogFormat::kJson);
  LogFields f;
  f.error = std::string("bad \xff\xfe utf-8, \"quotes\", a\nnewline and a \x01 control");
  LogStructured(spdlog::level::err, f, "multi\nline \"msg\"");
  auto lines = log.Lines();
  ASSERT_EQ(lines.size(), 1u);
  auto j = json::parse(lines[0]);  // throws (fails the test) if invalid
  EXPECT_EQ(j["level"], "error");
  EXPECT_EQ(j["msg"], "multi\nline \"msg\"");
  EXPECT_NE(j["error"].get<std::string>().find("a\nnewline"), std::string::npos);
}

TEST(TextLogs, KeepTheHumanLineOrAppendFields) {
  CapturedLog log(LogFormat::kText);
  LogStructured(spdlog::level::info, HandledFields(), "short",
                "[active_listings] campaign=c-1 outcome=retry");
  LogFields f;
  f.campaign_id = "c-2";
  f.attempt = 1;
  f.error = "two words";
  LogStructured(spdlog::level::info, f, "handled");
  auto lines = log.Lines();
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(lines[0], "[active_listings] campaign=c-1 outcome=retry");
  EXPECT_EQ(lines[1], R"(handled campaign_id=c-2 attempt=1 error="two words")");
}

TEST(JsonLogs, LevelFilteringStillApplies) {
  CapturedLog log(LogFormat::kJson);
  spdlog::set_level(spdlog::level::warn);
  LogStructured(spdlog::level::info, HandledFields(), "dropped");
  DRIPR_LOG_INFO("dropped too");
  EXPECT_TRUE(log.Lines().empty());
}

TEST(LogFormatSetting, DefaultsByTerminalAndRejectsOtherValues) {
  EXPECT_EQ(ParseLogFormat(std::nullopt, true), LogFormat::kText);
  EXPECT_EQ(ParseLogFormat(std::nullopt, false), LogFormat::kJson);
  EXPECT_EQ(ParseLogFormat(std::string(""), false), LogFormat::kJson);
  EXPECT_EQ(ParseLogFormat(std::string("text"), false), LogFormat::kText);
  EXPECT_EQ(ParseLogFormat(std::string("json"), true), LogFormat::kJson);
  auto bad = ParseLogFormat(std::string("JSON "), true);
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().code, ErrorCode::kInvalidArgument);
  EXPECT_EQ(bad.error().message, "DRIPR_LOG_FORMAT must be json or text, got 'JSON '");
  auto config = LoadConfig(Env::FromMap({{"DRIPR_LOG_FORMAT", "xml"}}));
  ASSERT_FALSE(config);
  EXPECT_EQ(config.error().code, ErrorCode::kInvalidArgument);
}

TEST(OpsAddressSetting, ParsesHostPortOffAndRejectsTheRest) {
  auto d = LoadConfig(Env::FromMap({}));
  ASSERT_TRUE(d);
  EXPECT_TRUE(d->ops.enabled);
  EXPECT_EQ(d->ops.host, "127.0.0.1");
  EXPECT_EQ(d->ops.port, 9464);

  auto any = OpsAddress::Parse("0.0.0.0:0");
  ASSERT_TRUE(any);
  EXPECT_EQ(any->host, "0.0.0.0");
  EXPECT_EQ(any->port, 0);
  auto v6 = OpsAddress::Parse("[::1]:9000");
  ASSERT_TRUE(v6);
  EXPECT_EQ(v6->host, "::1");
  EXPECT_EQ(v6->port, 9000);
  auto named = OpsAddress::Parse("localhost:65535");
  ASSERT_TRUE(named);
  EXPECT_EQ(named->host, "localhost");
  auto off = OpsAddress::Parse("off");
  ASSERT_TRUE(off);
  EXPECT_FALSE(off->enabled);

  for (const char* bad :
       {"", "9464", ":9464", "127.0.0.1:", "127.0.0.1:x", "127.0.0.1:65536", "127.0.0.1:-1",
        "127.0.0.1:80 ", "::1:80", "a b:80", "OFF", "127.0.0.1:9464/x"}) {
    auto r = OpsAddress::Parse(bad);
    ASSERT_FALSE(r) << "accepted '" << bad << "'";
    EXPECT_EQ(r.error().code, ErrorCode::kInvalidArgument);
    EXPECT_TRUE(r.error().message.starts_with("DRIPR_OPS_ADDR must be host:port"))
        << r.error().message;
  }
  auto config = LoadConfig(Env::FromMap({{"DRIPR_OPS_ADDR", "nowhere"}}));
  ASSERT_FALSE(config);
  EXPECT_TRUE(config.error().message.starts_with("DRIPR_OPS_ADDR")) << config.error().message;
}

}  // namespace
}  // namespace dripr
