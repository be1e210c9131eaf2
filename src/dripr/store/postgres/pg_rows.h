#pragma once
// The PostgreSQL driver of NetworkedStore (store/networked_store.h), shared by the
// PostgresStore source files (internal). Timestamps travel as ISO-8601 UTC text into
// timestamptz columns and come back as epoch milliseconds (Driver::EpochMs), so nothing
// depends on the session's DateStyle.

#include <string>
#include <string_view>

#include "dripr/core/clock.h"
#include "dripr/store/postgres/pg_conn.h"

namespace dripr::pg {

struct Driver {
  static constexpr std::string_view kName = "postgres";
  static constexpr bool kStatementCommits = true;
  using Connection = pg::Connection;
  using Params = pg::Params;
  using Rows = pg::Rows;

  // `?` placeholders numbered: "a = ? AND b = ?" -> "a = $1 AND b = $2".
  static std::string Sql(std::string_view text);
  static std::string EpochMs(std::string_view expr) {
    return "(extract(epoch FROM " + std::string(expr) + ") * 1000)::bigint";
  }
  static std::string Columns(std::string_view list) { return std::string(list); }
  // Makes id comparisons bytewise, as ids are ordered everywhere (keyset paging).
  static constexpr std::string_view kIdCollate = " COLLATE \"C\"";
  // A campaign row locked for its transition: FOR NO KEY UPDATE serializes transitions as
  // FOR UPDATE does, but lets other transactions' foreign-key checks (FOR KEY SHARE, e.g.
  // another part's rows inserted for the same campaign) through instead of queueing them
  // behind it (docs/decisions/postgres.md, "The campaign row's lock").
  static constexpr std::string_view kRowLock = " FOR NO KEY UPDATE";
  // `insert` ("INSERT INTO t (...) VALUES (...)") doing nothing when a row with `key` exists.
  static std::string InsertIfAbsent(std::string_view insert, std::string_view key) {
    return std::string(insert) + " ON CONFLICT (" + std::string(key) + ") DO NOTHING";
  }
  static std::string UpsertSet(std::string_view key) {
    return "ON CONFLICT (" + std::string(key) + ") DO UPDATE SET";
  }
};

// Bound as text; the SQL casts it ($n::timestamptz) or the column's type decides.
std::string TimeParam(SysTime t);

}  // namespace dripr::pg
