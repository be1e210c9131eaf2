// MysqlStore: the Store contract suite and the networked-store suites (retries on deadlocks
// and lock-wait timeouts, reconnecting after KILL CONNECTION, a small pool under many
// threads, concurrent relays claiming with SKIP LOCKED, errors on open that keep the password
// out, ...) on a throw-away database per test (in the MariaDB server `make test` starts,
// DRIPR_TEST_MYSQL_URL), plus what is specific to MySQL: the polled wake-up, the same tables
// and columns as SQLite, URL parsing and a wrong password or required TLS refused.

#include "dripr/store/mysql/mysql_store.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <mysql.h>
#include <sqlite3.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <mutex>
#include <set>
#include <sstream>
#include <thread>
#include <vector>

#include "dripr/core/text.h"
#include "dripr/store/migrations/migrations.h"
#include "dripr/store/redact.h"
#include "dripr/store/sqlite/sqlite_store.h"
#include "networked_store_suite.h"
#include "support/campaign_ids.h"
#include "support/ctest_env.h"
#include "support/poll.h"
#include "support/store_contract.h"

namespace dripr {
namespace mysql_store_test {

using ::testing::HasSubstr;
using ::testing::Not;
using namespace std::chrono_literals;

std::string AdminUrl() { return TestEnv("DRIPR_TEST_MYSQL_URL"); }

// A plain Connector/C session on `url`, as another program would open it.
struct RawSession {
  explicit RawSession(const std::string& url) {
    auto u = my::Url::Parse(url);
    if (!u) return;
    c = mysql_init(nullptr);
    if (mysql_real_connect(c, u->host.c_str(), u->user.c_str(), u->password.c_str(),
                           u->database.c_str(), u->port, nullptr,
                           CLIENT_MULTI_STATEMENTS) == nullptr) {
      error = mysql_error(c);
      mysql_close(c);
      c = nullptr;
    }
  }
  ~RawSession() {
    if (c != nullptr) mysql_close(c);
  }
  // Runs `sql` (may be several statements); "" on success, else the error.
  std::string Run(const std::string& sql) {
    if (c == nullptr) return "not connected: " + error;
    if (mysql_query(c, sql.c_str()) != 0) return mysql_error(c);
    do {
      if (MYSQL_RES* r = mysql_store_result(c)) mysql_free_result(r);
    } while (mysql_next_result(c) == 0);
    return mysql_errno(c) == 0 ? "" : mysql_error(c);
  }
  // First value of a query ("" on error or no row).
  std::string One(const std::string& sql) {
    if (c == nullptr || mysql_query(c, sql.c_str()) != 0) return "";
    MYSQL_RES* r = mysql_store_result(c);
    std::string out;
    if (r != nullptr) {
      if (MYSQL_ROW row = mysql_fetch_row(r); row != nullptr && row[0] != nullptr) out = row[0];
      mysql_free_result(r);
    }
    return out;
  }
  MYSQL* c = nullptr;
  std::string error;
};

Status ExecOn(const std::string& url, const std::string& sql) {
  RawSession s(url);
  // Lenient mode for test set-up (e.g. ISO-8601 text with a 'Z' into DATETIME).
  std::string e = s.Run("SET SESSION sql_mode = ''; " + sql);
  if (!e.empty()) return Fail(ErrorCode::kInternal, e);
  return Ok();
}

// A database created for one test and dropped when the last owner goes.
class TempDatabase : public TempServerDatabase {
 public:
  TempDatabase() : TempServerDatabase(AdminUrl(), ExecOn, "") {}
};

std::unique_ptr<MysqlStore> OpenMy(const std::string& url, const NetworkedTweak& tweak = {}) {
  return OpenTweaked<MysqlStore, MysqlStoreOptions>(url, tweak);
}

// ---------------------------------------------------------------- the networked-store suite

// Makes the next `times` updates of campaigns on `url` fail with MySQL error `errno_` (the
// counter is a MyISAM table, so the rolled-back attempts still count).
void InjectUpdateFailures(const std::string& url, const std::string& errno_, int times) {
  ASSERT_TRUE(ExecOn(url,
                     "CREATE TABLE injected_failures (n INT NOT NULL) ENGINE=MyISAM; "
                     "INSERT INTO injected_failures VALUES (0)"));
  ASSERT_TRUE(ExecOn(url,
                     "CREATE TRIGGER inject BEFORE UPDATE ON campaigns FOR EACH ROW BEGIN "
                     "UPDATE injected_failures SET n = n + 1; "
                     "IF (SELECT n FROM injected_failures) <= " +
                         std::to_string(times) +
                         " THEN SIGNAL SQLSTATE '40001' SET MESSAGE_TEXT = 'injected failure', "
                         "MYSQL_ERRNO = " +
                         errno_ + "; END IF; END"));
}

std::string QueryOne(const std::string& url, const std::string& sql) {
  return RawSession(url).One(sql);
}

// dripr's sessions on the database of `url`, without the session asking.
std::string DriprSessionsWhere(const std::string& url) {
  return "db = '" + DatabaseOf(url) + "' AND id <> CONNECTION_ID()";
}

NetworkedServer MysqlServer() {
  auto s = NetworkedServerFor<MysqlStore, MysqlStoreOptions, TempDatabase>(
      "mysql", AdminUrl(), "DRIPR_TEST_MYSQL_URL is not set (make test starts a MariaDB server)");
  s.exec = ExecOn;
  s.query = QueryOne;
  s.inject = InjectUpdateFailures;
  s.injection_count_sql = "SELECT n FROM injected_failures";
  s.drop_sessions = [](const std::string& url) {
    RawSession admin(AdminUrl());
    std::string ids =
        admin.One("SELECT GROUP_CONCAT(id) FROM information_schema.processlist WHERE db = '" +
                  DatabaseOf(url) + "'");
    int dropped = 0;
    std::stringstream list(ids);
    for (std::string id; std::getline(list, id, ',');) {
      if (admin.Run("KILL CONNECTION " + id).empty()) ++dropped;
    }
    return dropped;
  };
  s.sessions_sql = [](const std::string& url) {
    return "SELECT COUNT(*) FROM information_schema.processlist WHERE " + DriprSessionsWhere(url);
  };
  // ER_LOCK_DEADLOCK, ER_LOCK_WAIT_TIMEOUT, ER_SIGNAL_EXCEPTION (kInternal).
  s.codes = {"1213", "1205", "1644", ErrorCode::kInternal};
  s.schemes = {"mysql://", "mariadb://"};
  s.refused_message = "cannot connect to MySQL dripr@127.0.0.1:1/dripr";
  return s;
}

DRIPR_INSTANTIATE_NETWORKED_STORE_SUITES(Mysql, MysqlServer());

// ---------------------------------------------------------------- MySQL specifics

class MysqlStoreTest : public NetworkedStoreTest {};
INSTANTIATE_TEST_SUITE_P(Mysql, MysqlStoreTest, ::testing::Values(MysqlServer()),
                         NetworkedServerName);

// No NOTIFY in MySQL: a row another process commits is seen by the poll of max(outbox.id).
TEST_P(MysqlStoreTest, WaitForOutboxSeesAnotherProcessesRowByPolling) {
  auto waiter = Open();
  ASSERT_TRUE(waiter->ClaimOutbox(10, 30s));
  ASSERT_TRUE(store_->CreateCampaign(Simple("a")));
  std::atomic<bool> inserted{false};
  std::chrono::steady_clock::time_point inserted_at;
  const pid_t waiter_tid = testing::ThisThreadId();
  std::thread t([&] {
    // Once the waiter is most likely blocked (the assertion holds anyway).
    EXPECT_TRUE(testing::Eventually([&] { return testing::ThreadIsAsleep(waiter_tid); }));
    // A plain INSERT from another session, as a foreign producer would write it.
    inserted_at = std::chrono::steady_clock::now();
    inserted = Exec(
                   "INSERT INTO outbox (topic, campaign_id, event_type, body, created_at) "
                   "VALUES ('campaign-events', 'a', 'STATUS_CHANGE', '{}', UTC_TIMESTAMP(6))")
                   .has_value();
  });
  waiter->WaitForOutbox(20s);
  auto woke_at = std::chrono::steady_clock::now();
  t.join();
  ASSERT_TRUE(inserted);
  // Seen by the 80 ms poll, not waited out (the wait is 20 s); how soon is the benchmarks'.
  EXPECT_LT(woke_at - inserted_at, 10s);
}

TEST_P(MysqlStoreTest, CampaignIdsAreCaseSensitiveAsInTheOtherStores) {
  ASSERT_TRUE(store_->CreateCampaign(Simple("abc")));
  ASSERT_TRUE(store_->CreateCampaign(Simple("ABC")));
  EXPECT_EQ(store_->ListCampaigns(std::nullopt)->size(), 2u);
}

TEST_P(MysqlStoreTest, ConcurrentMigrationsAreHarmless) {
  TempDatabase fresh;
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  for (int i = 0; i < 3; ++i) {
    threads.emplace_back([&] {
      auto s = OpenMy(fresh.Url());
      if (s == nullptr || !s->Migrate()) ++failures;
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(RawSession(fresh.Url()).One("SELECT COUNT(*) FROM schema_migrations"),
            std::to_string(kLatestSchemaVersion));
}

TEST_P(MysqlStoreTest, ZipCodesLoadInBulkOnce) {
  const std::string csv = testing::DataDir() + "/zip_codes.csv";
  ASSERT_TRUE(store_->LoadZipCodes(csv));
  auto c = store_->ZipCentroid("02139");
  ASSERT_TRUE(c);
  ASSERT_TRUE(c->has_value());
  const std::string n = Query("SELECT COUNT(*) FROM zip_codes");
  EXPECT_GT(std::atoi(n.c_str()), 1000);
  ASSERT_TRUE(store_->LoadZipCodes("/nonexistent/zips.csv"));  // filled: the file is not read
  EXPECT_EQ(Query("SELECT COUNT(*) FROM zip_codes"), n);
}

// The MySQL schema has the same tables and columns as the SQLite one.
TEST_P(MysqlStoreTest, SchemaHasTheSameTablesAndColumnsAsSqlite) {
  const auto dir =
      std::filesystem::temp_directory_path() / ("dripr-schema-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  const std::string path = (dir / "s.db").string();
  {
    SqliteStoreOptions o;
    o.path = path;
    auto s = SqliteStore::Open(o);
    ASSERT_TRUE(s);
    ASSERT_TRUE((*s)->Migrate());
  }
  std::set<std::string> sqlite_cols;
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  sqlite3_stmt* st = nullptr;
  ASSERT_EQ(sqlite3_prepare_v2(db,
                               "SELECT m.name, p.name FROM sqlite_master m, "
                               "pragma_table_info(m.name) p WHERE m.type = 'table' AND "
                               "m.name NOT LIKE 'sqlite_%'",
                               -1, &st, nullptr),
            SQLITE_OK);
  while (sqlite3_step(st) == SQLITE_ROW) {
    sqlite_cols.insert(std::string(reinterpret_cast<const char*>(sqlite3_column_text(st, 0))) +
                       "." + reinterpret_cast<const char*>(sqlite3_column_text(st, 1)));
  }
  sqlite3_finalize(st);
  sqlite3_close(db);
  std::filesystem::remove_all(dir);

  std::string mysql_list = Query(
      "SELECT GROUP_CONCAT(CONCAT(table_name, '.', column_name) ORDER BY 1 SEPARATOR ' ') "
      "FROM information_schema.columns WHERE table_schema = DATABASE()");
  std::set<std::string> mysql_cols;
  std::stringstream in(mysql_list);
  for (std::string col; in >> col;) mysql_cols.insert(col);
  EXPECT_GT(sqlite_cols.size(), 50u);
  EXPECT_EQ(mysql_cols, sqlite_cols);
  // Every table is InnoDB and utf8mb4.
  EXPECT_EQ(Query("SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = "
                  "DATABASE() AND (engine <> 'InnoDB' OR table_collation NOT LIKE 'utf8mb4%')"),
            "0");
}

TEST(MysqlOpenTest, AWrongPasswordIsRefusedWithoutEchoingIt) {
  if (AdminUrl().empty()) GTEST_SKIP() << "DRIPR_TEST_MYSQL_URL is not set";
  auto u = my::Url::Parse(AdminUrl());
  ASSERT_TRUE(u);
  MysqlStoreOptions o;
  o.url = "mysql://" + u->user + ":not-the-pw-XYZ@" + u->host + ":" + std::to_string(u->port) +
          "/" + u->database;
  auto s = MysqlStore::Open(o);
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().code, ErrorCode::kPermissionDenied);
  EXPECT_THAT(s.error().message, Not(HasSubstr("not-the-pw-XYZ")));
}

TEST(MysqlUrlTest, ParsesTheFormsOperatorsWrite) {
  auto u = my::Url::Parse("mysql://app:p%40ss%3Aw@db.example.com:3307/dripr?ssl-mode=REQUIRED");
  ASSERT_TRUE(u) << u.error().ToString();
  EXPECT_EQ(u->user, "app");
  EXPECT_EQ(u->password, "p@ss:w");
  EXPECT_EQ(u->host, "db.example.com");
  EXPECT_EQ(u->port, 3307u);
  EXPECT_EQ(u->database, "dripr");
  EXPECT_EQ(u->ssl_mode, my::Url::SslMode::kRequired);
  EXPECT_EQ(u->Describe(), "app@db.example.com:3307/dripr");

  auto ca = my::Url::Parse("mariadb://app:pw@db/dripr?ssl-ca=/etc/ssl/ca.pem");
  ASSERT_TRUE(ca);
  EXPECT_EQ(ca->port, 3306u);
  EXPECT_EQ(ca->ssl_ca, "/etc/ssl/ca.pem");
  EXPECT_EQ(ca->ssl_mode, my::Url::SslMode::kVerifyCa);  // a CA means: verify

  auto sock = my::Url::Parse("mysql://dripr@localhost/dripr?socket=/run/mysqld/mysqld.sock");
  ASSERT_TRUE(sock);
  EXPECT_EQ(sock->socket, "/run/mysqld/mysqld.sock");
  EXPECT_EQ(sock->password, "");
  EXPECT_EQ(sock->Describe(), "dripr@/run/mysqld/mysqld.sock/dripr");

  auto id = my::Url::Parse("mysql://a:b@[::1]:3310/d?ssl_mode=verify_identity");
  ASSERT_TRUE(id);
  EXPECT_EQ(id->host, "::1");
  EXPECT_EQ(id->port, 3310u);
  EXPECT_EQ(id->ssl_mode, my::Url::SslMode::kVerifyIdentity);
}

TEST(MysqlUrlTest, RejectsBadUrlsWithoutEchoingThePassword) {
  for (std::string url : {
           "mysql://u:s3cret@host",                        // no database
           "mysql://u:s3cret@host:99999/db",               // bad port
           "mysql://u:s3cret@host:x/db",                   // bad port
           "mysql://u:s3cret@host/db?ssl-mode=sometimes",  // bad mode
           "mysql://u:s3cret@host/db?sslcert=/x",          // unknown parameter
           "mysql://:s3cret@host/db",                      // no user
           "mysql://u:s3cret%zz@host/db",                  // bad escape
       }) {
    auto u = my::Url::Parse(url);
    ASSERT_FALSE(u) << url;
    EXPECT_EQ(u.error().code, ErrorCode::kInvalidArgument) << url;
    EXPECT_THAT(u.error().message, Not(HasSubstr("s3cret"))) << url;
    EXPECT_THAT(u.error().message, HasSubstr("MySQL URL")) << url;
  }
}

// database_url_fuzz finding: a parameter name from the URL went into the message as it was
// (bytes that are not UTF-8, controls, any length).
TEST(MysqlUrlTest, AParameterNameInAMessageIsCutShortAndEscaped) {
  for (const std::string& url : std::vector<std::string>{
           "mysql://u:s3cret@host/db?\xefsqld&socket=/x",
           "mysql://u:s3cret@host/db?a\x01"
           "b=1",
           "mysql://u:s3cret@host/db?\xef" + std::string(500, 'k') + "=%zz",
       }) {
    auto u = my::Url::Parse(url);
    ASSERT_FALSE(u) << url;
    EXPECT_EQ(u.error().code, ErrorCode::kInvalidArgument);
    EXPECT_EQ(FindInvalidUtf8(u.error().message), std::string::npos) << u.error().message;
    EXPECT_EQ(u.error().message.find('\x01'), std::string::npos) << u.error().message;
    EXPECT_LT(u.error().message.size(), 200u) << u.error().message;
  }
  auto unknown = my::Url::Parse("mysql://u:p@h/d?\xefsqld");
  ASSERT_FALSE(unknown);
  EXPECT_THAT(unknown.error().message, HasSubstr("unknown parameter \"\\xefsqld\""));
}

TEST(RedactDatabaseUrlTest, HidesOnlyThePassword) {
  EXPECT_EQ(RedactDatabaseUrl("mysql://app:s3cr@t@db:3306/dripr?ssl-mode=REQUIRED"),
            "mysql://app:****@db:3306/dripr?ssl-mode=REQUIRED");
  EXPECT_EQ(RedactDatabaseUrl("postgresql://app:pw@db/dripr"), "postgresql://app:****@db/dripr");
  EXPECT_EQ(RedactDatabaseUrl("mysql://app@localhost/d?socket=/run/x.sock"),
            "mysql://app@localhost/d?socket=/run/x.sock");
  EXPECT_EQ(RedactDatabaseUrl("sqlite:dripr.db"), "sqlite:dripr.db");
}

// database_url_fuzz finding: the parser takes a password up to the last '@' (an unencoded
// '/' included) while the redaction stopped at the first '/' and printed the URL whole.
TEST(RedactDatabaseUrlTest, APasswordWithASlashIsHiddenAsTheParserReadsIt) {
  const std::string url = "mysql://app:pa/s3cret@db/dripr";
  auto parsed = my::Url::Parse(url);
  ASSERT_TRUE(parsed);
  EXPECT_EQ(parsed->password, "pa/s3cret");
  EXPECT_EQ(RedactDatabaseUrl(url), "mysql://app:****@db/dripr");
  EXPECT_EQ(RedactDatabaseUrl("mysql://app@db/d?socket=/run/a@b"),
            "mysql://app@db/d?socket=/run/a@b");
}

// Asking for verification against a server without TLS fails rather than falling back.
TEST(MysqlOpenTest, RequiredTlsIsNotSilentlyDropped) {
  if (AdminUrl().empty()) GTEST_SKIP() << "DRIPR_TEST_MYSQL_URL is not set";
  MysqlStoreOptions o;
  o.url = AdminUrl() + "?ssl-mode=REQUIRED";
  auto s = MysqlStore::Open(o);
  ASSERT_FALSE(s);  // the test server has no certificate
  EXPECT_EQ(s.error().code, ErrorCode::kUnavailable);
  EXPECT_THAT(s.error().message, Not(HasSubstr("dripr-test-pw")));
}

}  // namespace mysql_store_test
}  // namespace dripr
