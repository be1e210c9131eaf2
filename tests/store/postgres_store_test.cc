// PostgresStore: the Store contract suite and the networked-store suite (retries on
// serialization failures and deadlocks, reconnecting after lost connections, concurrent
// relays claiming with SKIP LOCKED, ...) on a throw-away database per test (in the cluster
// `make test` starts, DRIPR_TEST_PG_URL), plus what is specific to PostgreSQL: LISTEN/NOTIFY
// wake-ups and errors that keep the password out.

#include "dripr/store/postgres/postgres_store.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <libpq-fe.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <map>
#include <mutex>
#include <thread>

#include "dripr/domain/event.h"
#include "dripr/store/migrations/migrations.h"
#include "networked_store_suite.h"
#include "support/campaign_ids.h"
#include "support/store_contract.h"

namespace dripr {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using namespace std::chrono_literals;

std::string AdminUrl() {
  const char* url = std::getenv("DRIPR_TEST_PG_URL");
  return url == nullptr ? "" : url;
}

// Runs SQL on `url` with a plain libpq connection, as another program would.
Status ExecOn(const std::string& url, const std::string& sql) {
  PGconn* c = PQconnectdb(url.c_str());
  if (PQstatus(c) != CONNECTION_OK) {
    std::string m = PQerrorMessage(c);
    PQfinish(c);
    return Fail(ErrorCode::kUnavailable, m);
  }
  PGresult* r = PQexec(c, sql.c_str());
  auto st = PQresultStatus(r);
  std::string m = PQresultErrorMessage(r);
  PQclear(r);
  PQfinish(c);
  if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) return Fail(ErrorCode::kInternal, m);
  return Ok();
}

// One value from a query on `url` ("" on error).
std::string QueryOne(const std::string& url, const std::string& sql) {
  PGconn* c = PQconnectdb(url.c_str());
  std::string out;
  if (PQstatus(c) == CONNECTION_OK) {
    PGresult* r = PQexec(c, sql.c_str());
    if (PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) > 0) out = PQgetvalue(r, 0, 0);
    PQclear(r);
  }
  PQfinish(c);
  return out;
}

// A database created for one test and dropped when the last owner goes.
class TempDatabase : public TempServerDatabase {
 public:
  TempDatabase() : TempServerDatabase(AdminUrl(), ExecOn, " WITH (FORCE)") {}
};

std::unique_ptr<PostgresStore> OpenPg(const std::string& url, const NetworkedTweak& tweak = {}) {
  return OpenTweaked<PostgresStore, PostgresStoreOptions>(url, tweak);
}

TEST(MigrationListsTest, EveryDialectHasTheSameVersionsWithoutGaps) {
  // Same versions and names in every dialect; the columns are compared against a real
  // server in mysql_store_test.cc (SchemaHasTheSameTablesAndColumnsAsSqlite).
  auto sqlite = SqliteMigrations();
  for (auto other : {PostgresMigrations(), MysqlMigrations()}) {
    ASSERT_EQ(sqlite.size(), other.size());
    for (size_t i = 0; i < sqlite.size(); ++i) {
      EXPECT_EQ(sqlite[i].version, static_cast<int>(i) + 1);
      EXPECT_EQ(other[i].version, sqlite[i].version);
      EXPECT_EQ(other[i].name, sqlite[i].name);
    }
    EXPECT_EQ(other.back().version, kLatestSchemaVersion);
  }
}

// ---------------------------------------------------------------- the networked-store suite

// Makes the next `times` updates of campaigns on `url` fail with SQLSTATE `state`.
void InjectUpdateFailures(const std::string& url, const std::string& state, int times) {
  ASSERT_TRUE(ExecOn(url, "CREATE SEQUENCE injected_failures"));
  ASSERT_TRUE(ExecOn(url,
                     "CREATE FUNCTION inject() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
                     "IF nextval('injected_failures') <= " +
                         std::to_string(times) +
                         " THEN RAISE EXCEPTION 'injected failure' USING ERRCODE = '" + state +
                         "'; END IF; RETURN NEW; END $$"));
  ASSERT_TRUE(ExecOn(url,
                     "CREATE TRIGGER inject BEFORE UPDATE ON campaigns FOR EACH ROW "
                     "EXECUTE FUNCTION inject()"));
}

// dripr's sessions on the database of `url` (this query's own session is not 'dripr').
std::string DriprSessionsWhere(const std::string& url) {
  return "application_name = 'dripr' AND datname = '" + DatabaseOf(url) + "'";
}

NetworkedServer PostgresServer() {
  NetworkedServer s;
  s.name = "postgres";
  if (AdminUrl().empty())
    s.skip_reason = "DRIPR_TEST_PG_URL is not set (make test starts a PostgreSQL cluster)";
  s.make_database = MakeTempDatabase<TempDatabase>;
  s.open = [](const std::string& url, const NetworkedTweak& tweak) -> StorePtr {
    return OpenPg(url, tweak);
  };
  s.exec = ExecOn;
  s.query = QueryOne;
  s.inject = InjectUpdateFailures;
  s.injection_calls = [](const std::string& url) {
    return std::atoi(QueryOne(url, "SELECT last_value FROM injected_failures").c_str());
  };
  s.drop_sessions = [](const std::string& url) {
    return std::atoi(QueryOne(AdminUrl(),
                              "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                              "WHERE " +
                                  DriprSessionsWhere(url))
                         .c_str());
  };
  s.sessions = [](const std::string& url) {
    return std::atoi(
        QueryOne(url, "SELECT count(*) FROM pg_stat_activity WHERE " + DriprSessionsWhere(url))
            .c_str());
  };
  // serialization_failure, deadlock_detected, invalid_parameter_value (class 22).
  s.codes = {"40001", "40P01", "22023", ErrorCode::kInvalidArgument};
  return s;
}

INSTANTIATE_TEST_SUITE_P(Postgres, StoreContractTest,
                         ::testing::Values(StoreBackend{"postgres",
                                                        [](const Clock* c, const RequiredParts& r) {
                                                          return ContractStoreOn(PostgresServer(),
                                                                                 c, r);
                                                        }}),
                         StoreBackendName);
INSTANTIATE_TEST_SUITE_P(Postgres, NetworkedStoreTest, ::testing::Values(PostgresServer()),
                         NetworkedServerName);

// ---------------------------------------------------------------- PostgreSQL specifics

class PostgresStoreTest : public NetworkedStoreTest {};

// The wake-up comes from NOTIFY, not from the fallback poll (set to 30 s here).
TEST_P(PostgresStoreTest, WaitForOutboxWakesOnNotifyFromAnotherProcessQuickly) {
  auto waiter = Open({.outbox_poll_interval = 30s});
  ASSERT_TRUE(waiter->ClaimOutbox(10, 30s));
  waiter->WaitForOutbox(50ms);  // starts the listener
  ASSERT_TRUE(store_->CreateCampaign(Simple("a")));
  std::atomic<bool> woke{false};
  std::chrono::steady_clock::duration took{};
  std::thread t([&] {
    auto start = std::chrono::steady_clock::now();
    waiter->WaitForOutbox(20s);
    took = std::chrono::steady_clock::now() - start;
    woke = true;
  });
  std::this_thread::sleep_for(200ms);  // let the waiter block (the assertion holds anyway)
  // A plain INSERT from another connection, as a foreign producer would write it.
  ASSERT_TRUE(
      Exec("INSERT INTO outbox (topic, campaign_id, event_type, body, created_at) "
           "VALUES ('campaign-events', 'a', 'STATUS_CHANGE', '{}', now())"));
  t.join();
  EXPECT_TRUE(woke);
  EXPECT_LT(took, 5s);
}

INSTANTIATE_TEST_SUITE_P(Postgres, PostgresStoreTest, ::testing::Values(PostgresServer()),
                         NetworkedServerName);

TEST(PostgresOpenTest, AnUnreachableServerFailsAtOnceWithoutThePassword) {
  PostgresStoreOptions o;
  o.url = "postgresql://dripr:s3cret-pw@127.0.0.1:1/dripr";
  o.connect_timeout = 2s;
  auto t0 = std::chrono::steady_clock::now();
  auto s = PostgresStore::Open(o);
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().code, ErrorCode::kUnavailable);
  EXPECT_THAT(s.error().message, Not(HasSubstr("s3cret-pw")));
  EXPECT_THAT(s.error().message, Not(HasSubstr("\n")));  // one line, for logs and the CLI
  EXPECT_THAT(s.error().message, HasSubstr("Connection refused"));
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 10s);
}

TEST(PostgresOpenTest, OpenStoreChoosesPostgresForItsUrls) {
  if (AdminUrl().empty()) GTEST_SKIP() << "DRIPR_TEST_PG_URL is not set";
  TempDatabase db;
  StoreOptions o;
  o.database_url = db.Url();
  auto s = OpenStore(o);
  ASSERT_TRUE(s) << s.error().ToString();
  EXPECT_EQ(*(*s)->SchemaVersion(), 0);
  ASSERT_TRUE((*s)->Migrate());
  EXPECT_EQ(*(*s)->SchemaVersion(), kLatestSchemaVersion);
  auto missing = (*s)->GetCampaign(Cid("nope"));
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code, ErrorCode::kNotFound);
}

TEST(PostgresOpenTest, AnUnmigratedDatabaseSaysToRunMigrate) {
  if (AdminUrl().empty()) GTEST_SKIP() << "DRIPR_TEST_PG_URL is not set";
  TempDatabase db;
  auto s = OpenPg(db.Url());
  ASSERT_NE(s, nullptr);
  auto r = s->GetCampaign(Cid("a"));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::kFailedPrecondition);
  EXPECT_THAT(r.error().message, HasSubstr("dripr migrate"));
}

}  // namespace
}  // namespace dripr
