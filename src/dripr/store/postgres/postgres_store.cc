// PostgresStore: opening, retries, migrations, campaigns and transitions. Part rows, market
// data and zip codes are in postgres_store_data.cc; the outbox is in postgres_outbox.cc.

#include "dripr/store/postgres/postgres_store.h"

#include "dripr/core/time.h"
#include "dripr/store/migrations/migrations.h"
#include "dripr/store/postgres/pg_rows.h"
#include "dripr/store/store_common.h"

namespace dripr {

using pg::Connection;
using pg::Params;
using pg::Rows;

PostgresStore::PostgresStore(PostgresStoreOptions options, const Clock* clock)
    : NetworkedStore(options.required_parts, options.outbox_poll_interval, options.ticker,
                     options.random),
      options_(std::move(options)),
      clock_(clock),
      pool_(options_.url, options_.pool_size, options_.connect_timeout, options_.acquire_timeout,
            options_.ticker) {}

Result<std::unique_ptr<PostgresStore>> PostgresStore::Open(PostgresStoreOptions options) {
  if (options.url.empty()) return Fail(ErrorCode::kInvalidArgument, "PostgreSQL URL is empty");
  const Clock* clock = options.clock != nullptr ? options.clock : &SystemClock::Instance();
  std::unique_ptr<PostgresStore> store(new PostgresStore(std::move(options), clock));
  auto lease = store->pool_.Acquire();
  if (!lease) return Fail(lease.error());
  return store;
}

PostgresStore::~PostgresStore() {
  {
    std::lock_guard lock(listener_mu_);
    stop_ = true;
  }
  listener_cv_.notify_all();
  if (listener_.joinable()) listener_.join();
}

SysTime PostgresStore::Now() const { return TruncateToMillis(clock_->Now()); }

Status PostgresStore::InTransactionOn(Connection& c, const Work& fn) {
  c.Begin();  // sent with the first statement: one round trip fewer per transaction
  Status body = fn(c);
  if (body) body = c.Commit();
  if (!body) c.Rollback();
  return body;
}

// ---- Migrations ----

Result<int> PostgresStore::ReadSchemaVersion(Connection& c) {
  DRIPR_ASSIGN_OR_RETURN(Rows exists,
                         c.Exec("SELECT to_regclass('schema_migrations') IS NOT NULL"));
  if (exists.Text(0, 0) != "t") return 0;
  DRIPR_ASSIGN_OR_RETURN(Rows v, c.Exec("SELECT coalesce(max(version), 0) FROM schema_migrations"));
  return static_cast<int>(v.Int(0, 0));
}

Status PostgresStore::Migrate() {
  const std::string applied_at = pg::TimeParam(Now());
  return InTransaction("migrate", [&](Connection& c) -> Status {
    // Several processes may migrate at once: one at a time, the others then find it done.
    DRIPR_TRY(c.Exec("SELECT pg_advisory_xact_lock(7262430001)"));
    DRIPR_TRY(
        c.ExecScript("CREATE TABLE IF NOT EXISTS schema_migrations ("
                     "version integer PRIMARY KEY, applied_at timestamptz NOT NULL)"));
    DRIPR_ASSIGN_OR_RETURN(int current, ReadSchemaVersion(c));
    return ApplyMigrations(
        current, PostgresMigrations(), [&](const Migration& m) { return c.ExecScript(m.sql); },
        [&](const Migration& m) -> Status {
          DRIPR_TRY(
              c.Exec("INSERT INTO schema_migrations (version, applied_at) "
                     "VALUES ($1, $2::timestamptz)",
                     Params().Int(m.version).Text(applied_at)));
          return Ok();
        });
  });
}

}  // namespace dripr
