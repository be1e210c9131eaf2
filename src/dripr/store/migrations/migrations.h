#pragma once
// Versioned schema migrations (docs/contracts.md §3). Every SQL dialect has its own SQL for the
// SAME versions and the same tables/columns; kLatestSchemaVersion is the one place that says how
// far the lists go, MigrationList the one place that numbers and names them. A new migration
// bumps the constant, adds its name to MigrationList and its SQL to every dialect: written once
// from the Dialect's types where it can be (as V2Sql, V3Sql), by hand in each dialect where it
// cannot. The SQL of a version already shipped never changes: tests/store/migrations_test.cc
// pins it.
//
// Bookkeeping table (every dialect): schema_migrations(version INTEGER PRIMARY KEY,
// applied_at TEXT NOT NULL), one row per applied migration.

#include <array>
#include <functional>
#include <initializer_list>
#include <span>
#include <string>
#include <string_view>

#include "dripr/core/error.h"

namespace dripr {

inline constexpr int kLatestSchemaVersion = 5;

struct Migration {
  int version = 0;        // 1, 2, ... without gaps
  std::string_view name;  // short description, for logs
  std::string_view sql;   // one or more statements, run inside one transaction
};

// v4, the same text in every dialect: the dashboard's campaign table pages by id (keyset) with
// an optional status filter or zip search; these keep each page an index range scan at 100k+
// campaigns (docs/decisions/dashboard.md).
inline constexpr std::string_view kPagingIndexesSql = R"sql(
CREATE INDEX campaigns_by_status_id ON campaigns (campaign_status, id);
CREATE INDEX campaigns_by_zip_id ON campaigns (zip_code, id);
)sql";

// v5, the same text in every dialect: why an outbox row was set aside unpublished
// (Store::SetAsideOutbox): a row other programs wrote that cannot be read, or that the bus
// refuses, no longer holds up the rows after it (docs/decisions/store.md).
inline constexpr std::string_view kOutboxFailedReasonSql = R"sql(
ALTER TABLE outbox ADD COLUMN failed_reason TEXT;
)sql";

// A dialect's list: versions 1..kLatestSchemaVersion under the names every dialect shares,
// `sql[i]` being version i+1 in that dialect.
using DialectSql = std::array<std::string_view, kLatestSchemaVersion>;
constexpr std::array<Migration, kLatestSchemaVersion> MigrationList(const DialectSql& sql) {
  constexpr std::array<std::string_view, kLatestSchemaVersion> kNames = {
      "campaigns, parts, market data, zip codes, outbox",
      "reconciler columns, leases, fetcher heartbeats",
      "cluster-wide provider budgets",
      "campaign paging indexes for the dashboard",
      "outbox rows set aside unpublished",
  };
  std::array<Migration, kLatestSchemaVersion> list{};
  for (size_t i = 0; i < list.size(); ++i) {
    list[i] = Migration{static_cast<int>(i) + 1, kNames[i], sql[i]};
  }
  return list;
}

// The parts joined in order: how a dialect builds a version's SQL from shared pieces.
std::string ConcatSql(std::initializer_list<std::string_view> parts);

// What one dialect's versions are built from: the parts of version 1 it writes by hand, and the
// types and spellings the shared renderers use (migrations.cc: version 1's two ranked-record
// tables, versions 2 and 3). Each type is a column's type as the DDL writes it.
struct Dialect {
  std::string_view v1_before;  // version 1 up to the ranked tables: campaigns, property_data
  // active_listings and recent_sales have the same columns but for the price and the dates:
  // `ranked_table(table, own_price, own_dates)` renders one of them around those column lines.
  std::string (*ranked_table)(std::string_view table, std::string_view own_price,
                              std::string_view own_dates);
  std::string_view v1_after;  // version 1 after them: market data, zip codes, outbox

  std::string_view text;           // text columns, text primary keys
  std::string_view date;           // active_listings.listed_date, recent_sales.sale_date
  std::string_view int32;          // counters, pids, days on market
  std::string_view int64;          // prices, provider_budget.next_at
  std::string_view time;           // timestamps
  std::string_view primary_key;    // what follows a text key's type: " PRIMARY KEY", ...
  std::string_view table_options;  // what follows a plain CREATE TABLE's closing parenthesis
  // One ALTER TABLE adds all of a table's columns ("ALTER TABLE t ADD COLUMN a ...,\n  ADD
  // COLUMN b ...;", MySQL) rather than one ALTER TABLE each.
  bool one_alter = false;
};

// Versions 1..3 as `d` shipped them.
std::string V1Sql(const Dialect& d);
std::string V2Sql(const Dialect& d);
std::string V3Sql(const Dialect& d);

// A dialect's migration list, its SQL built once (by the constructor) and owned here.
class DialectMigrations {
 public:
  explicit DialectMigrations(const Dialect& d);
  DialectMigrations(const DialectMigrations&) = delete;
  DialectMigrations& operator=(const DialectMigrations&) = delete;

  std::span<const Migration> list() const { return list_; }

 private:
  const std::array<std::string, 3> built_;  // versions 1..3
  const std::array<Migration, kLatestSchemaVersion> list_;
};

// SQLite dialect (store/migrations/sqlite_migrations.cc), ascending versions.
std::span<const Migration> SqliteMigrations();

// PostgreSQL dialect (store/migrations/postgres_migrations.cc), ascending versions.
std::span<const Migration> PostgresMigrations();

// MySQL/MariaDB dialect (store/migrations/mysql_migrations.cc), ascending versions. Its
// statements are separated by ";" at the end of a line and run one at a time.
std::span<const Migration> MysqlMigrations();

// Brings a schema at version `current` up to date: for each migration of `list` newer than
// `current`, in order, run(m) (a failure is wrapped "migration N (name)"), then record(m)
// (its schema_migrations row). kFailedPrecondition when `current` is newer than this binary.
Status ApplyMigrations(int current, std::span<const Migration> list,
                       const std::function<Status(const Migration&)>& run,
                       const std::function<Status(const Migration&)>& record);

}  // namespace dripr
