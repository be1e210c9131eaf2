#pragma once
// Versioned schema migrations (docs/contracts.md §3). Every SQL dialect has its own list with the
// SAME version numbers and the same tables/columns; kLatestSchemaVersion is the one place that says
// how far the lists go. A new migration appends version kLatestSchemaVersion+1 to every dialect's
// list and bumps the constant (tests/store/migrations_test.cc checks the lists).
//
// Bookkeeping table (every dialect): schema_migrations(version INTEGER PRIMARY KEY,
// applied_at TEXT NOT NULL), one row per applied migration.

#include <functional>
#include <span>
#include <string_view>

#include "dripr/core/error.h"

namespace dripr {

inline constexpr int kLatestSchemaVersion = 4;

struct Migration {
  int version = 0;        // 1, 2, ... without gaps
  std::string_view name;  // short description, for logs
  std::string_view sql;   // one or more statements, run inside one transaction
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
