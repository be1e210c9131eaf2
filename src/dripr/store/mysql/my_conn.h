#pragma once
// A thin layer over MariaDB Connector/C for MysqlStore (internal): the DATABASE_URL parser,
// connections with a per-connection cache of server-side prepared statements, typed
// parameters and results, MySQL error numbers -> ErrorCode, and a small bounded pool that
// drops broken connections and reconnects on demand.
//
// Error mapping (ErrorCode): 1062 duplicate key -> kAlreadyExists; 1213 deadlock and 1205
// lock-wait timeout -> kAborted (retry the transaction); lost or refused connections (2002,
// 2003, 2006, 2013, 2055, 1053 shutdown, 1927 killed, 4031 disconnected by the server, 1040
// too many connections) -> kUnavailable; 1146 unknown table -> kFailedPrecondition ("run
// dripr migrate"); 1045 access denied -> kPermissionDenied; data errors (1264, 1265, 1292,
// 1366, 1406, 1048) -> kInvalidArgument; anything else -> kInternal.
//
// Messages never contain the connection URL or the password.

#include <mysql.h>

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "dripr/core/clock.h"
#include "dripr/core/error.h"
#include "dripr/store/connection_pool.h"
#include "dripr/store/result_rows.h"

namespace dripr::my {

// mysql://user[:password]@host[:port]/database[?param=value&...] (or mariadb://).
// Parameters: ssl-mode (DISABLED, PREFERRED, REQUIRED, VERIFY_CA, VERIFY_IDENTITY), ssl-ca
// (a CA file; implies VERIFY_CA unless ssl-mode says otherwise), socket (a Unix socket path
// for a local server; the host is then ignored). User, password and database may be
// percent-encoded.
struct Url {
  std::string user;
  std::string password;
  std::string host = "localhost";
  unsigned port = 3306;
  std::string database;
  std::string socket;
  enum class SslMode { kDisabled, kPreferred, kRequired, kVerifyCa, kVerifyIdentity };
  SslMode ssl_mode = SslMode::kPreferred;
  std::string ssl_ca;

  // kInvalidArgument naming the problem (never echoing the password).
  static Result<Url> Parse(std::string_view url);
  // user@host:port/database, for messages (no password).
  std::string Describe() const;
};

// Positional parameters (?), typed; nullopt text is SQL NULL.
class Params {
 public:
  Params& Text(std::string_view v);
  // Empty text is stored as NULL (the schema's convention, as in the other stores).
  Params& TextOrNull(std::string_view v);
  Params& Int(int64_t v);
  Params& Real(double v);
  Params& Time(SysTime t);  // DATETIME(6), UTC
  Params& Null();
  Params& OptInt(const std::optional<int64_t>& v) { return v ? Int(*v) : Null(); }
  Params& OptInt(const std::optional<int>& v) { return v ? Int(*v) : Null(); }
  Params& OptReal(const std::optional<double>& v) { return v ? Real(*v) : Null(); }

  size_t size() const { return values_.size(); }

 private:
  friend class Connection;
  struct Value {
    enum class Kind { kNull, kText, kInt, kReal, kTime } kind = Kind::kNull;
    std::string text;
    int64_t i = 0;
    double d = 0;
    MYSQL_TIME time{};
  };
  // Appends a value of `kind` (its other fields zero) for the caller to fill.
  Value& Add(Value::Kind kind);
  std::vector<Value> values_;
};

// A fully fetched result.
class Rows : public ResultRows<Rows> {
 public:
  int size() const { return static_cast<int>(rows_.size()); }
  // Rows changed (matched: the connection sets CLIENT_FOUND_ROWS) by INSERT/UPDATE/DELETE.
  int64_t Affected() const { return affected_; }

  bool IsNull(int row, int col) const { return !rows_[row][col].has_value(); }
  std::string Text(int row, int col) const;  // NULL reads as ""
  std::optional<int64_t> OptInt(int row, int col) const;
  std::optional<double> OptReal(int row, int col) const;

 private:
  friend class Connection;
  // Integers and doubles travel in binary and are kept in their text form here only when
  // the column is text; see Connection::Exec.
  struct Cell {
    std::string text;
    int64_t i = 0;
    double d = 0;
    enum class Kind { kText, kInt, kReal } kind = Kind::kText;
  };
  // A numeric cell as T: a real truncated to an integer, an integer widened to a real, text
  // parsed (0 when it does not parse).
  template <class T>
  std::optional<T> Number(int row, int col) const;

  std::vector<std::vector<std::optional<Cell>>> rows_;
  int64_t affected_ = 0;
};

// The ErrorCode of a MySQL/Connector error number.
ErrorCode CodeFor(unsigned err);

class Connection {
 public:
  static constexpr std::string_view kServer = "MySQL";  // in pool errors

  // Connects (bounded by `connect_timeout`), sets utf8mb4, UTC, READ COMMITTED and a strict
  // sql_mode. kUnavailable when the server cannot be reached.
  static Result<std::unique_ptr<Connection>> Open(const Url& url,
                                                  std::chrono::seconds connect_timeout);
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // Runs one statement through a server-side prepared statement cached on this connection
  // (prepared on first use of the SQL text).
  Result<Rows> Exec(std::string_view sql, const Params& params = {});
  // Runs one statement as text without preparing it (DDL, transaction control, bulk loads).
  Status Query(std::string_view sql);

  // False once the connection is known to be lost; the pool then drops it.
  bool Healthy() const { return healthy_; }
  // Whether the pool keeps it when its lease ends: an unhealthy one is closed.
  bool Reusable() const { return Healthy(); }
  // Server thread id (KILL target in tests).
  unsigned long Id() const { return mysql_thread_id(conn_); }
  size_t CachedStatements() const { return statements_.size(); }
  // After a failure that may have left the session in an unknown state.
  void MarkBroken() { healthy_ = false; }

 private:
  explicit Connection(MYSQL* c) : conn_(c) {}
  Error Failed(unsigned err, const char* message, std::string_view what);

  MYSQL* conn_;
  bool healthy_ = true;
  std::unordered_map<std::string, MYSQL_STMT*> statements_;
};

// The store's connections (store/connection_pool.h). A connection that is unhealthy when its
// lease ends is closed instead of reused.
using Pool = UrlConnectionPool<Connection, Url>;

}  // namespace dripr::my
