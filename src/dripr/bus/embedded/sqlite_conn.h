#pragma once
// A minimal SQLite connection wrapper for the embedded bus: prepared-statement cache,
// typed binding, errors mapped to dripr::Error, and an IMMEDIATE-transaction guard.
// Internal to bus/embedded/; not thread-safe (EmbeddedBroker serialises access).

#include <sqlite3.h>

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "dripr/core/error.h"

namespace dripr::embedded {

// Maps an SQLite result code to an Error: BUSY/LOCKED/IOERR/FULL/CANTOPEN → kUnavailable
// (retry), CORRUPT/NOTADB → kDataLoss, anything else → kInternal.
Error SqliteError(int rc, std::string_view what, sqlite3* db);

// A statement from the connection's cache. Reset and unbound when the handle goes out of
// scope, so it can be reused by the next caller.
class Stmt {
 public:
  Stmt(sqlite3_stmt* s, sqlite3* db) : stmt_(s), db_(db) {}
  Stmt(Stmt&& o) noexcept : stmt_(o.stmt_), db_(o.db_) { o.stmt_ = nullptr; }
  Stmt(const Stmt&) = delete;
  Stmt& operator=(const Stmt&) = delete;
  Stmt& operator=(Stmt&&) = delete;
  ~Stmt();

  // Binds by 1-based index. Text is copied by SQLite.
  Stmt& Bind(int i, std::string_view v);
  Stmt& Bind(int i, int64_t v);
  Stmt& BindNull(int i);

  // true: a row is available; false: done. Errors are mapped with SqliteError.
  Result<bool> Step();
  // Steps until done (for INSERT/UPDATE/DELETE); returns sqlite3_changes().
  Result<int> Run();

  int64_t Int(int col) const { return sqlite3_column_int64(stmt_, col); }
  std::string Text(int col) const;
  bool IsNull(int col) const { return sqlite3_column_type(stmt_, col) == SQLITE_NULL; }

 private:
  sqlite3_stmt* stmt_;
  sqlite3* db_;
};

class SqliteConn {
 public:
  // Opens (creating if needed) `path` in WAL mode with synchronous=NORMAL and the given
  // busy timeout. kUnavailable when the file cannot be opened.
  static Result<std::unique_ptr<SqliteConn>> Open(const std::string& path,
                                                  std::chrono::milliseconds busy_timeout);
  ~SqliteConn();
  SqliteConn(const SqliteConn&) = delete;
  SqliteConn& operator=(const SqliteConn&) = delete;

  // Runs one or more statements without results.
  Status Exec(std::string_view sql);
  // A cached prepared statement for `sql` (which must be a single statement).
  Result<Stmt> Prepare(const std::string& sql);
  sqlite3* raw() { return db_; }

 private:
  explicit SqliteConn(sqlite3* db) : db_(db) {}
  sqlite3* db_;
  std::map<std::string, sqlite3_stmt*, std::less<>> cache_;
};

// BEGIN IMMEDIATE on construction (Begin()), ROLLBACK on destruction unless committed.
class ImmediateTxn {
 public:
  explicit ImmediateTxn(SqliteConn& c) : conn_(c) {}
  ~ImmediateTxn();
  ImmediateTxn(const ImmediateTxn&) = delete;
  ImmediateTxn& operator=(const ImmediateTxn&) = delete;

  Status Begin();
  Status Commit();

 private:
  SqliteConn& conn_;
  bool open_ = false;
};

}  // namespace dripr::embedded
