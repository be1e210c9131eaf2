// `dripr config [--json]`: every setting with its value, default and source; secrets masked;
// a bad value of any kind is exit 2 with one line naming the variable.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "cmd/run_dripr.h"
#include "dripr/core/cpus.h"
#include "dripr/store/store.h"

namespace dripr {
namespace {

using dripr::testing::DriprCli;
using ::testing::HasSubstr;
using ::testing::Not;

class ConfigCmdTest : public ::testing::Test {
 protected:
  // The settings `dripr config --json` prints in `vars`, by name.
  std::map<std::string, nlohmann::json> Settings(const std::vector<std::string>& vars,
                                                 const std::vector<std::string>& extra = {}) {
    std::vector<std::string> args = extra;
    args.insert(args.end(), {"config", "--json"});
    auto r = cli_.RunInEnv(vars, args);
    EXPECT_EQ(r.exit_code, 0) << r.err;
    std::map<std::string, nlohmann::json> by_name;
    auto j = nlohmann::json::parse(r.out, nullptr, false);
    if (j.is_discarded() || !j.contains("settings")) {
      ADD_FAILURE() << "not the settings JSON: " << r.out;
      return by_name;
    }
    for (const auto& s : j["settings"]) by_name[s["name"].get<std::string>()] = s;
    return by_name;
  }

  DriprCli cli_;
};

TEST_F(ConfigCmdTest, EmptyEnvironmentPrintsEveryDefault) {
  auto s = Settings({});
  ASSERT_GE(s.size(), 60u);
  EXPECT_EQ(s["DATABASE_URL"]["value"], "sqlite:dripr.db");
  EXPECT_EQ(s["DATABASE_URL"]["source"], "default");
  EXPECT_EQ(s["DRIPR_DB_POOL_SIZE"]["value"], "8");
  EXPECT_EQ(s["DRIPR_DB_POOL_SIZE"]["default"], "8");
  EXPECT_EQ(s["DRIPR_MAX_WIDENINGS"]["value"], "3");
  EXPECT_EQ(s["DRIPR_RECEIVE_WAIT_SECONDS"]["value"], "1");  // embedded
  EXPECT_EQ(s["DRIPR_RECEIVE_WAIT_SECONDS"]["default"], "20 (aws), 1 (embedded)");
  EXPECT_EQ(s["DRIPR_LOG_FORMAT"]["value"], "json");  // stderr is a file here
  EXPECT_EQ(s["RENTCAST_API_KEY"]["value"], "");
  EXPECT_EQ(s["RENTCAST_API_KEY"]["masked"], false);
  for (const auto& [name, row] : s) {
    EXPECT_EQ(row["source"], "default") << name;
    EXPECT_TRUE(row["default"].is_string() && !row["default"].get<std::string>().empty()) << name;
  }
}

TEST_F(ConfigCmdTest, ValuesComeFromEnvironmentOrEnvFile) {
  const std::string file = cli_.File("settings.env");
  std::ofstream(file) << "DRIPR_MAX_ATTEMPTS=7\nDRIPR_MAX_IN_FLIGHT=3\nEVENT_BUS=aws\n";
  auto s = Settings({"DRIPR_MAX_IN_FLIGHT=5"}, {"--env-file", file});
  EXPECT_EQ(s["DRIPR_MAX_ATTEMPTS"]["value"], "7");
  EXPECT_EQ(s["DRIPR_MAX_ATTEMPTS"]["source"], "env-file");
  EXPECT_EQ(s["DRIPR_MAX_IN_FLIGHT"]["value"], "5");  // the real environment wins
  EXPECT_EQ(s["DRIPR_MAX_IN_FLIGHT"]["source"], "environment");
  EXPECT_EQ(s["DRIPR_RECEIVE_WAIT_SECONDS"]["value"], "20");  // the aws default
  EXPECT_EQ(s["DRIPR_RECEIVE_WAIT_SECONDS"]["source"], "default");
}

TEST_F(ConfigCmdTest, SecretsAreMaskedInTextAndJson) {
  const std::vector<std::string> vars = {
      "DATABASE_URL=postgresql://dripr:hunter2pw@db.example:5432/dripr",
      "RENTCAST_API_KEY=rc-secret-key-123",
      "AWS_SECRET_ACCESS_KEY=aws-secret-456",
      "AWS_SESSION_TOKEN=aws-token-789",
      "AWS_CONTAINER_AUTHORIZATION_TOKEN=ecs-token-000",
      "DRIPR_OPS_TOKEN=ops-token-555"};
  for (bool json : {false, true}) {
    std::vector<std::string> args = {"config"};
    if (json) args.push_back("--json");
    auto r = cli_.RunInEnv(vars, args);
    ASSERT_EQ(r.exit_code, 0) << r.err;
    for (const char* secret : {"hunter2pw", "rc-secret-key-123", "aws-secret-456", "aws-token-789",
                               "ecs-token-000", "ops-token-555"}) {
      EXPECT_THAT(r.out + r.err, Not(HasSubstr(secret))) << secret << (json ? " json" : " text");
    }
    EXPECT_THAT(r.out, HasSubstr("postgresql://dripr:****@db.example:5432/dripr"));
  }
  auto s = Settings(vars);
  EXPECT_EQ(s["RENTCAST_API_KEY"]["value"], "****");
  EXPECT_EQ(s["RENTCAST_API_KEY"]["masked"], true);
  EXPECT_EQ(s["RENTCAST_API_KEY"]["source"], "environment");
  EXPECT_EQ(s["AWS_SECRET_ACCESS_KEY"]["value"], "****");
  EXPECT_EQ(s["DRIPR_OPS_TOKEN"]["value"], "****");
  EXPECT_EQ(s["DRIPR_OPS_TOKEN"]["masked"], true);
}

// The mask stopped at the first '/', '?' or '#' (a password holding one was shown whole) and
// left libpq's password query parameter as it was.
TEST_F(ConfigCmdTest, APasswordWithASlashOrInTheQueryIsMasked) {
  for (const auto& [url, shown] : std::vector<std::pair<std::string, std::string>>{
           {"postgresql://u:pa/ss@db/x", "postgresql://u:****@db/x"},
           {"postgresql://u@db/x?password=hunter2", "postgresql://u@db/x?password=****"},
           {"postgresql://u@db/x?sslmode=require&password=hunter2",
            "postgresql://u@db/x?sslmode=require&password=****"},
       }) {
    for (bool json : {false, true}) {
      std::vector<std::string> args = {"config"};
      if (json) args.push_back("--json");
      auto r = cli_.RunInEnv({"DATABASE_URL=" + url}, args);
      ASSERT_EQ(r.exit_code, 0) << r.err;
      EXPECT_THAT(r.out + r.err, Not(HasSubstr("pa/ss"))) << url;
      EXPECT_THAT(r.out + r.err, Not(HasSubstr("hunter2"))) << url;
      EXPECT_THAT(r.out, HasSubstr(shown)) << url;
    }
    auto s = Settings({"DATABASE_URL=" + url});
    EXPECT_EQ(s["DATABASE_URL"]["value"], shown);
    EXPECT_EQ(s["DATABASE_URL"]["masked"], true);
  }
}

TEST_F(ConfigCmdTest, ThePoolsDefaultFollowsWhereThePostgresServerIs) {
  const std::string local = "postgresql://u@127.0.0.1:5432/db";
  auto here = Settings({"DATABASE_URL=" + local});
  const std::string expected = std::to_string(DefaultPoolSize(local, UsableCores()));
  EXPECT_EQ(here["DRIPR_DB_POOL_SIZE"]["value"], expected);
  EXPECT_EQ(here["DRIPR_DB_POOL_SIZE"]["default"], expected);
  auto remote = Settings({"DATABASE_URL=postgresql://u@db.example.com/db"});
  EXPECT_EQ(remote["DRIPR_DB_POOL_SIZE"]["value"], "8");
  auto set = Settings({"DATABASE_URL=" + local, "DRIPR_DB_POOL_SIZE=8"});
  EXPECT_EQ(set["DRIPR_DB_POOL_SIZE"]["value"], "8");
  EXPECT_EQ(set["DRIPR_DB_POOL_SIZE"]["source"], "environment");
}

TEST_F(ConfigCmdTest, TextOutputIsOneTerminalSafeLinePerSetting) {
  auto r = cli_.RunInEnv({"DRIPR_DATA_DIR=/tmp/x\x1b[31mred"}, {"config"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, Not(HasSubstr("\x1b")));
  EXPECT_THAT(r.out, HasSubstr("DRIPR_DATA_DIR"));
  EXPECT_THAT(r.out, ::testing::ContainsRegex("\nDRIPR_DB_POOL_SIZE +default +8\n"));
}

// Each class of bad value: exit 2, one line on stderr naming the variable, a short quote.
TEST_F(ConfigCmdTest, EveryBadValueClassIsExit2NamingTheVariable) {
  struct Case {
    std::string var;
    std::string name;
  };
  const std::string long_value(500, '9');
  const std::vector<Case> cases = {
      {"DRIPR_LOG_LEVEL=loud", "DRIPR_LOG_LEVEL"},                   // unknown enum value
      {"DRIPR_LOG_FORMAT=xml", "DRIPR_LOG_FORMAT"},                  // unknown enum value
      {"EVENT_BUS=kafka", "EVENT_BUS"},                              // unknown enum value
      {"DATA_PROVIDER=attom", "DATA_PROVIDER"},                      // unknown enum value
      {"DRIPR_MAX_IN_FLIGHT=0x10", "DRIPR_MAX_IN_FLIGHT"},           // non-decimal
      {"DRIPR_DB_POOL_SIZE=8 ", "DRIPR_DB_POOL_SIZE"},               // trailing junk
      {"DRIPR_MAX_WIDENINGS=11", "DRIPR_MAX_WIDENINGS"},             // out of range
      {"DRIPR_RETRY_BASE_MS=" + long_value, "DRIPR_RETRY_BASE_MS"},  // overflow, long
      {"RENTCAST_MAX_RPS=nan", "RENTCAST_MAX_RPS"},                  // not a finite number
      {"DRIPR_INITIAL_RADIUS_MILES=1,5", "DRIPR_INITIAL_RADIUS_MILES"},
      {"DRIPR_OPS_ADDR=nowhere", "DRIPR_OPS_ADDR"},
      {"DATABASE_URL=oracle://x", "DATABASE_URL"},
      {"DATABASE_URL=", "DATABASE_URL"},                   // set but empty
      {"RENTCAST_BASE_URL=ftp://x", "RENTCAST_BASE_URL"},  // bad URL
      {"DRIPR_SAMPLE_SPARSE_ZIPS=abc", "DRIPR_SAMPLE_SPARSE_ZIPS"},
      {"DRIPR_REQUIRED_PARTS=everything", "DRIPR_REQUIRED_PARTS"},
      {"DRIPR_STUCK_AFTER_SECONDS=\xff\xfe", "DRIPR_STUCK_AFTER_SECONDS"},  // invalid UTF-8
      {"AWS_REGION=eu\xc3", "AWS_REGION"},                                  // invalid UTF-8
  };
  for (const auto& c : cases) {
    for (const char* cmd : {"config", "queues"}) {
      auto r = cli_.RunInEnv({c.var}, {cmd});
      EXPECT_EQ(r.exit_code, 2) << c.var << " " << cmd;
      EXPECT_THAT(r.err, HasSubstr(c.name)) << c.var;
      EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << c.var << ": " << r.err;
      EXPECT_LT(r.err.size(), 300u) << c.var;
      EXPECT_EQ(r.out, "") << c.var;
    }
  }
}

}  // namespace
}  // namespace dripr
