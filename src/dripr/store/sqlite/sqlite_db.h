#pragma once
// Thin RAII layer over the sqlite3 C API used by SqliteStore: connections with a prepared
// statement cache, a pool of connections for many threads, and write transactions.
//
// Threading: a Connection is used by one thread at a time (the pool hands it out);
// ConnectionPool is thread-safe. Connections are opened in multi-thread mode
// (SQLITE_OPEN_NOMUTEX) since the pool already serializes use of each one.

#include <sqlite3.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "dripr/core/error.h"

namespace dripr::sqlite {

// Maps an SQLite result code to the project's error model:
// BUSY/LOCKED → kUnavailable (retry), PRIMARYKEY/UNIQUE → kAlreadyExists, other constraint
// violations → kInvalidArgument, CANTOPEN/IOERR → kUnavailable, FULL → kResourceExhausted,
// CORRUPT/NOTADB → kDataLoss, READONLY/PERM/AUTH → kPermissionDenied, anything else kInternal.
// `db` (may be null) supplies the detailed message.
Error ToError(int rc, sqlite3* db, std::string_view context);

// A cached prepared statement, borrowed from its Connection for one use: bind parameters in
// order with the Bind* calls, then Step()/Run(). Reset (and bindings cleared) on destruction.
class Statement {
 public:
  Statement(sqlite3_stmt* stmt, sqlite3* db) : stmt_(stmt), db_(db) {}
  Statement(Statement&& o) noexcept;
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;
  Statement& operator=(Statement&&) = delete;
  ~Statement();

  // Bind the next parameter (1, 2, ...). Empty text binds NULL (the schema stores "" as NULL).
  Statement& BindInt(int64_t v);
  Statement& BindReal(double v);
  Statement& BindText(std::string_view v);
  Statement& BindNull();
  Statement& BindInt(const std::optional<int64_t>& v) { return v ? BindInt(*v) : BindNull(); }
  Statement& BindInt(const std::optional<int>& v) { return v ? BindInt(*v) : BindNull(); }
  Statement& BindReal(const std::optional<double>& v) { return v ? BindReal(*v) : BindNull(); }

  // Makes the statement ready to bind and run again (parameters start over at 1).
  void Reset();

  // true: a row is available through the column readers; false: the statement is done.
  Result<bool> Step();
  // Steps to completion, ignoring rows (INSERT/UPDATE/DELETE).
  Status Run();

  bool IsNull(int col) const { return sqlite3_column_type(stmt_, col) == SQLITE_NULL; }
  int64_t Int(int col) const { return sqlite3_column_int64(stmt_, col); }
  double Real(int col) const { return sqlite3_column_double(stmt_, col); }
  // NULL reads as "".
  std::string Text(int col) const;
  std::optional<int64_t> OptInt(int col) const;
  std::optional<double> OptReal(int col) const;

 private:
  sqlite3_stmt* stmt_;
  sqlite3* db_;
  int next_param_ = 1;
  int bind_error_ = SQLITE_OK;
};

class Connection {
 public:
  // Opens (creating if needed) the database file, sets busy_timeout, WAL, synchronous=NORMAL
  // and foreign_keys=ON. kUnavailable when the file cannot be opened.
  static Result<std::unique_ptr<Connection>> Open(const std::string& path,
                                                  std::chrono::milliseconds busy_timeout);
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // A statement prepared once per connection and cached by its text. The same SQL must not be
  // in use twice at the same time on one connection.
  Result<Statement> Prepare(std::string_view sql);
  // Runs one or more statements without caching (DDL, BEGIN/COMMIT, pragmas).
  Status Exec(const std::string& sql);
  int64_t Changes() const { return sqlite3_changes64(db_); }
  bool InTransaction() const { return sqlite3_get_autocommit(db_) == 0; }
  sqlite3* raw() const { return db_; }

 private:
  explicit Connection(sqlite3* db) : db_(db) {}
  sqlite3* db_;
  std::unordered_map<std::string, sqlite3_stmt*> cache_;
};

// Hands out connections to one database file; opens new ones on demand and keeps up to
// `max_idle` for reuse. Thread-safe.
class ConnectionPool {
 public:
  ConnectionPool(std::string path, std::chrono::milliseconds busy_timeout, size_t max_idle = 16)
      : path_(std::move(path)), busy_timeout_(busy_timeout), max_idle_(max_idle) {}

  class Lease {
   public:
    Lease(ConnectionPool* pool, std::unique_ptr<Connection> c) : pool_(pool), c_(std::move(c)) {}
    Lease(Lease&&) noexcept = default;
    Lease& operator=(Lease&&) = delete;
    ~Lease() {
      if (c_) pool_->Release(std::move(c_));
    }
    Connection& operator*() const { return *c_; }
    Connection* operator->() const { return c_.get(); }

   private:
    ConnectionPool* pool_;
    std::unique_ptr<Connection> c_;
  };

  Result<Lease> Acquire();
  const std::string& path() const { return path_; }

 private:
  void Release(std::unique_ptr<Connection> c);

  const std::string path_;
  const std::chrono::milliseconds busy_timeout_;
  const size_t max_idle_;
  std::mutex mu_;
  std::vector<std::unique_ptr<Connection>> idle_;  // guarded by mu_
};

// BEGIN IMMEDIATE ... COMMIT. Taking the write lock up front (instead of upgrading a read
// transaction) means a busy database makes BEGIN wait in the busy handler rather than fail
// with an unresolvable SQLITE_BUSY later. Rolls back on destruction unless committed.
class WriteTransaction {
 public:
  static Result<WriteTransaction> Begin(Connection& c);
  WriteTransaction(WriteTransaction&& o) noexcept : c_(o.c_) { o.c_ = nullptr; }
  WriteTransaction& operator=(WriteTransaction&&) = delete;
  ~WriteTransaction();
  Status Commit();

 private:
  explicit WriteTransaction(Connection* c) : c_(c) {}
  Connection* c_;
};

}  // namespace dripr::sqlite
