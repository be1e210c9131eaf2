// SqliteStore: the Store contract suite on a temporary file, plus what is specific to SQLite
// (several processes on one file, lock timeouts, the schema's exact names, zip centroid data,
// DATABASE_URL parsing).

#include "dripr/store/sqlite/sqlite_store.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <iostream>
#include <thread>

#include "dripr/domain/event.h"
#include "dripr/store/migrations/migrations.h"
#include "support/campaign_ids.h"
#include "support/ctest_env.h"
#include "support/poll.h"
#include "support/store_contract.h"

namespace dripr {
namespace {

using ::testing::ElementsAreArray;
using ::testing::HasSubstr;
using ::testing::Not;
using namespace std::chrono_literals;

// A fresh directory per test, removed (with the database and its -wal/-shm files) at the end.
class TempDir {
 public:
  TempDir() {
    std::string pattern = ::testing::TempDir() + "/dripr_store_XXXXXX";
    char* made = ::mkdtemp(pattern.data());
    EXPECT_NE(made, nullptr) << "mkdtemp " << pattern;
    path_ = pattern;
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  std::string File(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

StorePtr OpenSqlite(const std::string& path, const Clock* clock, const RequiredParts& required,
                    std::chrono::milliseconds busy_timeout = 10s,
                    std::chrono::milliseconds outbox_poll_interval = 500ms) {
  SqliteStoreOptions o;
  o.path = path;
  o.clock = clock;
  o.required_parts = required;
  o.busy_timeout = busy_timeout;
  o.outbox_poll_interval = outbox_poll_interval;
  auto s = SqliteStore::Open(std::move(o));
  EXPECT_TRUE(s) << s.error().ToString();
  return s ? StorePtr(std::move(*s)) : nullptr;
}

// Raw SQL through a separate connection, as another program would.
Status ExecRaw(const std::string& path, const std::string& sql) {
  sqlite3* db = nullptr;
  int rc = sqlite3_open(path.c_str(), &db);
  if (rc == SQLITE_OK) {
    sqlite3_busy_timeout(db, 10000);
    rc = sqlite3_exec(db, sql.c_str(), nullptr, nullptr, nullptr);
  }
  std::string msg = sqlite3_errmsg(db);
  sqlite3_close(db);
  if (rc != SQLITE_OK) return Fail(ErrorCode::kInternal, msg);
  return Ok();
}

// The contract's stores re-read the outbox as a fallback only every 30 s, longer than the
// 20 s its wake-up tests wait: a commit through another store on the file
// (WaitForOutboxWakesOnACommitFromAnotherInstance) must wake the waiter itself, as another
// program's does through the change watcher (AnotherProgramsOutboxRowWakesTheWaiter...).
constexpr auto kContractOutboxFallback = 30s;

StoreUnderTest MakeSqliteStore(const Clock* clock, const RequiredParts& required) {
  auto dir = std::make_shared<TempDir>();
  std::string path = dir->File("dripr.db");
  StoreUnderTest t;
  t.store = OpenSqlite(path, clock, required, 10s, kContractOutboxFallback);
  if (t.store) {
    auto migrated = t.store->Migrate();
    EXPECT_TRUE(migrated) << migrated.error().ToString();
  }
  // The lambdas own the directory: it goes away with the StoreUnderTest.
  t.reopen = [dir, path, required](const Clock* c) {
    return OpenSqlite(path, c, required, 10s, kContractOutboxFallback);
  };
  t.exec_sql = [dir, path](const std::string& sql) { return ExecRaw(path, sql); };
  return t;
}

INSTANTIATE_TEST_SUITE_P(Sqlite, StoreContractTest,
                         ::testing::Values(StoreBackend{"sqlite", &MakeSqliteStore}),
                         StoreBackendName);

// ---------------------------------------------------------------- SQLite specifics

class SqliteStoreTest : public ::testing::Test {
 protected:
  std::string Path() const { return dir_.File("dripr.db"); }
  StorePtr Open(std::chrono::milliseconds busy_timeout = 10s) {
    return OpenSqlite(Path(), &clock_, RequiredParts(), busy_timeout);
  }
  // One full cycle of a campaign: create, start, the three parts (fan-in).
  static NewCampaign Simple(const std::string& id) {
    NewCampaign c;
    c.id = id;
    c.zip_code = "02139";
    return c;
  }
  static Status RunCampaign(Store& s, const std::string& id) {
    DRIPR_TRY(s.CreateCampaign(Simple(id)));
    DRIPR_ASSIGN_OR_RETURN(TransitionOutcome started, s.StartCampaign(Cid(id)));
    if (!started.changed) return Fail(ErrorCode::kInternal, "start: " + started.reason);
    const int64_t cycle = started.campaign.data_cycle;
    RankedRecord r;
    r.rank = 1;
    r.record.source_id = id;
    for (DataPart p : kAllDataParts) {
      PartData d{p, {r, r}, std::nullopt};
      if (p == DataPart::kLocalMarketData) {
        d.records.clear();
        d.market = MarketData{"", MarketMonth{"2026-10", 1, 2, 3, 4}, MarketMonth{}, {}};
      }
      DRIPR_ASSIGN_OR_RETURN(TransitionOutcome done, s.CompletePart(Cid(id), cycle, d));
      if (!done.changed) return Fail(ErrorCode::kInternal, "complete: " + done.reason);
    }
    return Ok();
  }

  TempDir dir_;
  ManualClock clock_{SysTime{} + std::chrono::days(20000)};
};

TEST_F(SqliteStoreTest, SchemaHasTheContractTablesAndColumns) {
  auto s = Open();
  ASSERT_TRUE(s->Migrate());
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(Path().c_str(), &db), SQLITE_OK);
  auto columns = [&](const std::string& table) {
    std::vector<std::string> out;
    sqlite3_stmt* st = nullptr;
    EXPECT_EQ(
        sqlite3_prepare_v2(db, ("PRAGMA table_info(" + table + ")").c_str(), -1, &st, nullptr),
        SQLITE_OK);
    while (sqlite3_step(st) == SQLITE_ROW) {
      out.emplace_back(reinterpret_cast<const char*>(sqlite3_column_text(st, 1)));
    }
    sqlite3_finalize(st);
    return out;
  };
  using V = std::vector<std::string>;
  EXPECT_THAT(columns("campaigns"),
              ElementsAreArray(V{"id", "user_id", "zip_code", "no_address_newsletter",
                                 "campaign_status", "local_market_data_status",
                                 "active_listing_status", "recent_sale_status", "data_cycle",
                                 "error_text", "created_at", "updated_at", "status_changed_at",
                                 "parts_changed_at", "republish_count", "restart_count"}));
  EXPECT_THAT(columns("property_data"),
              ElementsAreArray(
                  V{"campaign_id", "formatted_address", "latitude", "longitude", "current_value"}));
  V listing = {"id",
               "campaign_id",
               "rank",
               "score",
               "price",
               "formatted_address",
               "address_line1",
               "city",
               "state",
               "zip_code",
               "latitude",
               "longitude",
               "property_type",
               "bedrooms",
               "bathrooms",
               "square_footage",
               "listed_date",
               "days_on_market",
               "distance_miles",
               "source_id"};
  EXPECT_THAT(columns("active_listings"), ElementsAreArray(listing));
  EXPECT_THAT(columns("recent_sales"),
              ElementsAreArray(V{"id", "campaign_id", "rank", "score", "sale_price",
                                 "formatted_address", "address_line1", "city", "state", "zip_code",
                                 "latitude", "longitude", "property_type", "bedrooms", "bathrooms",
                                 "square_footage", "sale_date", "distance_miles", "source_id"}));
  EXPECT_THAT(
      columns("local_market_data"),
      ElementsAreArray(V{"id", "zip_code", "month", "average_price", "average_price_per_sqft",
                         "average_days_on_market", "total_listings", "old_month",
                         "old_average_price", "old_average_price_per_sqft",
                         "old_average_days_on_market", "old_total_listings", "created_at"}));
  EXPECT_THAT(columns("zip_codes"), ElementsAreArray(V{"zip_code", "latitude", "longitude"}));
  EXPECT_THAT(columns("outbox"),
              ElementsAreArray(V{"id", "topic", "campaign_id", "event_type", "body", "attributes",
                                 "created_at", "published_at", "attempts", "claimed_until",
                                 "claim_token", "failed_reason"}));
  EXPECT_THAT(columns("schema_migrations"), ElementsAreArray(V{"version", "applied_at"}));

  sqlite3_stmt* st = nullptr;
  ASSERT_EQ(sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1, &st, nullptr), SQLITE_OK);
  ASSERT_EQ(sqlite3_step(st), SQLITE_ROW);
  EXPECT_STREQ(reinterpret_cast<const char*>(sqlite3_column_text(st, 0)), "wal");
  sqlite3_finalize(st);
  sqlite3_close(db);
}

TEST(SqliteMigrations, VersionsRunFromOneToLatestWithoutGaps) {
  int expected = 1;
  for (const Migration& m : SqliteMigrations()) {
    EXPECT_EQ(m.version, expected++);
    EXPECT_FALSE(m.sql.empty());
  }
  EXPECT_EQ(expected - 1, kLatestSchemaVersion);
}

TEST_F(SqliteStoreTest, EmptyDatabaseHasSchemaVersionZeroUntilMigrated) {
  auto s = Open();
  EXPECT_EQ(*s->SchemaVersion(), 0);
  ASSERT_TRUE(s->Migrate());
  EXPECT_EQ(*s->SchemaVersion(), kLatestSchemaVersion);
}

TEST_F(SqliteStoreTest, ALockedDatabaseIsUnavailableAfterTheBusyTimeout) {
  auto s = Open(/*busy_timeout=*/100ms);
  ASSERT_TRUE(s->Migrate());
  ASSERT_TRUE(s->CreateCampaign(Simple("c-1")));
  sqlite3* other = nullptr;
  ASSERT_EQ(sqlite3_open(Path().c_str(), &other), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(other, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr), SQLITE_OK);

  auto started = s->StartCampaign(Cid("c-1"));
  ASSERT_FALSE(started);
  EXPECT_EQ(started.error().code, ErrorCode::kUnavailable);
  EXPECT_THAT(started.error().message, HasSubstr("database is locked"));
  EXPECT_TRUE(started.error().Retryable());
  // WAL: readers are not blocked by the writer.
  auto read = s->GetCampaign(Cid("c-1"));
  ASSERT_TRUE(read) << read.error().ToString();
  EXPECT_EQ(read->status, CampaignStatus::kDormant);

  ASSERT_EQ(sqlite3_exec(other, "ROLLBACK", nullptr, nullptr, nullptr), SQLITE_OK);
  sqlite3_close(other);
  auto retried = s->StartCampaign(Cid("c-1"));
  ASSERT_TRUE(retried) << retried.error().ToString();
  EXPECT_TRUE(retried->changed);
}

// Two SqliteStore instances on one file behave like two processes: each has its own
// connections and in-process write lock, so they contend through SQLite's file locks.
TEST_F(SqliteStoreTest, TwoInstancesOnOneFileNeverLeakBusyErrors) {
  auto a = Open();
  auto b = Open();
  ASSERT_TRUE(a->Migrate());
  ASSERT_TRUE(b->Migrate());
  constexpr int kPerThread = 25;
  std::vector<std::thread> threads;
  std::vector<std::string> errors[4];
  Store* stores[2] = {a.get(), b.get()};
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        std::string id = "t" + std::to_string(t) + "-" + std::to_string(i);
        auto r = RunCampaign(*stores[t % 2], id);
        if (!r) errors[t].push_back(id + ": " + r.error().ToString());
      }
    });
  }
  // A relay on instance b publishes while the others write.
  std::atomic<bool> stop{false};
  std::vector<std::string> relay_errors;
  std::thread relay([&] {
    while (!stop.load()) {
      auto rows = b->ClaimOutbox(50, 30s);
      if (!rows) {
        relay_errors.push_back(rows.error().ToString());
        continue;
      }
      std::vector<int64_t> ids;
      for (const auto& r : *rows) ids.push_back(r.id);
      if (auto m = b->MarkPublished(ids); !m) relay_errors.push_back(m.error().ToString());
      if (rows->empty()) b->WaitForOutbox(20ms);
    }
  });
  for (auto& th : threads) th.join();
  stop = true;
  relay.join();
  for (const auto& e : errors) EXPECT_THAT(e, ::testing::IsEmpty());
  EXPECT_THAT(relay_errors, ::testing::IsEmpty());
  auto ready = a->ListCampaigns(CampaignStatus::kReadyToCreateEmail);
  ASSERT_TRUE(ready);
  EXPECT_EQ(ready->size(), 4u * kPerThread);
  for (const auto& c : *ready) EXPECT_EQ(a->OutboxForCampaign(c.id)->size(), 2u) << c.id;
}

// Real processes: children fork before this process opens anything, run whole campaign
// cycles on the shared file and report through their exit status.
// Issue 14: another program's outbox row wakes a waiting relay through the change watcher
// (inotify on the WAL), not the fallback poll, which is set to 30 s here.
TEST_F(SqliteStoreTest, AnotherProgramsOutboxRowWakesTheWaiterWithoutPolling) {
  SqliteStoreOptions o;
  o.path = Path();
  o.clock = &clock_;
  o.outbox_poll_interval = 30s;
  auto waiter = SqliteStore::Open(std::move(o));
  ASSERT_TRUE(waiter) << waiter.error().ToString();
  ASSERT_TRUE((*waiter)->Migrate());
  ASSERT_TRUE((*waiter)->ClaimOutbox(10, 30s));
  (*waiter)->WaitForOutbox(50ms);  // starts the watcher
  std::chrono::steady_clock::time_point committed, woke;
  std::atomic<pid_t> waiter_tid{0};
  std::atomic<bool> returned{false};
  std::thread t([&] {
    waiter_tid = dripr::testing::ThisThreadId();
    (*waiter)->WaitForOutbox(20s);
    woke = std::chrono::steady_clock::now();
    returned = true;
  });
  // Once the waiter is most likely blocked; the assertion holds either way (a row seen on
  // entry returns at once too, and the fallback would take 30 s).
  EXPECT_TRUE(dripr::testing::Eventually(
      [&] { return returned || dripr::testing::ThreadIsAsleep(waiter_tid); }));
  ASSERT_TRUE(ExecRaw(Path(),
                      "INSERT INTO outbox (topic, campaign_id, event_type, body, created_at) "
                      "VALUES ('t', 'c', 'STATUS_CHANGE', '{}', '2026-01-01T00:00:00.000Z')"));
  committed = std::chrono::steady_clock::now();
  t.join();
  EXPECT_LT(woke - committed, 10s);  // woken: the wait is 20 s and the fallback 30 s
}

TEST_F(SqliteStoreTest, SeveralProcessesShareOneFile) {
  {
    auto s = Open();
    ASSERT_TRUE(s->Migrate());
  }
  constexpr int kChildren = 3;
  constexpr int kPerChild = 20;
  std::vector<pid_t> pids;
  for (int k = 0; k < kChildren; ++k) {
    pid_t pid = ::fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      int code = 0;
      {
        auto s = Open();
        for (int i = 0; s && i < kPerChild && code == 0; ++i) {
          auto r = RunCampaign(*s, "p" + std::to_string(k) + "-" + std::to_string(i));
          if (!r) {
            std::cerr << "child " << k << ": " << r.error().ToString() << "\n";
            code = 1;
          }
        }
        if (!s) code = 2;
      }
      ::_exit(code);
    }
    pids.push_back(pid);
  }
  for (pid_t pid : pids) {
    int status = 0;
    ASSERT_EQ(::waitpid(pid, &status, 0), pid);
    ASSERT_TRUE(WIFEXITED(status));
    EXPECT_EQ(WEXITSTATUS(status), 0);
  }
  auto s = Open();
  auto ready = s->ListCampaigns(CampaignStatus::kReadyToCreateEmail);
  ASSERT_TRUE(ready);
  EXPECT_EQ(ready->size(), static_cast<size_t>(kChildren * kPerChild));
  EXPECT_EQ(*s->PendingOutboxCount(), 2 * kChildren * kPerChild);
}

TEST_F(SqliteStoreTest, LoadsTheShippedZipCentroids) {
  auto s = Open();
  ASSERT_TRUE(s->Migrate());
  const std::string csv = testing::DataDir() + "/zip_codes.csv";
  auto t0 = std::chrono::steady_clock::now();
  auto loaded = s->LoadZipCodes(csv);
  auto took =
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0);
  ASSERT_TRUE(loaded) << loaded.error().ToString();
  std::cout << "LoadZipCodes(" << csv << "): " << took.count() << " ms\n";
  RecordProperty("load_zip_codes_ms", static_cast<int>(took.count()));

  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(Path().c_str(), &db), SQLITE_OK);
  sqlite3_stmt* st = nullptr;
  ASSERT_EQ(sqlite3_prepare_v2(db, "SELECT count(*) FROM zip_codes", -1, &st, nullptr), SQLITE_OK);
  ASSERT_EQ(sqlite3_step(st), SQLITE_ROW);
  EXPECT_EQ(sqlite3_column_int64(st, 0), 33791);
  sqlite3_finalize(st);
  sqlite3_close(db);

  auto cambridge = s->ZipCentroid("02139");
  ASSERT_TRUE(cambridge) << cambridge.error().ToString();
  ASSERT_TRUE(cambridge->has_value());
  EXPECT_NEAR((*cambridge)->lat, 42.36, 0.02);
  EXPECT_NEAR((*cambridge)->lng, -71.10, 0.02);

  // Loading again (every start does) is a cheap no-op.
  t0 = std::chrono::steady_clock::now();
  ASSERT_TRUE(s->LoadZipCodes(csv));
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 1s);
}

// ---------------------------------------------------------------- OpenStore

TEST(OpenStore, OpensSqliteUrlsAndCreatesTheFile) {
  TempDir dir;
  for (const std::string& url : {"sqlite:" + dir.File("a.db"), "sqlite://" + dir.File("b.db")}) {
    StoreOptions o;
    o.database_url = url;
    auto s = OpenStore(o);
    ASSERT_TRUE(s) << url << ": " << s.error().ToString();
    ASSERT_TRUE((*s)->Migrate());
    EXPECT_EQ(*(*s)->SchemaVersion(), kLatestSchemaVersion);
  }
  EXPECT_TRUE(std::filesystem::exists(dir.File("a.db")));
  EXPECT_TRUE(std::filesystem::exists(dir.File("b.db")));
}

TEST(OpenStore, RejectsBadUrlsWithoutEchoingSecrets) {
  struct Case {
    std::string url;
    ErrorCode code;
    std::string message;
    std::string secret = "s3cret";  // never in the message
  };
  for (const Case& c : std::vector<Case>{
           {"sqlite:", ErrorCode::kInvalidArgument, "DATABASE_URL: sqlite database path is empty"},
           {"sqlite::memory:", ErrorCode::kInvalidArgument, "in-memory"},
           {"postgresql://dripr:s3cret@127.0.0.1:1/dripr", ErrorCode::kUnavailable,
            "cannot connect to PostgreSQL"},
           {"postgres://dripr:s3cret@127.0.0.1:1/dripr", ErrorCode::kUnavailable,
            "cannot connect to PostgreSQL"},
           {"mysql://dripr:s3cret@127.0.0.1:1/dripr", ErrorCode::kUnavailable,
            "cannot connect to MySQL"},
           {"mariadb://dripr:s3cret@127.0.0.1:1/dripr?ssl-mode=bogus", ErrorCode::kInvalidArgument,
            "ssl-mode must be"},
           {"oracle://dripr:s3cret@db/dripr", ErrorCode::kInvalidArgument,
            "unsupported scheme \"oracle\""},
           {"sqlite:/nonexistent-dir-for-dripr/x.db", ErrorCode::kUnavailable, "unable to open"},
           // libpq's messages about a URL it cannot parse quote the password or the whole URL.
           {"postgresql://app:50%off@db/dripr", ErrorCode::kInvalidArgument,
            "not a valid PostgreSQL URL (libpq: invalid percent-encoded token", "50%off"},
           {"postgresql://u:s3cret@[::1/x", ErrorCode::kInvalidArgument,
            "not a valid PostgreSQL URL (libpq: end of string reached"},
           {"postgresql://u:s3cret@127.0.0.1:1/x?bogus=1", ErrorCode::kInvalidArgument,
            "invalid URI query parameter"},
           {"postgresql://u:s3cret@127.0.0.1:1/x?password=a=b", ErrorCode::kInvalidArgument,
            "extra key/value separator", "a=b"},
           // Refused before connecting, not a server's problem; the value is not the password.
           {"postgresql://u:s3cret@127.0.0.1:abc/x", ErrorCode::kInvalidArgument,
            "invalid integer value \"abc\" for connection option \"port\""},
           // A message that would quote the password has it replaced.
           {"postgresql://u@127.0.0.1:1/x?password=s3cret&sslmode=s3cret",
            ErrorCode::kInvalidArgument, "invalid sslmode value: \"****\""},
           // An unencoded '/' or '@' in the password: libpq reads part of it as the port
           // ("invalid integer value \"xyzzy\"") or the host.
           {"postgresql://u:xyzzy/plugh@127.0.0.1:1/x", ErrorCode::kInvalidArgument,
            "must be percent-encoded", "xyzzy"},
           {"postgresql://u:xyzzy@plugh@127.0.0.1:1/x", ErrorCode::kInvalidArgument,
            "must be percent-encoded", "plugh"},
       }) {
    StoreOptions o;
    o.database_url = c.url;
    auto s = OpenStore(o);
    ASSERT_FALSE(s) << c.url;
    EXPECT_EQ(s.error().code, c.code) << c.url << ": " << s.error().ToString();
    EXPECT_THAT(s.error().message, HasSubstr(c.message)) << c.url;
    EXPECT_THAT(s.error().message, Not(HasSubstr(c.secret))) << c.url;
    EXPECT_THAT(s.error().message, Not(HasSubstr("s3cret"))) << c.url;
  }
}

}  // namespace
}  // namespace dripr
