// The `dripr` binary driven as a user drives it (DRIPR_BIN): text and numbers validated at
// the boundary, totality of every output path, --help, and `campaign import`.

#include <fcntl.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sqlite3.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "support/ctest_env.h"

namespace dripr {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

struct RunResult {
  int code = -1;
  std::string out;
  std::string err;
};

std::string Slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

class CliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    // DRIPR_BIN, set by ctest (tests/CMakeLists.txt); a failure names it when it is missing.
    bin_ = testing::CtestEnv("DRIPR_BIN");
    ASSERT_FALSE(bin_.empty());
    ASSERT_TRUE(std::filesystem::exists(bin_)) << bin_ << " not found; set DRIPR_BIN";
    std::string tmpl = (std::filesystem::temp_directory_path() / "dripr-cli-XXXXXX").string();
    ASSERT_NE(mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
    db_ = (dir_ / "t.db").string();
  }
  void TearDown() override {
    std::error_code ec;
    if (!dir_.empty()) std::filesystem::remove_all(dir_, ec);
  }

  // Runs dripr with `args`; DATABASE_URL points at this test's database.
  RunResult Dripr(std::vector<std::string> args, const std::string& stdin_text = "",
                  std::vector<std::string> extra_env = {}) {
    std::string out = (dir_ / "out").string(), err = (dir_ / "err").string();
    std::string in = (dir_ / "in").string();
    std::ofstream(in, std::ios::binary) << stdin_text;
    std::vector<std::string> env_strings = {"DATABASE_URL=sqlite:" + db_};
    for (char** e = environ; *e; ++e) {
      if (std::string_view(*e).starts_with("DATABASE_URL=")) continue;
      env_strings.emplace_back(*e);
    }
    for (auto& e : extra_env) env_strings.push_back(e);
    args.insert(args.begin(), bin_);
    pid_t pid = fork();
    if (pid == 0) {
      int i = open(in.c_str(), O_RDONLY);
      int o = open(out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
      int e = open(err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
      dup2(i, 0), dup2(o, 1), dup2(e, 2);
      std::vector<char*> argv, envp;
      for (auto& a : args) argv.push_back(a.data());
      argv.push_back(nullptr);
      for (auto& s : env_strings) envp.push_back(s.data());
      envp.push_back(nullptr);
      execve(argv[0], argv.data(), envp.data());
      _exit(127);
    }
    int status = 0;
    waitpid(pid, &status, 0);
    RunResult r;
    r.code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    r.out = Slurp(out);
    r.err = Slurp(err);
    return r;
  }

  // Runs SQL on the database as another program sharing it would.
  void Sql(const std::string& sql) {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(db_.c_str(), &db), SQLITE_OK);
    char* msg = nullptr;
    int rc = sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &msg);
    std::string m = msg ? msg : "";
    sqlite3_free(msg);
    sqlite3_close(db);
    ASSERT_EQ(rc, SQLITE_OK) << m;
  }

  std::string bin_;
  std::filesystem::path dir_;
  std::string db_;
};

int Lines(const std::string& s) { return static_cast<int>(std::count(s.begin(), s.end(), '\n')); }

TEST_F(CliTest, InvalidUtf8ArgumentIsExit2OneLine) {
  auto r = Dripr({"campaign", "create", "--id", "u8", "--zip", "02139", "--user-id", "\xc3\x28"});
  EXPECT_EQ(r.code, 2) << r.err;
  EXPECT_EQ(Lines(r.err), 1) << r.err;
  EXPECT_THAT(r.err, HasSubstr("not valid UTF-8"));
  auto env = Dripr({"campaign", "list"}, "", {"DRIPR_LOG_LEVEL=\xff"});
  EXPECT_EQ(env.code, 2) << env.err;
  EXPECT_THAT(env.err, HasSubstr("DRIPR_LOG_LEVEL: not valid UTF-8"));
  // A secret's value is never echoed, not even a broken one.
  for (const char* var : {"RENTCAST_API_KEY=sekrit\xff",
                          "AWS_SECRET_ACCESS_KEY=abc\xff"
                          "def",
                          "DRIPR_OPS_TOKEN=sekrit\xff"}) {
    auto secret = Dripr({"config"}, "", {var});
    EXPECT_EQ(secret.code, 2) << secret.err;
    EXPECT_EQ(Lines(secret.err), 1) << secret.err;
    EXPECT_THAT(secret.err, HasSubstr("not valid UTF-8 at byte"));
    EXPECT_THAT(secret.err, Not(HasSubstr("sekrit"))) << secret.err;
    EXPECT_THAT(secret.err, Not(HasSubstr("abc"))) << secret.err;
  }
}

TEST_F(CliTest, AnEndlessEnvFileIsRefusedUnread) {
  auto r = Dripr({"--env-file", "/dev/zero", "config"});
  EXPECT_EQ(r.code, 2) << r.err;
  EXPECT_EQ(Lines(r.err), 1) << r.err;
  EXPECT_THAT(r.err, HasSubstr("is larger than 1 MiB: not an env file"));
}

TEST_F(CliTest, ControlCharactersInTextAreRefused) {
  auto r = Dripr({"campaign", "create", "--id", "c", "--zip", "02139", "--address", "a\x1b[2J",
                  "--lat", "42", "--lng", "-71"});
  EXPECT_EQ(r.code, 2) << r.err;
  EXPECT_THAT(r.err, HasSubstr("--address: contains a control character"));
}

TEST_F(CliTest, NumbersAreDecimalRangeCheckedAndNeverClamped) {
  auto ok = Dripr({"campaign", "create", "--id", "n1", "--zip", "02139", "--lat", "42.36", "--lng",
                   "-71.09", "--current-value", "0750000"});
  ASSERT_EQ(ok.code, 0) << ok.err;
  auto show = Dripr({"campaign", "show", "n1", "--json"});
  ASSERT_EQ(show.code, 0) << show.err;
  EXPECT_EQ(nlohmann::json::parse(show.out)["property"]["current_value"], 750000);
  for (const char* bad : {"0x10", "99999999999999999999", "-5", "1e6", " 7"}) {
    auto r = Dripr({"campaign", "create", "--id", "n2", "--zip", "02139", "--lat", "42", "--lng",
                    "-71", "--current-value", bad});
    EXPECT_EQ(r.code, 2) << bad << ": " << r.err;
    EXPECT_THAT(r.err, HasSubstr("--current-value")) << bad;
  }
  auto lat =
      Dripr({"campaign", "create", "--id", "n3", "--zip", "02139", "--lat", "nan", "--lng", "-71"});
  EXPECT_EQ(lat.code, 2) << lat.err;
  auto demo = Dripr({"demo", "--timeout", "-1"});
  EXPECT_EQ(demo.code, 2) << demo.err;
  EXPECT_THAT(demo.err, HasSubstr("--timeout"));
  auto env = Dripr({"campaign", "list"}, "", {"DRIPR_DB_POOL_SIZE=0x10"});
  EXPECT_EQ(env.code, 2) << env.err;
  EXPECT_THAT(env.err, HasSubstr("DRIPR_DB_POOL_SIZE"));
}

TEST_F(CliTest, ErrorsQuoteOnlyAShortPrefix) {
  std::string huge(100'000, 'x');
  for (std::vector<std::string> args :
       {std::vector<std::string>{"campaign", "list", "--status", huge},
        std::vector<std::string>{"campaign", "create", "--id", huge, "--zip", "02139"},
        std::vector<std::string>{"campaign", "create", "--id", "a", "--zip", huge},
        std::vector<std::string>{"campaign", "show", huge},
        std::vector<std::string>{"campaign", huge}}) {
    auto r = Dripr(args);
    EXPECT_NE(r.code, 0);
    EXPECT_LT(r.err.size(), 400u) << args[1] << ": " << r.err.substr(0, 400);
    EXPECT_EQ(Lines(r.err), 1) << r.err.substr(0, 400);
  }
}

TEST_F(CliTest, NoAddressCampaignInAZipWithoutCentroidIsRefused) {
  auto r = Dripr({"campaign", "create", "--id", "z0", "--zip", "00000"});
  EXPECT_EQ(r.code, 2) << r.err;
  EXPECT_THAT(r.err, HasSubstr("zip 00000 has no known centroid"));
  auto with_coordinates =
      Dripr({"campaign", "create", "--id", "z1", "--zip", "00000", "--lat", "42", "--lng", "-71"});
  EXPECT_EQ(with_coordinates.code, 0) << with_coordinates.err;
  auto known = Dripr({"campaign", "create", "--id", "z2", "--zip", "02139"});
  EXPECT_EQ(known.code, 0) << known.err;
}

TEST_F(CliTest, RowsOtherProgramsWroteCannotCrashOutput) {
  ASSERT_EQ(Dripr({"campaign", "create", "--id", "x1", "--zip", "02139", "--address", "1 Main",
                   "--lat", "42", "--lng", "-71"})
                .code,
            0);
  Sql("UPDATE campaigns SET user_id = X'C328', error_text = 'boom' || char(27) || '[2J' "
      "WHERE id = 'x1'");
  Sql("UPDATE property_data SET formatted_address = X'FF0A41' WHERE campaign_id = 'x1'");
  auto list = Dripr({"campaign", "list", "--json"});
  ASSERT_EQ(list.code, 0) << list.err;
  auto j = nlohmann::json::parse(list.out);
  EXPECT_EQ(j[0]["user_id"], "\xEF\xBF\xBD(");
  auto show = Dripr({"campaign", "show", "x1", "--json"});
  EXPECT_EQ(show.code, 0) << show.err;
  auto text = Dripr({"campaign", "show", "x1"});
  EXPECT_EQ(text.code, 0) << text.err;
  EXPECT_THAT(text.out, HasSubstr("\\xff\\x0aA"));
  EXPECT_THAT(text.out, HasSubstr("boom\\x1b[2J"));
  EXPECT_THAT(text.out, Not(HasSubstr("\x1b")));
  auto table = Dripr({"campaign", "list"});
  EXPECT_EQ(table.code, 0) << table.err;
  EXPECT_THAT(table.out, Not(HasSubstr("\x1b")));
  // A transition of such a row commits and reports without crashing (--json).
  auto start = Dripr({"campaign", "start", "x1", "--json"});
  ASSERT_EQ(start.code, 0) << start.err;
  EXPECT_EQ(nlohmann::json::parse(start.out)["changed"], true);
}

TEST_F(CliTest, CampaignIdArgumentsAreParsedOnceAtTheEdge) {
  // A bad id is a bad argument (exit 2, one line, the rule's words), for every command that
  // takes one; before, the store was asked and said "not found" (exit 1).
  for (const char* cmd : {"start", "reset", "retry", "show"}) {
    auto r = Dripr({"campaign", cmd, "a b"});
    EXPECT_EQ(r.code, 2) << cmd << ": " << r.err;
    EXPECT_EQ(r.err,
              "dripr: id: only printable ASCII characters without spaces are allowed, got "
              "\"a b\"\n")
        << cmd;
  }
  EXPECT_EQ(Dripr({"campaign", "show", std::string(65, 'a')}).err,
            "dripr: id: at most 64 characters, got 65\n");
  // A valid id that is not there is still a run-time failure.
  ASSERT_EQ(Dripr({"migrate"}).code, 0);
  auto missing = Dripr({"campaign", "show", "nope"});
  EXPECT_EQ(missing.code, 1) << missing.err;
  EXPECT_THAT(missing.err, HasSubstr("campaign \"nope\" not found"));
}

TEST_F(CliTest, ARowWithABadIdAnotherProgramWroteIsStillListed) {
  ASSERT_EQ(Dripr({"campaign", "create", "--id", "x2", "--zip", "02139"}).code, 0);
  Sql("UPDATE campaigns SET id = 'has space' WHERE id = 'x2'");
  auto list = Dripr({"campaign", "list", "--json"});
  ASSERT_EQ(list.code, 0) << list.err;
  EXPECT_EQ(nlohmann::json::parse(list.out)[0]["id"], "has space");
}

TEST_F(CliTest, HelpNamesEnvironmentAndDefaults) {
  auto r = Dripr({"campaign", "create", "--help"});
  EXPECT_EQ(r.code, 0);
  EXPECT_THAT(r.out, HasSubstr("DATABASE_URL"));
  EXPECT_THAT(r.out, HasSubstr("sqlite:dripr.db"));
  EXPECT_THAT(r.out, HasSubstr("DRIPR_DB_POOL_SIZE"));
  auto fetcher = Dripr({"data-fetcher", "--help"});
  EXPECT_THAT(fetcher.out, HasSubstr("DRIPR_SHUTDOWN_DEADLINE_SECONDS"));
  EXPECT_THAT(fetcher.out, HasSubstr("EVENT_BUS"));
}

TEST_F(CliTest, UnknownSubcommandIsNamed) {
  auto top = Dripr({"bogus"});
  EXPECT_EQ(top.code, 2);
  EXPECT_THAT(top.err, HasSubstr("unknown command \"bogus\""));
  std::ofstream((dir_ / "e.env").string()) << "DRIPR_LOG_LEVEL=info\n";
  auto after_option = Dripr({"--env-file", (dir_ / "e.env").string(), "bogus"});
  EXPECT_THAT(after_option.err, HasSubstr("unknown command \"bogus\" for 'dripr'"));
  auto sub = Dripr({"campaign", "frobnicate", "x"});
  EXPECT_EQ(sub.code, 2);
  EXPECT_THAT(sub.err, HasSubstr("unknown command \"frobnicate\" for 'dripr campaign'"));
}

// With debug logs, a transition that applied records the instant its transaction committed
// (B1 measures the fetcher's pickup from it: bench/run_bench.py); one that did not, nothing.
TEST_F(CliTest, AnAppliedTransitionLogsItsCommitAtDebug) {
  ASSERT_EQ(Dripr({"campaign", "import", "-"}, "id,zip\nd1,02139\nd2,02139\n").code, 0);
  const std::vector<std::string> debug_json = {"DRIPR_LOG_LEVEL=debug", "DRIPR_LOG_FORMAT=json"};
  auto lines_about = [](const std::string& err) {
    std::vector<nlohmann::json> found;
    std::istringstream in(err);
    for (std::string line; std::getline(in, line);) {
      auto j = nlohmann::json::parse(line, nullptr, false);
      if (!j.is_discarded() && j.value("msg", "").starts_with("transition committed")) {
        found.push_back(j);
      }
    }
    return found;
  };
  auto started = Dripr({"campaign", "start", "d1"}, "", debug_json);
  ASSERT_EQ(started.code, 0) << started.err;
  auto lines = lines_about(started.err);
  ASSERT_EQ(lines.size(), 1u) << started.err;
  EXPECT_EQ(lines[0]["msg"], "transition committed: DORMANT -> WAITING_FOR_DATA");
  EXPECT_EQ(lines[0]["campaign_id"], "d1");
  EXPECT_EQ(lines[0]["level"], "debug");

  auto again = Dripr({"campaign", "start", "d1"}, "", debug_json);
  ASSERT_EQ(again.code, 0) << again.err;
  EXPECT_THAT(again.out, HasSubstr("unchanged"));
  EXPECT_TRUE(lines_about(again.err).empty()) << again.err;
  // At the default level (info) the line is not written.
  auto quiet = Dripr({"campaign", "start", "d2"}, "", {"DRIPR_LOG_FORMAT=json"});
  ASSERT_EQ(quiet.code, 0) << quiet.err;
  EXPECT_THAT(quiet.out, HasSubstr("DORMANT -> WAITING_FOR_DATA"));
  EXPECT_TRUE(lines_about(quiet.err).empty()) << quiet.err;
}

TEST_F(CliTest, ImportValidatesEveryRowFirstThenCreatesAndStarts) {
  ASSERT_EQ(Dripr({"migrate"}).code, 0);  // read-only commands need an existing database
  auto bad = Dripr({"campaign", "import", "-"},
                   "id,zip,address,lat,lng,current-value\n"
                   "i1,02139,\"1 Main St, Cambridge\",42.36,-71.09,850000\n"
                   "i 2,02139,,,,\n"
                   "i3,02139,,,,0x10\n");
  EXPECT_EQ(bad.code, 2) << bad.err;
  EXPECT_THAT(bad.err, HasSubstr("line 3: id: only printable ASCII"));
  EXPECT_THAT(bad.err, HasSubstr("line 4: a campaign with a property needs both lat and lng"));
  EXPECT_THAT(bad.err, HasSubstr("nothing was imported"));
  auto none = Dripr({"campaign", "list", "--json"});
  ASSERT_EQ(none.code, 0) << none.err;
  EXPECT_TRUE(nlohmann::json::parse(none.out).empty());

  std::ofstream((dir_ / "c.jsonl").string())
      << R"({"id":"i1","zip":"02139","address":"1 Main St","lat":42.36,"lng":-71.09})"
      << "\n"
      << R"({"id":"i2","zip":"02139"})"
      << "\n";
  auto ok = Dripr({"campaign", "import", (dir_ / "c.jsonl").string(), "--start", "--json"});
  ASSERT_EQ(ok.code, 0) << ok.err;
  auto j = nlohmann::json::parse(ok.out);
  EXPECT_EQ(j["created"], 2);
  EXPECT_EQ(j["started"], 2);
  auto list = nlohmann::json::parse(Dripr({"campaign", "list", "--json"}).out);
  ASSERT_EQ(list.size(), 2u);
  for (const auto& c : list) EXPECT_EQ(c["campaign_status"], "WAITING_FOR_DATA");
  auto show = nlohmann::json::parse(Dripr({"campaign", "show", "i2", "--json"}).out);
  EXPECT_EQ(show["events"].size(), 1u);

  // Ids already in the database and zips without a centroid are found before writing.
  auto again = Dripr({"campaign", "import", "-"},
                     "id,zip\ni3,02139\ni1,02139\ni4,00000\ni2,00000\ni5,00000\n");
  EXPECT_EQ(again.code, 2) << again.err;
  EXPECT_THAT(again.err, HasSubstr("line 3: campaign \"i1\" already exists"));
  EXPECT_THAT(again.err, HasSubstr("line 4: zip 00000 has no known centroid"));
  // Line order, and a row with both problems gets both, the id first.
  const std::string no_centroid =
      " has no known centroid, so a no-address campaign there cannot be placed; give the "
      "property's --lat and --lng\n";
  EXPECT_THAT(again.err, HasSubstr("dripr: line 4: zip 00000" + no_centroid +
                                   "dripr: line 5: campaign \"i2\" already exists\n"
                                   "dripr: line 5: zip 00000" +
                                   no_centroid + "dripr: line 6: zip 00000" + no_centroid));
  EXPECT_EQ(nlohmann::json::parse(Dripr({"campaign", "list", "--json"}).out).size(), 2u);
}

}  // namespace
}  // namespace dripr
