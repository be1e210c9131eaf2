#pragma once
// The MySQL driver of NetworkedStore (store/networked_store.h), shared by the MysqlStore
// source files (internal). Timestamps go in as DATETIME(6) parameters (UTC) and come back as
// epoch milliseconds (Driver::EpochMs), so nothing depends on the client library's date
// conversions.

#include <string>
#include <string_view>

#include "dripr/store/mysql/my_conn.h"

namespace dripr::my {

// A shared column list (store_common.h) with `rank` quoted (reserved in MySQL 8).
std::string Quoted(std::string_view columns);

struct Driver {
  static constexpr std::string_view kName = "mysql";
  static constexpr bool kStatementCommits = false;  // TakeLease is three statements
  using Connection = my::Connection;
  using Params = my::Params;
  using Rows = my::Rows;

  static std::string Sql(std::string_view text) { return std::string(text); }
  // Pure DATETIME arithmetic: independent of the session time zone.
  static std::string EpochMs(std::string_view expr) {
    return "(TIMESTAMPDIFF(MICROSECOND, '1970-01-01 00:00:00', " + std::string(expr) +
           ") DIV 1000)";
  }
  static std::string Columns(std::string_view list) { return Quoted(list); }
  // The columns' utf8mb4_bin collation already compares ids bytewise.
  static constexpr std::string_view kIdCollate = "";
  // A campaign row locked for its transition (InnoDB has no weaker exclusive row lock).
  static constexpr std::string_view kRowLock = " FOR UPDATE";
  static std::string UpsertSet(std::string_view /*key*/) { return "ON DUPLICATE KEY UPDATE"; }
  // `insert` ("INSERT INTO t (...) VALUES (...)") doing nothing when a row with a unique key
  // exists.
  static std::string InsertIfAbsent(std::string_view insert, std::string_view /*key*/) {
    return "INSERT IGNORE" + std::string(insert.substr(insert.find(' ')));
  }
};

}  // namespace dripr::my
