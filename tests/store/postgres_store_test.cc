// PostgresStore: the Store contract suite and the networked-store suites (retries on
// serialization failures and deadlocks, reconnecting after lost connections, concurrent
// relays claiming with SKIP LOCKED, errors on open that keep the password out, ...) on a
// throw-away database per test (in the cluster `make test` starts, DRIPR_TEST_PG_URL), plus
// what is specific to PostgreSQL: LISTEN/NOTIFY wake-ups.

#include "dripr/store/postgres/postgres_store.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <libpq-fe.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <regex>
#include <string>
#include <thread>
#include <vector>

#include "dripr/domain/event.h"
#include "dripr/store/migrations/migrations.h"
#include "networked_store_suite.h"
#include "support/campaign_ids.h"
#include "support/poll.h"
#include "support/store_contract.h"
#include "support/tcp_proxy.h"

namespace dripr {
namespace postgres_store_test {

using namespace std::chrono_literals;

std::string AdminUrl() { return TestEnv("DRIPR_TEST_PG_URL"); }

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
  auto s = NetworkedServerFor<PostgresStore, PostgresStoreOptions, TempDatabase>(
      "postgres", AdminUrl(),
      "DRIPR_TEST_PG_URL is not set (make test starts a PostgreSQL cluster)");
  s.exec = ExecOn;
  s.query = QueryOne;
  s.inject = InjectUpdateFailures;
  s.injection_count_sql = "SELECT last_value FROM injected_failures";
  s.drop_sessions = [](const std::string& url) {
    return std::atoi(QueryOne(AdminUrl(),
                              "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                              "WHERE " +
                                  DriprSessionsWhere(url))
                         .c_str());
  };
  s.sessions_sql = [](const std::string& url) {
    return "SELECT count(*) FROM pg_stat_activity WHERE " + DriprSessionsWhere(url);
  };
  // serialization_failure, deadlock_detected, invalid_parameter_value (class 22).
  s.codes = {"40001", "40P01", "22023", ErrorCode::kInvalidArgument};
  s.schemes = {"postgresql://", "postgres://"};
  s.refused_message = "Connection refused";
  return s;
}

DRIPR_INSTANTIATE_NETWORKED_STORE_SUITES(Postgres, PostgresServer());

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
  std::atomic<pid_t> waiter_tid{0};
  std::thread t([&] {
    waiter_tid = testing::ThisThreadId();
    auto start = std::chrono::steady_clock::now();
    waiter->WaitForOutbox(20s);
    took = std::chrono::steady_clock::now() - start;
    woke = true;
  });
  // Once the waiter is most likely blocked (the assertion holds anyway).
  EXPECT_TRUE(testing::Eventually([&] { return woke || testing::ThreadIsAsleep(waiter_tid); }));
  // A plain INSERT from another connection, as a foreign producer would write it.
  ASSERT_TRUE(
      Exec("INSERT INTO outbox (topic, campaign_id, event_type, body, created_at) "
           "VALUES ('campaign-events', 'a', 'STATUS_CHANGE', '{}', now())"));
  t.join();
  EXPECT_TRUE(woke);
  EXPECT_LT(took, 10s);  // woken: the wait is 20 s and the fallback 30 s
}

// The listener's reconnect pause waits on the store's ticker: 100 ms, doubling, at most 5 s.
// Its connection is refused while a role allowed one session has that session in the store's
// pool ("too many connections for role"), until the test lifts the limit.
TEST_P(PostgresStoreTest, TheListenersReconnectPauseRunsOnTheStoresTicker) {
  const std::string role = "dripr_listener_" + std::to_string(::getpid());
  (void)Exec("DROP ROLE IF EXISTS " + role);
  ASSERT_TRUE(Exec("CREATE ROLE " + role + " LOGIN CONNECTION LIMIT 1"));
  std::string url = url_;
  ASSERT_NE(url.find("://postgres@"), std::string::npos) << url;
  url.replace(url.find("://postgres@"), 12, "://" + role + "@");
  {
    ManualTicker ticker;
    auto store =
        OpenTweaked<PostgresStore, PostgresStoreOptions>(url, {.pool_size = 1, .ticker = &ticker});
    ASSERT_NE(store, nullptr);
    store->WaitForOutbox(0ms);  // starts the listener; returns at once (no time to wait)
    // The end of each pause, from the ticker's start: pauses of 100, 200, ..., 3200, then
    // 5000 ms twice.
    for (auto end : {100ms, 300ms, 700ms, 1500ms, 3100ms, 6300ms, 11300ms, 16300ms}) {
      ASSERT_TRUE(testing::Eventually([&] {
        return ticker.Deadlines() == std::vector<Ticker::Duration>{end};
      })) << "no pause ending at "
          << end.count() << " ms";
      if (end == 16300ms) {
        ASSERT_TRUE(Exec("ALTER ROLE " + role + " CONNECTION LIMIT -1"));
      }
      ticker.AdvanceTo(ticker.start() + end);
    }
    // The last pause over, the listener connects and LISTENs; it waits on nothing else.
    EXPECT_TRUE(testing::Eventually([&] {
      return Query("SELECT count(*) FROM pg_stat_activity WHERE usename = '" + role +
                   "' AND query LIKE 'LISTEN%'") == "1";
    }));
    EXPECT_TRUE(ticker.Deadlines().empty());
    EXPECT_EQ(ticker.Elapsed(), 16300ms);
  }
  (void)Exec("DROP ROLE IF EXISTS " + role);
}

// The server committed a create and the reply was lost (the connection cut right after the
// COMMIT's reply left the server, by a proxy in front of it): the store runs the transaction
// again on a new connection, where the create finds its own rows and succeeds, instead of
// reporting "already exists" for what it wrote itself; an import with --start starts each
// campaign once. Another create of the same id is still refused.
TEST_P(PostgresStoreTest, ACreateWhoseCommitReplyWasLostFindsItsOwnRows) {
  const std::regex host_port(R"(@([0-9.]+):([0-9]+)/)");
  std::smatch m;
  ASSERT_TRUE(std::regex_search(url_, m, host_port)) << "no host:port in the test URL";
  std::string error;
  auto proxy = testing::TcpProxy::Start(m[1], std::stoi(m[2]), &error);
  ASSERT_NE(proxy, nullptr) << error;
  PostgresStoreOptions o;
  o.url = std::regex_replace(url_, host_port, "@127.0.0.1:" + std::to_string(proxy->port()) + "/",
                             std::regex_constants::format_first_only);
  auto opened = PostgresStore::Open(std::move(o));
  ASSERT_TRUE(opened) << opened.error().ToString();
  PostgresStore& s = **opened;
  // CommandComplete "COMMIT": sent once the transaction committed.
  const std::string commit_done(
      "C\0\0\0\x0b"
      "COMMIT\0",
      12);

  proxy->LoseNextReplyHolding(commit_done);
  auto created = s.CreateCampaign(Simple("c-1"));
  ASSERT_TRUE(created) << created.error().ToString();
  EXPECT_EQ(proxy->lost(), 1);
  EXPECT_EQ(created->id, "c-1");
  EXPECT_EQ(created->status, CampaignStatus::kDormant);
  EXPECT_EQ(Query("SELECT count(*) FROM campaigns"), "1");
  auto again = s.CreateCampaign(Simple("c-1"));
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().code, ErrorCode::kAlreadyExists) << again.error().ToString();

  proxy->LoseNextReplyHolding(commit_done);
  const std::vector<NewCampaign> batch = {Simple("c-2"), Simple("c-3")};
  auto imported = s.CreateCampaigns(batch, /*start=*/true);
  ASSERT_TRUE(imported) << imported.error().ToString();
  EXPECT_EQ(proxy->lost(), 2);
  ASSERT_EQ(imported->size(), 2u);
  for (const Campaign& c : *imported) {
    EXPECT_EQ(c.status, CampaignStatus::kWaitingForData) << c.id.str();
    EXPECT_EQ(c.data_cycle, 1) << c.id.str();
  }
  EXPECT_EQ(Query("SELECT count(*) FROM outbox WHERE campaign_id IN ('c-2', 'c-3')"), "2");
}

// Rows a plan's nodes produced or threw away, over all their loops (EXPLAIN ANALYZE's JSON
// gives both per loop): a count of the work the statement did, not its time.
double RowsTouched(const nlohmann::json& node) {
  double per_loop = 0;
  for (const char* key : {"Actual Rows", "Rows Removed by Filter", "Rows Removed by Join Filter",
                          "Rows Removed by Index Recheck"}) {
    if (node.contains(key)) per_loop += node[key].get<double>();
  }
  double total = per_loop * node.value("Actual Loops", 1.0);
  if (node.contains("Plans")) {
    for (const auto& child : node["Plans"]) total += RowsTouched(child);
  }
  return total;
}

// The outbox claim's work grows with the rows it claims, not with the unpublished rows nor
// their pairs, whatever the statistics say (PostgresOutboxClaimSql under
// kPostgresOutboxClaimSetting). A backlog of 10,000 rows (two for each of 5,000 campaigns)
// arrives (a month's campaigns started at once, or B2PG's import) on an outbox whose
// statistics saw none unpublished, in two forms: analyzed while everything was published (the
// NOT EXISTS form the claim had before stop 29 was planned there as a nested loop comparing
// unpublished rows with each other: 205,650 rows touched for 2,000), and new, never analyzed
// (without the setting, a bitmap scan of every unpublished row, the head subquery run on each and a
// sort for the LIMIT: 50,850 rows touched, and 5 ms per claim at 1,500 in B2PG, so draining a
// backlog was quadratic). The claim walks outbox_pending in id order and stops after its 50
// heads: 1,000 rows touched on the new outbox, 6,950 on the analyzed one (its heads joined
// with their later rows, 50 x 50: bounded by the limit, not the backlog).
TEST_P(PostgresStoreTest, TheOutboxClaimReadsAboutTheRowsItClaimsNotTheWholeBacklog) {
  constexpr int kBacklog = 10'000;
  constexpr int kLimit = 50;
  for (const bool analyzed : {false, true}) {
    SCOPED_TRACE(analyzed ? "analyzed while all was published" : "a new outbox");
    ASSERT_TRUE(Exec("TRUNCATE outbox"));
    if (analyzed) {
      ASSERT_TRUE(Exec(
          "INSERT INTO outbox (topic, campaign_id, event_type, body, created_at, published_at) "
          "SELECT 'campaign-events', 'old-' || g, 'STATUS_CHANGE', '{}', now(), now() "
          "FROM generate_series(1, 5000) g"));
      ASSERT_TRUE(Exec("ANALYZE outbox"));
    }
    ASSERT_TRUE(
        Exec("INSERT INTO outbox (topic, campaign_id, event_type, body, created_at) "
             "SELECT 'campaign-events', 'c-' || (g % 5000), 'STATUS_CHANGE', '{}', now() "
             "FROM generate_series(1, " +
             std::to_string(kBacklog) + ") g"));
    const std::string token = analyzed ? "plan-analyzed" : "plan-new";
    const std::string plan_text =
        Query(std::string(kPostgresOutboxClaimSetting) +
              "; PREPARE claim(timestamptz, int, timestamptz, text) AS " +
              PostgresOutboxClaimSql() + "; EXPLAIN (ANALYZE, FORMAT JSON) EXECUTE claim(now(), " +
              std::to_string(kLimit) + ", now() + interval '1 minute', '" + token + "')");
    const auto plan = nlohmann::json::parse(plan_text, nullptr, /*allow_exceptions=*/false);
    ASSERT_TRUE(plan.is_array() && !plan.empty() && plan[0].contains("Plan")) << plan_text;
    EXPECT_LT(RowsTouched(plan[0]["Plan"]), kBacklog) << plan_text;
    // It claimed the 50 oldest heads: one row each of campaigns c-1 ... c-50.
    EXPECT_EQ(Query("SELECT count(*) FROM outbox WHERE claim_token = '" + token + "'"), "50");
    EXPECT_EQ(Query("SELECT count(DISTINCT campaign_id) FROM outbox WHERE claim_token = '" + token +
                    "' AND campaign_id LIKE 'c-%'"),
              "50");
  }
}

INSTANTIATE_TEST_SUITE_P(Postgres, PostgresStoreTest, ::testing::Values(PostgresServer()),
                         NetworkedServerName);

// ---------------------------------------------------------------- combined transitions

// Transitions started while another transaction of the store's runs wait, then go together
// in one transaction (StoreBase::RunTransition's combining). Made deterministic: another
// session holds the first campaign's row, so the first transition (the combiner) waits in the
// server while the others queue behind it; the test lets go once they are all queued.
class CombinedTransitionsTest : public PostgresStoreTest {
 protected:
  // A store combining up to 32 transitions in one transaction at a time.
  std::unique_ptr<PostgresStore> OpenCombining() {
    PostgresStoreOptions o;
    o.url = url_;
    o.transition_batching = {.max_batch = 32, .combiners = 1};
    auto s = PostgresStore::Open(std::move(o));
    EXPECT_TRUE(s) << s.error().ToString();
    return s ? std::move(*s) : nullptr;
  }
  // Creates and starts campaign `id` on `s`: its data cycle.
  static int64_t Started(PostgresStore& s, const std::string& id) {
    EXPECT_TRUE(s.CreateCampaign(Simple(id)));
    auto started = s.StartCampaign(Cid(id));
    EXPECT_TRUE(started && started->changed);
    return started ? started->campaign.data_cycle : -1;
  }
  static PartData Part(DataPart p) { return PartData{.part = p, .records = {}, .market = {}}; }

  // Another session that has run `statements` in a transaction it keeps open till LetGo.
  PGconn* OpenTransaction(const std::vector<std::string>& statements) {
    PGconn* c = PQconnectdb(url_.c_str());
    EXPECT_EQ(PQstatus(c), CONNECTION_OK);
    std::vector<std::string> all = {"BEGIN"};
    all.insert(all.end(), statements.begin(), statements.end());
    for (const std::string& sql : all) {
      PGresult* r = PQexec(c, sql.c_str());
      EXPECT_NE(PQresultStatus(r), PGRES_FATAL_ERROR) << PQresultErrorMessage(r);
      PQclear(r);
    }
    return c;
  }
  // Another session holding campaign `id`'s row (in an open transaction) till LetGo.
  PGconn* Hold(const std::string& id) {
    return OpenTransaction({"SELECT 1 FROM campaigns WHERE id = '" + id + "' FOR UPDATE"});
  }
  // A market part the store refuses (no month): a batch it is in fails.
  static PartData MarketWithoutMonth() {
    PartData p = Part(DataPart::kLocalMarketData);
    p.market = MarketData{};
    p.market->zip_code = "02139";
    return p;
  }
  // Results 0 and 2 applied, 1 (MarketWithoutMonth) refused with its own error.
  static void ExpectAppliedRefusedApplied(const std::vector<Result<TransitionOutcome>>& r) {
    ASSERT_GE(r.size(), 3u);
    ASSERT_TRUE(r[0]) << r[0].error().ToString();
    EXPECT_TRUE(r[0]->changed);
    ASSERT_FALSE(r[1]);
    EXPECT_EQ(r[1].error().code, ErrorCode::kInvalidArgument);
    EXPECT_THAT(r[1].error().message, ::testing::HasSubstr("has no month"));
    ASSERT_TRUE(r[2]) << r[2].error().ToString();
    EXPECT_TRUE(r[2]->changed);
  }
  static void LetGo(PGconn* c) {
    PQclear(PQexec(c, "COMMIT"));
    PQfinish(c);
  }

  // Runs `first` alone while campaign "blocker"'s row is held by another session, then each
  // of `queued` (queued behind it), then lets go; every call's result, `first`'s last.
  std::vector<Result<TransitionOutcome>> HeldThenQueued(
      PostgresStore& s, const std::function<Result<TransitionOutcome>()>& first,
      const std::vector<std::function<Result<TransitionOutcome>()>>& queued) {
    PGconn* holder = Hold("blocker");
    std::vector<Result<TransitionOutcome>> results(queued.size() + 1,
                                                   Fail(ErrorCode::kInternal, "not run"));
    std::vector<std::thread> threads;
    threads.emplace_back([&] { results.back() = first(); });
    EXPECT_TRUE(testing::Eventually([&] { return s.transition_combining().running == 1; }));
    for (size_t i = 0; i < queued.size(); ++i) {
      threads.emplace_back([&, i] { results[i] = queued[i](); });
    }
    EXPECT_TRUE(testing::Eventually(
        [&] { return s.transition_combining().queued == static_cast<int>(queued.size()); }));
    LetGo(holder);
    for (auto& t : threads) t.join();
    return results;
  }
};

// The three parts of one campaign in one batch fan in once (each applied on the row as the
// one before left it); a stale completion says so without failing the others.
TEST_P(CombinedTransitionsTest, QueuedTransitionsRunInOneTransactionEachWithItsOwnResult) {
  auto s = OpenCombining();
  ASSERT_NE(s, nullptr);
  const int64_t blocker = Started(*s, "blocker");
  const int64_t a = Started(*s, "a");
  const int64_t b = Started(*s, "b");
  std::vector<std::function<Result<TransitionOutcome>()>> queued;
  for (DataPart p : kAllDataParts) {
    queued.push_back([&, p] { return s->CompletePart(Cid("a"), a, Part(p)); });
  }
  queued.push_back([&] { return s->CompletePart(Cid("b"), b, Part(DataPart::kRecentSales)); });
  queued.push_back(
      [&] { return s->CompletePart(Cid("b"), b + 1, Part(DataPart::kActiveListings)); });
  queued.push_back([&] { return s->CompletePart(Cid("gone"), 1, Part(DataPart::kRecentSales)); });
  auto results = HeldThenQueued(
      *s, [&] { return s->CompletePart(Cid("blocker"), blocker, Part(DataPart::kRecentSales)); },
      queued);
  // A campaign that is not there: kNotFound, as alone, and the batch commits the others.
  ASSERT_FALSE(results[5]);
  EXPECT_EQ(results[5].error().code, ErrorCode::kNotFound);
  EXPECT_THAT(results[5].error().message, ::testing::HasSubstr("campaign gone not found"));
  results.erase(results.begin() + 5);
  for (const auto& r : results) ASSERT_TRUE(r) << r.error().ToString();
  // One batch carried the six queued transitions and committed (the first ran alone: not
  // counted).
  EXPECT_EQ(s->transition_combining().batches, 1);
  EXPECT_EQ(s->transition_combining().combined, 6);
  EXPECT_EQ(s->transition_combining().ran_alone_after_failure, 0);
  // The queue's order is the threads' arrival order: whichever of a's parts came last fanned in.
  int events = 0;
  for (int i = 0; i < 3; ++i) {
    EXPECT_TRUE(results[i]->changed) << results[i]->reason;
    if (!results[i]->event) continue;
    ++events;
    EXPECT_EQ(results[i]->event->to_status, CampaignStatus::kReadyToCreateEmail);
    EXPECT_EQ(results[i]->campaign.status, CampaignStatus::kReadyToCreateEmail);
  }
  EXPECT_EQ(events, 1);
  EXPECT_EQ(s->GetCampaign(Cid("a"))->status, CampaignStatus::kReadyToCreateEmail);
  int ready_rows = 0;
  const auto outbox = s->OutboxForCampaign(Cid("a"));
  ASSERT_TRUE(outbox);
  for (const auto& row : *outbox) {
    ready_rows += DecodeStatusChange(row.body)->to_status == CampaignStatus::kReadyToCreateEmail;
  }
  EXPECT_EQ(ready_rows, 1);
  EXPECT_TRUE(results[3]->changed);
  EXPECT_EQ(s->GetCampaign(Cid("b"))->part(DataPart::kRecentSales), PartStatus::kReady);
  EXPECT_FALSE(results[4]->changed);
  EXPECT_THAT(results[4]->reason, ::testing::HasSubstr("stale"));
  EXPECT_EQ(s->GetCampaign(Cid("b"))->part(DataPart::kActiveListings), PartStatus::kWaitingForData);
  EXPECT_TRUE(results[5]->changed);
}

// A transition that fails on its own data (market data without a month, which the store
// refuses) fails the batch's transaction: then each runs alone, the others applied and that
// one failing with the error it has alone.
TEST_P(CombinedTransitionsTest, OneTransitionsFailureIsItsOwnTheOthersApply) {
  auto s = OpenCombining();
  ASSERT_NE(s, nullptr);
  const int64_t blocker = Started(*s, "blocker");
  const int64_t a = Started(*s, "a");
  const PartData no_month = MarketWithoutMonth();
  auto results = HeldThenQueued(
      *s, [&] { return s->CompletePart(Cid("blocker"), blocker, Part(DataPart::kRecentSales)); },
      {[&] { return s->CompletePart(Cid("a"), a, Part(DataPart::kActiveListings)); },
       [&] { return s->CompletePart(Cid("a"), a, no_month); },
       [&] { return s->CompletePart(Cid("a"), a, Part(DataPart::kRecentSales)); }});
  EXPECT_EQ(s->transition_combining().batches, 1);
  EXPECT_EQ(s->transition_combining().ran_alone_after_failure, 3);
  ExpectAppliedRefusedApplied(results);
  ASSERT_TRUE(results[3]);
  const Campaign c = *s->GetCampaign(Cid("a"));
  EXPECT_EQ(c.part(DataPart::kActiveListings), PartStatus::kReady);
  EXPECT_EQ(c.part(DataPart::kRecentSales), PartStatus::kReady);
  EXPECT_EQ(c.part(DataPart::kLocalMarketData), PartStatus::kWaitingForData);
  EXPECT_EQ(c.status, CampaignStatus::kWaitingForData);
}

// Store::CompleteParts (a batch of part handlers' commits): the completions whose rows are
// free commit in one transaction without waiting for a row another session holds; that one
// is applied after it, once the row is free.
TEST_P(CombinedTransitionsTest, CompletePartsCommitsTheFreeRowsFirstAndAHeldRowAfterIt) {
  auto s = OpenCombining();
  ASSERT_NE(s, nullptr);
  const int64_t a = Started(*s, "a");
  const int64_t held = Started(*s, "held");
  const int64_t c = Started(*s, "c");
  const PartData listings = Part(DataPart::kActiveListings);
  const std::vector<PartCompletion> parts = {
      {Cid("a"), a, &listings}, {Cid("held"), held, &listings}, {Cid("c"), c, &listings}};
  PGconn* holder = Hold("held");
  std::vector<Result<TransitionOutcome>> got;
  std::thread t([&] { got = s->CompleteParts(parts); });
  // a and c are committed (another store sees them) while "held" still waits for its row.
  auto other = OpenCombining();
  ASSERT_NE(other, nullptr);
  EXPECT_TRUE(testing::Eventually([&] {
    auto ra = other->GetCampaign(Cid("a"));
    auto rc = other->GetCampaign(Cid("c"));
    return ra && rc && ra->part(DataPart::kActiveListings) == PartStatus::kReady &&
           rc->part(DataPart::kActiveListings) == PartStatus::kReady;
  }));
  EXPECT_EQ(other->GetCampaign(Cid("held"))->part(DataPart::kActiveListings),
            PartStatus::kWaitingForData);
  LetGo(holder);
  t.join();
  ASSERT_EQ(got.size(), 3u);
  for (const auto& r : got) {
    ASSERT_TRUE(r) << r.error().ToString();
    EXPECT_TRUE(r->changed) << r->reason;
  }
  EXPECT_EQ(s->GetCampaign(Cid("held"))->part(DataPart::kActiveListings), PartStatus::kReady);
}

// A completion the store refuses (market data without a month) fails the batch's transaction:
// each then runs alone, the others applied and that one failing with its own error.
TEST_P(CombinedTransitionsTest, CompletePartsWithOneRefusedCompletionAppliesTheOthers) {
  auto s = OpenCombining();
  ASSERT_NE(s, nullptr);
  const int64_t a = Started(*s, "a");
  const int64_t b = Started(*s, "b");
  const PartData listings = Part(DataPart::kActiveListings), no_month = MarketWithoutMonth();
  const std::vector<PartCompletion> parts = {
      {Cid("a"), a, &listings}, {Cid("a"), a, &no_month}, {Cid("b"), b, &listings}};
  const auto got = s->CompleteParts(parts);
  ASSERT_EQ(got.size(), 3u);
  ExpectAppliedRefusedApplied(got);
  EXPECT_EQ(s->GetCampaign(Cid("a"))->part(DataPart::kActiveListings), PartStatus::kReady);
  EXPECT_EQ(s->GetCampaign(Cid("a"))->part(DataPart::kLocalMarketData),
            PartStatus::kWaitingForData);
  EXPECT_EQ(s->GetCampaign(Cid("b"))->part(DataPart::kActiveListings), PartStatus::kReady);
  // Counted with the combiner's batches: one of three, run alone after its failure.
  EXPECT_EQ(s->transition_combining().batches, 1);
  EXPECT_EQ(s->transition_combining().combined, 3);
  EXPECT_EQ(s->transition_combining().ran_alone_after_failure, 3);
}

// After a batch's transaction fails, its transitions run again alone all at once, each on its
// own caller's thread, not one after another (StoreBase::RunBatch). The failing one (z) is the
// batch's first, so the batch stops there; x and y, run again alone, then find their campaigns'
// old listings held by another session and wait in the server: both at the same time.
TEST_P(CombinedTransitionsTest, AFailedBatchsTransitionsRunAgainAloneConcurrently) {
  auto s = OpenCombining();
  ASSERT_NE(s, nullptr);
  const int64_t blocker = Started(*s, "blocker");
  const int64_t z = Started(*s, "z");
  const int64_t x = Started(*s, "x");
  const int64_t y = Started(*s, "y");
  ASSERT_TRUE(
      Exec("INSERT INTO active_listings (campaign_id, rank, score, price) VALUES "
           "('x', 1, 1, 1), ('y', 1, 1, 1)"));
  const PartData no_month = MarketWithoutMonth();
  PGconn* holds_blocker = Hold("blocker");
  std::vector<Result<TransitionOutcome>> results(4, Fail(ErrorCode::kInternal, "not run"));
  std::vector<std::thread> threads;
  threads.emplace_back(
      [&] { results[0] = s->CompletePart(Cid("blocker"), blocker, Part(DataPart::kRecentSales)); });
  ASSERT_TRUE(testing::Eventually([&] { return s->transition_combining().running == 1; }));
  threads.emplace_back([&] { results[1] = s->CompletePart(Cid("z"), z, no_month); });
  ASSERT_TRUE(testing::Eventually([&] { return s->transition_combining().queued == 1; }));
  threads.emplace_back(
      [&] { results[2] = s->CompletePart(Cid("x"), x, Part(DataPart::kActiveListings)); });
  threads.emplace_back(
      [&] { results[3] = s->CompletePart(Cid("y"), y, Part(DataPart::kActiveListings)); });
  ASSERT_TRUE(testing::Eventually([&] { return s->transition_combining().queued == 3; }));
  PGconn* holds_listings = OpenTransaction({"SELECT 1 FROM active_listings FOR UPDATE"});
  LetGo(holds_blocker);
  const bool both_waiting = testing::Eventually([&] {
    return Query(
               "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND "
               "datname = current_database()") == "2";
  });
  LetGo(holds_listings);
  for (auto& t : threads) t.join();
  EXPECT_TRUE(both_waiting);
  EXPECT_EQ(s->transition_combining().batches, 1);
  EXPECT_EQ(s->transition_combining().ran_alone_after_failure, 3);
  ASSERT_TRUE(results[0]) << results[0].error().ToString();
  ASSERT_FALSE(results[1]);
  EXPECT_EQ(results[1].error().code, ErrorCode::kInvalidArgument);
  for (int i : {2, 3}) {
    ASSERT_TRUE(results[i]) << results[i].error().ToString();
    EXPECT_TRUE(results[i]->changed);
  }
  EXPECT_EQ(Query("SELECT count(*) FROM active_listings WHERE campaign_id IN ('x', 'y')"), "0");
}

// A transition locks its campaign's row FOR NO KEY UPDATE (pg::Driver::kRowLock): it does not
// wait for another transaction that only references the campaign, e.g. one inserting a part's
// rows for it (its foreign-key check holds FOR KEY SHARE on the row, which FOR UPDATE would
// wait for), and such an insert does not wait for a transition.
TEST_P(CombinedTransitionsTest,
       ATransitionDoesNotWaitForATransactionThatOnlyReferencesItsCampaign) {
  auto s = OpenCombining();
  ASSERT_NE(s, nullptr);
  const int64_t cycle = Started(*s, "c");
  PGconn* other = OpenTransaction(
      {"INSERT INTO active_listings (campaign_id, rank, score, price) VALUES ('c', 1, 1, 1)"});
  Result<TransitionOutcome> done = Fail(ErrorCode::kInternal, "not run");
  std::atomic<bool> returned = false;
  std::thread t([&] {
    done = s->CompletePart(Cid("c"), cycle, Part(DataPart::kRecentSales));
    returned = true;
  });
  const bool without_waiting = testing::Eventually([&] { return returned.load(); });
  LetGo(other);  // lets a transition that waited go on, so the test ends either way
  t.join();
  EXPECT_TRUE(without_waiting);
  ASSERT_TRUE(done) << done.error().ToString();
  EXPECT_TRUE(done->changed);
  EXPECT_EQ(Query("SELECT count(*) FROM active_listings WHERE campaign_id = 'c'"), "1");
}

// A row another program holds does not hold up the batch it lands in: the batch locks its
// rows with SKIP LOCKED, commits the others, and that one transition waits for its row on
// its own caller's thread (StoreBase::RunBatch).
TEST_P(CombinedTransitionsTest, ARowAnotherSessionHoldsDoesNotHoldUpTheBatch) {
  auto s = OpenCombining();
  ASSERT_NE(s, nullptr);
  const int64_t blocker = Started(*s, "blocker");
  const int64_t held = Started(*s, "held");
  const int64_t a = Started(*s, "a");
  PGconn* holds_blocker = Hold("blocker");
  PGconn* holds_held = Hold("held");

  Result<TransitionOutcome> first = Fail(ErrorCode::kInternal, "not run");
  Result<TransitionOutcome> on_held = first, on_a = first;
  std::atomic<bool> held_done = false, a_done = false;
  std::thread t_first(
      [&] { first = s->CompletePart(Cid("blocker"), blocker, Part(DataPart::kRecentSales)); });
  ASSERT_TRUE(testing::Eventually([&] { return s->transition_combining().running == 1; }));
  std::thread t_held([&] {
    on_held = s->CompletePart(Cid("held"), held, Part(DataPart::kRecentSales));
    held_done = true;
  });
  std::thread t_a([&] {
    on_a = s->CompletePart(Cid("a"), a, Part(DataPart::kRecentSales));
    a_done = true;
  });
  ASSERT_TRUE(testing::Eventually([&] { return s->transition_combining().queued == 2; }));
  LetGo(holds_blocker);
  // The batch of the two queued transitions commits a's while "held" is still held.
  EXPECT_TRUE(testing::Eventually([&] { return a_done.load(); }));
  EXPECT_FALSE(held_done.load());
  ASSERT_TRUE(on_a) << on_a.error().ToString();
  EXPECT_TRUE(on_a->changed);
  EXPECT_EQ(s->GetCampaign(Cid("a"))->part(DataPart::kRecentSales), PartStatus::kReady);
  EXPECT_EQ(s->transition_combining().batches, 1);
  EXPECT_EQ(s->transition_combining().combined, 2);
  // The held one waits for its row on its own thread, and applies once it is let go.
  EXPECT_TRUE(testing::Eventually([&] {
    return Query(
               "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND "
               "datname = current_database()") == "1";
  }));
  EXPECT_FALSE(held_done.load());
  LetGo(holds_held);
  t_first.join();
  t_held.join();
  t_a.join();
  ASSERT_TRUE(first) << first.error().ToString();
  ASSERT_TRUE(on_held) << on_held.error().ToString();
  EXPECT_TRUE(on_held->changed);
  EXPECT_EQ(s->GetCampaign(Cid("held"))->part(DataPart::kRecentSales), PartStatus::kReady);
  EXPECT_EQ(s->transition_combining().ran_alone_after_failure, 0);
}

INSTANTIATE_TEST_SUITE_P(Postgres, CombinedTransitionsTest, ::testing::Values(PostgresServer()),
                         NetworkedServerName);

// A connection to a fresh database holding table t (id integer PRIMARY KEY, v integer).
class PgConnectionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (AdminUrl().empty()) GTEST_SKIP() << "DRIPR_TEST_PG_URL is not set";
    db_.emplace();
    ASSERT_TRUE(ExecOn(db_->Url(), "CREATE TABLE t (id integer PRIMARY KEY, v integer)"));
    auto opened = pg::Connection::Open(db_->Url(), 5s);
    ASSERT_TRUE(opened) << opened.error().ToString();
    conn_ = std::move(*opened);
  }
  std::string Query(const std::string& sql) { return QueryOne(db_->Url(), sql); }

  std::optional<TempDatabase> db_;
  std::unique_ptr<pg::Connection> conn_;  // closed before the database is dropped
};

// pg::Connection::Begin sends BEGIN with the first statement (pipeline mode): what the
// transaction sees and leaves behind must be what a separate BEGIN gives.
TEST(PgParamsTest, ValuesAreNulTerminatedInOneBufferNullIsNullptrAndACopyOwnsItsValues) {
  std::optional<pg::Params> p(std::in_place);
  p->Text("a b").Null().Int(-42).Real(0.1).TextOrNull("").Text("").Time(SysTime{});
  ASSERT_EQ(p->size(), 7);
  pg::Params copy = *p;
  p.reset();  // the copy's pointers are into its own buffer
  const std::vector<const char*> v = copy.Pointers();
  ASSERT_EQ(v.size(), 7u);
  EXPECT_STREQ(v[0], "a b");
  EXPECT_EQ(v[1], nullptr);
  EXPECT_STREQ(v[2], "-42");
  EXPECT_STREQ(v[3], "0.1");  // shortest round-trip form
  EXPECT_EQ(v[4], nullptr);   // TextOrNull: empty text is NULL
  EXPECT_STREQ(v[5], "");     // Text: empty text stays empty text
  EXPECT_STREQ(v[6], "1970-01-01T00:00:00.000Z");
}

TEST_F(PgConnectionTest, BeginTravelsWithTheFirstStatementAndBehavesAsASeparateOne) {
  pg::Connection& c = *conn_;
  const std::string insert = "INSERT INTO t (id) VALUES ($1)";
  auto count = [&] { return Query("SELECT count(*) FROM t"); };

  // Committed: the row is there for others, and only after COMMIT.
  c.Begin();
  ASSERT_TRUE(c.Exec(insert, pg::Params().Int(1)));  // new statement: BEGIN + PREPARE + it
  EXPECT_FALSE(c.Idle()) << "inside the transaction";
  EXPECT_EQ(count(), "0") << "not committed yet";
  ASSERT_TRUE(c.Exec(insert, pg::Params().Int(2)));
  ASSERT_TRUE(c.Commit());
  EXPECT_TRUE(c.Idle());
  EXPECT_EQ(count(), "2");

  // A failing first statement: its own error (SQLSTATE mapping), rolled back, and the
  // statement prepared in that pipeline is usable afterwards.
  c.Begin();
  auto dup = c.Exec(insert, pg::Params().Int(1));  // prepared already: BEGIN + it
  ASSERT_FALSE(dup);
  EXPECT_EQ(dup.error().code, ErrorCode::kAlreadyExists) << dup.error().ToString();
  c.Rollback();
  EXPECT_TRUE(c.Idle());
  const std::string divide = "SELECT 10 / $1::integer";
  c.Begin();
  auto zero = c.Exec(divide, pg::Params().Int(0));  // new statement, fails after PREPARE
  ASSERT_FALSE(zero);
  EXPECT_EQ(zero.error().code, ErrorCode::kInvalidArgument) << zero.error().ToString();
  c.Rollback();
  auto five = c.Exec(divide, pg::Params().Int(2));
  ASSERT_TRUE(five) << five.error().ToString();
  EXPECT_EQ(five->Int(0, 0), 5);

  // Rolled back: nothing of it stays; a script or COPY sends the BEGIN alone first.
  c.Begin();
  ASSERT_TRUE(c.Exec(insert, pg::Params().Int(3)));
  c.Rollback();
  c.Begin();
  ASSERT_TRUE(c.ExecScript("INSERT INTO t (id) VALUES (4)"));
  EXPECT_FALSE(c.Idle());
  c.Rollback();
  EXPECT_EQ(count(), "2");

  // No statement at all: nothing to commit, the connection stays idle and usable.
  c.Begin();
  ASSERT_TRUE(c.Commit());
  EXPECT_TRUE(c.Idle());
  ASSERT_TRUE(c.Exec(insert, pg::Params().Int(5)));  // outside a transaction: committed alone
  EXPECT_EQ(count(), "3");
}

// pg::Connection::ExecAll: several statements in one round trip, each one's rows.
TEST_F(PgConnectionTest, ExecAllRunsStatementsInOneRoundTripInOrderAndStopsAtAFailure) {
  pg::Connection& c = *conn_;
  const std::string insert = "INSERT INTO t (id, v) VALUES ($1, 0) RETURNING id";
  const std::string count = "SELECT count(*) FROM t WHERE id = $1";
  auto committed = [&](int id) {
    return Query("SELECT count(*) FROM t WHERE id = " + std::to_string(id));
  };

  // Outside a transaction: one implicit transaction; the later statement sees the earlier's
  // write, and it is committed at the end.
  const pg::Params ten = pg::Params().Int(10);
  auto rows = c.ExecAll({{{insert, ten}, {count, ten}}});
  ASSERT_TRUE(rows) << rows.error().ToString();
  ASSERT_EQ(rows->size(), 2u);
  EXPECT_EQ((*rows)[0].Int(0, 0), 10);
  EXPECT_EQ((*rows)[1].Int(0, 0), 1);
  EXPECT_EQ(committed(10), "1");
  EXPECT_TRUE(c.Idle());

  // A failure is the call's, with its own code; the statements after it do not run and the
  // ones before it are not committed.
  const pg::Params eleven = pg::Params().Int(11);
  auto dup = c.ExecAll({{{insert, eleven}, {insert, ten}, {insert, pg::Params().Int(12)}}});
  ASSERT_FALSE(dup);
  EXPECT_EQ(dup.error().code, ErrorCode::kAlreadyExists) << dup.error().ToString();
  EXPECT_EQ(committed(11), "0");
  EXPECT_EQ(committed(12), "0");
  EXPECT_TRUE(c.Idle());

  // Inside a transaction: after the BEGIN and the queued writes, in the same round trip.
  c.Begin();
  ASSERT_TRUE(c.Queue("INSERT INTO t (id, v) VALUES (13, 0)", pg::Params()));
  auto inside = c.ExecAll({{{count, pg::Params().Int(13)}, {count, ten}}});
  ASSERT_TRUE(inside) << inside.error().ToString();
  EXPECT_EQ((*inside)[0].Int(0, 0), 1);
  EXPECT_EQ((*inside)[1].Int(0, 0), 1);
  EXPECT_EQ(committed(13), "0") << "not committed yet";
  ASSERT_TRUE(c.Commit());
  EXPECT_EQ(committed(13), "1");

  // No statement: nothing sent.
  auto none = c.ExecAll({});
  ASSERT_TRUE(none);
  EXPECT_TRUE(none->empty());
}

// pg::Connection::Queue: writes sent with the transaction's next round trip (the COMMIT's).
TEST_F(PgConnectionTest, QueuedWritesTravelWithTheCommitAndFailItWhenTheyFail) {
  pg::Connection& c = *conn_;
  const std::string insert = "INSERT INTO t (id, v) VALUES ($1, 0)";
  const std::string bump = "UPDATE t SET v = v + 1 WHERE id = $1";
  auto count = [&] { return Query("SELECT count(*) FROM t"); };
  auto v_of = [&](int id) { return Query("SELECT v FROM t WHERE id = " + std::to_string(id)); };

  // Queued writes are not sent until the COMMIT, then all of them are committed; the same new
  // statement twice in one pipeline is prepared once.
  c.Begin();
  ASSERT_TRUE(c.Queue(insert, pg::Params().Int(1)));
  ASSERT_TRUE(c.Queue(insert, pg::Params().Int(2)));
  EXPECT_TRUE(c.Idle()) << "nothing sent yet";
  ASSERT_TRUE(c.Queue(bump, pg::Params().Int(1), "row 1 changed"));
  ASSERT_TRUE(c.Commit());
  EXPECT_TRUE(c.Idle());
  EXPECT_EQ(count(), "2");
  EXPECT_EQ(v_of(1), "1");

  // A read after queued writes sees them (they go first, in the read's round trip).
  c.Begin();
  ASSERT_TRUE(c.Queue(insert, pg::Params().Int(3)));
  auto seen = c.Exec("SELECT count(*) FROM t");
  ASSERT_TRUE(seen) << seen.error().ToString();
  EXPECT_EQ(seen->Int(0, 0), 3);
  c.Rollback();
  EXPECT_EQ(count(), "2");

  // A failing queued write fails the COMMIT with its own error, and nothing of the
  // transaction stays (the COMMIT in the same pipeline did not run).
  c.Begin();
  ASSERT_TRUE(c.Queue(insert, pg::Params().Int(4)));
  ASSERT_TRUE(c.Queue(insert, pg::Params().Int(1)));  // duplicate key
  auto dup = c.Commit();
  ASSERT_FALSE(dup);
  EXPECT_EQ(dup.error().code, ErrorCode::kAlreadyExists) << dup.error().ToString();
  c.Rollback();
  EXPECT_TRUE(c.Idle());
  EXPECT_EQ(count(), "2");

  // A write that must change one row and changes none: kAborted with the caller's message,
  // the writes before it undone.
  c.Begin();
  ASSERT_TRUE(c.Queue(insert, pg::Params().Int(5)));
  ASSERT_TRUE(c.Queue(bump, pg::Params().Int(99), "row 99 changed"));
  auto miss = c.Commit();
  ASSERT_FALSE(miss);
  EXPECT_EQ(miss.error().code, ErrorCode::kAborted) << miss.error().ToString();
  EXPECT_EQ(miss.error().message, "row 99 changed");
  c.Rollback();
  EXPECT_EQ(count(), "2");

  // Outside a transaction a queued write runs at once, with the same check.
  ASSERT_TRUE(c.Queue(bump, pg::Params().Int(2), "row 2 changed"));
  EXPECT_EQ(v_of(2), "1");
  auto alone = c.Queue(bump, pg::Params().Int(99), "row 99 changed");
  ASSERT_FALSE(alone);
  EXPECT_EQ(alone.error().code, ErrorCode::kAborted);
  EXPECT_TRUE(c.Idle());
}

}  // namespace postgres_store_test
}  // namespace dripr
