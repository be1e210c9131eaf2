// MysqlStore: opening, retries, migrations, campaigns and the transition statements. Part
// rows, market data and zip codes are in mysql_store_data.cc; the outbox is in
// mysql_outbox.cc.

#include "dripr/store/mysql/mysql_store.h"

#include "dripr/store/migrations/migrations.h"
#include "dripr/store/mysql/my_rows.h"
#include "dripr/store/store_common.h"

namespace dripr {

using my::Connection;
using my::Params;
using my::Rows;

MysqlStore::MysqlStore(MysqlStoreOptions options, my::Url url, const Clock* clock)
    : NetworkedStore(options.required_parts, options.outbox_poll_interval, options.ticker,
                     options.random),
      options_(std::move(options)),
      clock_(clock),
      pool_(std::move(url), options_.pool_size, options_.connect_timeout, options_.acquire_timeout,
            options_.ticker) {}

Result<std::unique_ptr<MysqlStore>> MysqlStore::Open(MysqlStoreOptions options) {
  DRIPR_ASSIGN_OR_RETURN(my::Url url, my::Url::Parse(options.url));
  const Clock* clock = options.clock != nullptr ? options.clock : &SystemClock::Instance();
  std::unique_ptr<MysqlStore> store(new MysqlStore(std::move(options), std::move(url), clock));
  auto lease = store->pool_.Acquire();
  if (!lease) return Fail(lease.error());
  return store;
}

SysTime MysqlStore::Now() const { return TruncateToMillis(clock_->Now()); }

Status MysqlStore::InTransactionOn(Connection& c, const Work& fn) {
  DRIPR_TRY(c.Query("START TRANSACTION"));
  Status body = fn(c);
  if (body) body = c.Query("COMMIT");
  // A connection whose ROLLBACK fails is not reused (its session state is unknown).
  if (!body && c.Healthy() && !c.Query("ROLLBACK")) c.MarkBroken();
  return body;
}

// ---- Migrations ----

Result<int> MysqlStore::ReadSchemaVersion(Connection& c) {
  DRIPR_ASSIGN_OR_RETURN(Rows exists,
                         c.Exec("SELECT COUNT(*) FROM information_schema.tables WHERE "
                                "table_schema = DATABASE() AND table_name = 'schema_migrations'"));
  if (exists.Int(0, 0) == 0) return 0;
  DRIPR_ASSIGN_OR_RETURN(Rows v, c.Exec("SELECT COALESCE(MAX(version), 0) FROM schema_migrations"));
  return static_cast<int>(v.Int(0, 0));
}

namespace {

// A migration's statements: separated by ';' at the end of a line.
std::vector<std::string> Statements(std::string_view sql) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start < sql.size()) {
    size_t end = sql.find(";\n", start);
    if (end == std::string_view::npos) end = sql.size();
    std::string s(sql.substr(start, end - start));
    if (s.find_first_not_of(" \n\t") != std::string::npos) out.push_back(std::move(s));
    start = end + 2;
  }
  return out;
}

// Named locks are server-wide: the database's name is part of the lock's (hashed, since a
// name is at most 64 characters), so databases on one server do not wait for each other.
constexpr std::string_view kMigrateLock = "dripr_migrate_";

}  // namespace

Status MysqlStore::Migrate() {
  // DDL commits implicitly in MySQL, so migrations cannot share one transaction; a named
  // lock (held by this session) makes concurrent `dripr migrate` runs take turns, and the
  // second finds the work done.
  return Read("migrate", [&](Connection& c) -> Status {
    DRIPR_ASSIGN_OR_RETURN(Rows locked, c.Exec("SELECT GET_LOCK(CONCAT(?, MD5(DATABASE())), 60)",
                                               Params().Text(kMigrateLock)));
    if (locked.Int(0, 0) != 1) {
      return Fail(ErrorCode::kUnavailable,
                  "another `dripr migrate` has held the migration lock for 60 s");
    }
    Status st = [&]() -> Status {
      DRIPR_TRY(
          c.Query("CREATE TABLE IF NOT EXISTS schema_migrations (version INT NOT NULL "
                  "PRIMARY KEY, applied_at DATETIME(6) NOT NULL) ENGINE=InnoDB DEFAULT "
                  "CHARSET=utf8mb4 COLLATE=utf8mb4_bin"));
      DRIPR_ASSIGN_OR_RETURN(int current, ReadSchemaVersion(c));
      return ApplyMigrations(
          current, MysqlMigrations(),
          [&](const Migration& m) -> Status {
            for (const std::string& statement : Statements(m.sql)) DRIPR_TRY(c.Query(statement));
            return Ok();
          },
          [&](const Migration& m) -> Status {
            DRIPR_TRY(c.Exec("INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)",
                             Params().Int(m.version).Time(Now())));
            return Ok();
          });
    }();
    auto released =
        c.Exec("SELECT RELEASE_LOCK(CONCAT(?, MD5(DATABASE())))", Params().Text(kMigrateLock));
    if (!released) c.MarkBroken();  // closing the session releases the lock
    return st;
  });
}

}  // namespace dripr
