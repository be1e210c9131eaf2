// PostgresStore: the Store contract suite on a throw-away database per test (in the cluster
// `make test` starts, DRIPR_TEST_PG_URL), plus what is specific to PostgreSQL: retries on
// serialization failures and deadlocks, reconnecting after lost connections, concurrent
// relays claiming with SKIP LOCKED, LISTEN/NOTIFY wake-ups, and errors that keep the
// password out.

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

// The admin URL with its database replaced by `db`.
std::string UrlFor(const std::string& db) {
  std::string url = AdminUrl();
  size_t host = url.find("://");
  size_t slash = url.find('/', host == std::string::npos ? 0 : host + 3);
  std::string query;
  if (size_t q = url.find('?'); q != std::string::npos) query = url.substr(q);
  if (slash != std::string::npos) url.resize(slash);
  return url + "/" + db + query;
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

// A database created for one test and dropped (connections and all) when the last owner goes.
class TempDatabase {
 public:
  TempDatabase() {
    static std::atomic<int> counter{0};
    name_ = "dripr_t_" + std::to_string(::getpid()) + "_" + std::to_string(counter++) + "_" +
            std::to_string(std::chrono::steady_clock::now().time_since_epoch().count() % 100000);
    auto made = ExecOn(AdminUrl(), "CREATE DATABASE " + name_);
    EXPECT_TRUE(made) << made.error().ToString();
  }
  ~TempDatabase() {
    (void)ExecOn(AdminUrl(), "DROP DATABASE IF EXISTS " + name_ + " WITH (FORCE)");
  }
  std::string Url() const { return UrlFor(name_); }

 private:
  std::string name_;
};

std::unique_ptr<PostgresStore> OpenPg(const std::string& url, const Clock* clock,
                                      const RequiredParts& required,
                                      PostgresStoreOptions tweak = {}) {
  tweak.url = url;
  tweak.clock = clock;
  tweak.required_parts = required;
  auto s = PostgresStore::Open(std::move(tweak));
  EXPECT_TRUE(s) << s.error().ToString();
  return s ? std::move(*s) : nullptr;
}

StoreUnderTest MakePostgresStore(const Clock* clock, const RequiredParts& required) {
  StoreUnderTest t;
  if (AdminUrl().empty()) {
    t.skip_reason = "DRIPR_TEST_PG_URL is not set (make test starts a PostgreSQL cluster)";
    return t;
  }
  auto db = std::make_shared<TempDatabase>();
  const std::string url = db->Url();
  t.store = OpenPg(url, clock, required);
  if (t.store) {
    auto migrated = t.store->Migrate();
    EXPECT_TRUE(migrated) << migrated.error().ToString();
  }
  t.reopen = [db, url, required](const Clock* c) -> StorePtr { return OpenPg(url, c, required); };
  t.exec_sql = [db, url](const std::string& sql) { return ExecOn(url, sql); };
  return t;
}

INSTANTIATE_TEST_SUITE_P(Postgres, StoreContractTest,
                         ::testing::Values(StoreBackend{"postgres", &MakePostgresStore}),
                         StoreBackendName);

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

// ---------------------------------------------------------------- PostgreSQL specifics

class PostgresStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (AdminUrl().empty()) GTEST_SKIP() << "DRIPR_TEST_PG_URL is not set";
    db_ = std::make_unique<TempDatabase>();
    store_ = Open();
    ASSERT_NE(store_, nullptr);
    ASSERT_TRUE(store_->Migrate());
  }
  std::unique_ptr<PostgresStore> Open(PostgresStoreOptions tweak = {}) {
    return OpenPg(db_->Url(), &SystemClock::Instance(), RequiredParts(), std::move(tweak));
  }
  static NewCampaign Simple(const std::string& id) {
    NewCampaign c;
    c.id = id;
    c.zip_code = "02139";
    return c;
  }
  std::string Query(const std::string& sql) { return QueryOne(db_->Url(), sql); }
  Status Exec(const std::string& sql) { return ExecOn(db_->Url(), sql); }
  // Makes the next `times` updates of campaigns fail with SQLSTATE `state`.
  void InjectUpdateFailures(const std::string& state, int times) {
    ASSERT_TRUE(Exec("CREATE SEQUENCE injected_failures"));
    ASSERT_TRUE(
        Exec("CREATE FUNCTION inject() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
             "IF nextval('injected_failures') <= " +
             std::to_string(times) +
             " THEN RAISE EXCEPTION 'injected failure' USING "
             "ERRCODE = '" +
             state + "'; END IF; RETURN NEW; END $$"));
    ASSERT_TRUE(
        Exec("CREATE TRIGGER inject BEFORE UPDATE ON campaigns FOR EACH ROW "
             "EXECUTE FUNCTION inject()"));
  }
  int InjectionCalls() {
    return std::atoi(Query("SELECT last_value FROM injected_failures").c_str());
  }

  std::unique_ptr<TempDatabase> db_;
  std::unique_ptr<PostgresStore> store_;
};

TEST_F(PostgresStoreTest, SerializationFailureIsRetriedAndAppliedOnce) {
  ASSERT_TRUE(store_->CreateCampaign(Simple("a")));
  InjectUpdateFailures("40001", 2);
  auto started = store_->StartCampaign("a");
  ASSERT_TRUE(started) << started.error().ToString();
  EXPECT_TRUE(started->changed);
  EXPECT_EQ(InjectionCalls(), 3);  // two failed attempts, then the one that committed
  EXPECT_EQ(store_->OutboxForCampaign("a")->size(), 1u);
  EXPECT_EQ(store_->GetCampaign("a")->status, CampaignStatus::kWaitingForData);
}

TEST_F(PostgresStoreTest, DeadlockIsRetried) {
  ASSERT_TRUE(store_->CreateCampaign(Simple("a")));
  InjectUpdateFailures("40P01", 1);
  auto started = store_->StartCampaign("a");
  ASSERT_TRUE(started) << started.error().ToString();
  EXPECT_TRUE(started->changed);
  EXPECT_EQ(InjectionCalls(), 2);
  EXPECT_EQ(store_->OutboxForCampaign("a")->size(), 1u);
}

TEST_F(PostgresStoreTest, APermanentErrorIsNotRetriedAndWritesNothing) {
  ASSERT_TRUE(store_->CreateCampaign(Simple("a")));
  InjectUpdateFailures("22023", 100);
  auto started = store_->StartCampaign("a");
  ASSERT_FALSE(started);
  EXPECT_EQ(started.error().code, ErrorCode::kInvalidArgument);
  EXPECT_THAT(started.error().message, HasSubstr("injected failure"));
  EXPECT_EQ(InjectionCalls(), 1);
  EXPECT_TRUE(store_->OutboxForCampaign("a")->empty());
  EXPECT_EQ(store_->GetCampaign("a")->status, CampaignStatus::kDormant);
}

TEST_F(PostgresStoreTest, RetriesGiveUpAtTheDeadlineWithTheCause) {
  PostgresStoreOptions tweak;
  tweak.retry_deadline = 300ms;
  auto store = Open(tweak);
  ASSERT_TRUE(store->CreateCampaign(Simple("a")));
  InjectUpdateFailures("40001", 1'000'000);
  auto started = store->StartCampaign("a");
  ASSERT_FALSE(started);
  EXPECT_EQ(started.error().code, ErrorCode::kAborted);
  EXPECT_THAT(started.error().message, HasSubstr("40001"));
  EXPECT_GT(InjectionCalls(), 1);
}

TEST_F(PostgresStoreTest, ReconnectsAfterTheServerDropsItsConnections) {
  ASSERT_TRUE(store_->CreateCampaign(Simple("a")));
  ASSERT_TRUE(store_->GetCampaign("a"));  // the pool now holds an open connection
  const std::string db = Query("SELECT current_database()");
  std::string killed = QueryOne(AdminUrl(),
                                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                                "WHERE application_name = 'dripr' AND datname = '" +
                                    db + "'");
  ASSERT_NE(killed, "0");
  auto started = store_->StartCampaign("a");
  ASSERT_TRUE(started) << started.error().ToString();
  EXPECT_TRUE(started->changed);
  EXPECT_EQ(store_->GetCampaign("a")->status, CampaignStatus::kWaitingForData);
}

TEST_F(PostgresStoreTest, ManyThreadsShareASmallPool) {
  PostgresStoreOptions tweak;
  tweak.pool_size = 2;
  auto store = Open(tweak);
  constexpr int kThreads = 8;
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 10; ++i) {
        std::string id = "c" + std::to_string(t) + "-" + std::to_string(i);
        if (!store->CreateCampaign(Simple(id)) || !store->StartCampaign(id)) ++failures;
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(*store->PendingOutboxCount(), kThreads * 10);
  EXPECT_LE(std::atoi(Query("SELECT count(*) FROM pg_stat_activity WHERE application_name = "
                            "'dripr' AND datname = current_database()")
                          .c_str()),
            2 + 1 /* store_ */ + 1 /* this query's own session is not 'dripr' */);
}

// Several relays (separate store instances, as separate processes would be) claim and
// publish concurrently: every event goes out exactly once, each campaign's in order.
TEST_F(PostgresStoreTest, ConcurrentRelaysPublishEveryEventOnceInPerCampaignOrder) {
  constexpr int kCampaigns = 60;
  for (int i = 0; i < kCampaigns; ++i) {
    std::string id = "c" + std::to_string(i);
    ASSERT_TRUE(store_->CreateCampaign(Simple(id)));
    auto started = store_->StartCampaign(id);
    ASSERT_TRUE(started);
    ASSERT_TRUE(store_->FailCampaign(id, std::nullopt, started->campaign.data_cycle, "x"));
    ASSERT_TRUE(store_->ResetCampaign(id));
  }
  std::mutex mu;
  std::vector<OutboxRow> published;  // in publish order
  std::map<int64_t, int> times;
  auto relay = [&] {
    auto store = Open();
    while (true) {
      auto rows = store->ClaimOutbox(7, 30s);
      ASSERT_TRUE(rows) << rows.error().ToString();
      if (rows->empty()) {
        if (*store->PendingOutboxCount() == 0) return;
        std::this_thread::yield();
        continue;
      }
      std::vector<int64_t> ids;
      {
        std::lock_guard lock(mu);
        for (const auto& r : *rows) {
          published.push_back(r);
          ++times[r.id];
          ids.push_back(r.id);
        }
      }
      ASSERT_TRUE(store->MarkPublished(ids));
    }
  };
  std::vector<std::thread> relays;
  for (int i = 0; i < 4; ++i) relays.emplace_back(relay);
  for (auto& t : relays) t.join();

  ASSERT_EQ(published.size(), static_cast<size_t>(kCampaigns * 3));
  for (const auto& [id, n] : times) EXPECT_EQ(n, 1) << "outbox row " << id;
  std::map<std::string, int64_t> last;
  for (const OutboxRow& r : published) {
    EXPECT_GT(r.id, last[r.campaign_id]) << r.campaign_id << " published out of order";
    last[r.campaign_id] = r.id;
  }
}

// The wake-up comes from NOTIFY, not from the fallback poll (set to 30 s here).
TEST_F(PostgresStoreTest, WaitForOutboxWakesOnNotifyFromAnotherProcessQuickly) {
  PostgresStoreOptions tweak;
  tweak.outbox_poll_interval = 30s;
  auto waiter = Open(tweak);
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

TEST_F(PostgresStoreTest, CopiedRowsKeepSpecialCharactersAndNulls) {
  ASSERT_TRUE(store_->CreateCampaign(Simple("a")));
  auto started = store_->StartCampaign("a");
  ASSERT_TRUE(started);
  RankedRecord r;
  r.rank = 1;
  r.score = 0.5;
  r.record.formatted_address = "1 Tab\tSt\nLine2 \\N back\\slash \r end";
  r.record.city = "Ünïcødé ☃";
  r.record.source_id = "\\N";
  r.record.price = 1234567890123;
  RankedRecord empty;
  empty.rank = 2;
  PartData d{DataPart::kActiveListings, {r, empty}, std::nullopt};
  auto done = store_->CompletePart("a", started->campaign.data_cycle, d);
  ASSERT_TRUE(done) << done.error().ToString();
  auto rows = store_->GetActiveListings("a");
  ASSERT_TRUE(rows);
  ASSERT_EQ(rows->size(), 2u);
  EXPECT_EQ((*rows)[0].record, r.record);
  EXPECT_EQ((*rows)[1].record, empty.record);
  EXPECT_EQ(Query("SELECT count(*) FROM active_listings WHERE source_id IS NULL"), "1");
}

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
  auto missing = (*s)->GetCampaign("nope");
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code, ErrorCode::kNotFound);
}

TEST(PostgresOpenTest, AnUnmigratedDatabaseSaysToRunMigrate) {
  if (AdminUrl().empty()) GTEST_SKIP() << "DRIPR_TEST_PG_URL is not set";
  TempDatabase db;
  auto s = OpenPg(db.Url(), &SystemClock::Instance(), RequiredParts());
  ASSERT_NE(s, nullptr);
  auto r = s->GetCampaign("a");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::kFailedPrecondition);
  EXPECT_THAT(r.error().message, HasSubstr("dripr migrate"));
}

}  // namespace
}  // namespace dripr
