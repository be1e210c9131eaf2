#pragma once
// A thin layer over libpq for PostgresStore (internal): connections with a per-connection
// cache of prepared statements, text-format parameters and results, SQLSTATE -> ErrorCode,
// and a small bounded pool that drops broken connections and reconnects on demand.
//
// Error mapping (ErrorCode): 23505 unique_violation -> kAlreadyExists; 40001
// serialization_failure and 40P01 deadlock_detected -> kAborted (retry the transaction);
// class 08 (connection), 57P01..57P03 (shutdown / cannot connect now), class 53 (resources),
// a connection that is no longer CONNECTION_OK -> kUnavailable; 57014 query_canceled ->
// kDeadlineExceeded; 42P01 undefined_table -> kFailedPrecondition ("run dripr migrate");
// class 22 (data exception) -> kInvalidArgument; anything else -> kInternal.
//
// Messages never contain the connection URL's password: a URL libpq cannot parse is
// kInvalidArgument with libpq's reason, every part it quotes (the URL, a password) left out;
// a URL whose user-info libpq would read other than the mask (core/url_password.h) does (an
// unencoded '/' or '@' in the password) is refused before connecting; any other message has
// the password, as libpq read it and as written, replaced by "****".

#include <libpq-fe.h>

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "dripr/core/clock.h"
#include "dripr/core/error.h"
#include "dripr/store/connection_pool.h"
#include "dripr/store/result_rows.h"

namespace dripr::pg {

// Positional parameters ($1, $2, ...) in text format; nullopt is SQL NULL.
class Params {
 public:
  Params& Text(std::string_view v);
  // Empty text is stored as NULL (the schema's convention, as in the SQLite store).
  Params& TextOrNull(std::string_view v);
  Params& Int(int64_t v);
  Params& Real(double v);   // shortest round-trip form
  Params& Time(SysTime t);  // ISO-8601 UTC text (a timestamptz in context)
  Params& Null();
  Params& OptInt(const std::optional<int64_t>& v);
  Params& OptInt(const std::optional<int>& v);
  Params& OptReal(const std::optional<double>& v);

  int size() const { return static_cast<int>(starts_.size()); }
  // libpq's paramValues: each value NUL-terminated, nullptr for NULL. Valid until this
  // Params changes or goes away.
  std::vector<const char*> Pointers() const;

 private:
  // All values in one buffer, each followed by a NUL (a multi-row INSERT has hundreds: one
  // allocation, not one per value); starts_[i] is the offset of value i, -1 for NULL.
  Params& Add(std::string_view v);
  std::string data_;
  std::vector<std::ptrdiff_t> starts_;
};

// Rows for COPY ... FROM STDIN in text format: fields separated by tabs, rows by newlines,
// NULL as \N, backslash/tab/newline/carriage return escaped.
class CopyText {
 public:
  CopyText& Text(std::string_view v);
  CopyText& TextOrNull(std::string_view v);  // empty text is NULL
  CopyText& Int(int64_t v);
  CopyText& Real(double v);
  CopyText& Null();
  CopyText& OptInt(const std::optional<int64_t>& v) { return v ? Int(*v) : Null(); }
  CopyText& OptInt(const std::optional<int>& v) { return v ? Int(*v) : Null(); }
  CopyText& OptReal(const std::optional<double>& v) { return v ? Real(*v) : Null(); }
  CopyText& EndRow();

  const std::string& data() const { return data_; }
  size_t rows() const { return rows_; }

 private:
  void Separate();

  std::string data_;
  bool row_open_ = false;
  size_t rows_ = 0;
};

// A query result (rows of text values).
class Rows : public ResultRows<Rows> {
 public:
  Rows() = default;
  explicit Rows(PGresult* r) : result_(r, &PQclear) {}

  int size() const { return result_ ? PQntuples(result_.get()) : 0; }
  // Rows changed by an INSERT/UPDATE/DELETE.
  int64_t Affected() const;

  bool IsNull(int row, int col) const { return PQgetisnull(result_.get(), row, col) != 0; }
  std::string Text(int row, int col) const;  // NULL reads as ""
  std::optional<int64_t> OptInt(int row, int col) const;
  std::optional<double> OptReal(int row, int col) const;

 private:
  std::shared_ptr<PGresult> result_;
};

// The hosts a connection URL names (its `host` and `hostaddr` settings, comma-separated lists
// split; a Unix socket directory as given; empty entries and an absent host as ""), as libpq
// parses them; nullopt when libpq cannot parse the URL.
std::optional<std::vector<std::string>> UrlHosts(const std::string& url);

// Maps a failed result (or a failed connection when `result` is null) to an Error.
Error ErrorFrom(PGconn* conn, const PGresult* result, std::string_view what);

class Connection {
 public:
  static constexpr std::string_view kServer = "PostgreSQL";  // in pool errors

  // Connects (blocking, bounded by `connect_timeout`). kUnavailable when the server cannot
  // be reached; kInvalidArgument when the URL does not parse, its password holds an
  // unencoded '/' or '@', or libpq refuses a setting's value (a port that is not a number).
  static Result<std::unique_ptr<Connection>> Open(const std::string& url,
                                                  std::chrono::seconds connect_timeout);
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // Runs one statement with parameters through a prepared statement cached on this
  // connection (prepared on first use of the SQL text).
  Result<Rows> Exec(std::string_view sql, const Params& params = {});
  // A statement and its parameters, both referred to until the call returns.
  struct Statement {
    const std::string& sql;
    const Params& params;
  };
  // Several statements in ONE round trip (libpq pipeline mode, after a pending BEGIN and the
  // queued writes), each prepared on first use: their rows, in order. The first failure is
  // the call's and the statements after it do not run. Outside a transaction they run as
  // one implicit transaction, committed at the end of the round trip.
  Result<std::vector<Rows>> ExecAll(std::span<const Statement> statements);
  // Opens a transaction whose BEGIN travels with the next statement: the next Exec sends
  // BEGIN, its PREPARE when new, and itself in one round trip (libpq pipeline mode);
  // ExecScript and CopyIn send it alone first. Commit() ends it.
  void Begin() { begin_pending_ = true; }
  // A write whose result the caller does not read. Inside a transaction it is queued and
  // travels with the transaction's next round trip (the next Exec, ExecScript or CopyIn, or
  // the COMMIT), in one pipeline; its failure is that call's, and aborts the rest (the COMMIT
  // too). Outside a transaction it runs at once. `miss`, when not empty: the statement (an
  // UPDATE or DELETE) must change exactly one row, else the call fails with kAborted and
  // `miss`; the server checks it, so a COMMIT in the same pipeline never runs after a miss.
  // `sql` and `params` are kept until sent (moved in: a part's multi-row INSERT is large).
  Status Queue(std::string sql, Params params, std::string_view miss = {});
  // COMMIT (with the queued writes); nothing when no statement ran since Begin().
  Status Commit();
  // ROLLBACK when a transaction is open; a BEGIN or writes not sent yet are dropped.
  void Rollback();
  // Runs SQL without parameters and without preparing it (may hold several statements).
  Status ExecScript(std::string_view sql);
  // Runs `copy_sql` (COPY table (columns) FROM STDIN) and streams `rows` into it.
  Status CopyIn(std::string_view copy_sql, const CopyText& rows);

  // False once the connection is lost; the pool then drops it.
  bool Healthy() const { return PQstatus(conn_) == CONNECTION_OK; }
  // The server transaction state is idle (no transaction open or aborted).
  bool Idle() const { return PQtransactionStatus(conn_) == PQTRANS_IDLE; }
  // Whether the pool keeps it when its lease ends: one unhealthy or left inside a
  // transaction is closed.
  bool Reusable() const { return Healthy() && Idle(); }
  PGconn* raw() { return conn_; }

 private:
  explicit Connection(PGconn* c) : conn_(c) {}
  struct Queued {
    std::string sql;
    Params params;
    std::string miss;
  };
  // Sends a pending BEGIN and the queued writes (before a statement that cannot join a
  // pipeline).
  Status Flush();
  // One round trip: the pending BEGIN, the queued writes, then `reads` (each with its PREPARE
  // when new), then "COMMIT" when `commit`, one sync. The rows of `reads`, in order.
  Result<std::vector<Rows>> Pipeline(std::span<const Statement> reads, bool commit);

  PGconn* conn_;
  std::unordered_map<std::string, std::string> prepared_;  // sql -> statement name
  bool begin_pending_ = false;
  std::vector<Queued> queued_;
};

// The store's connections (store/connection_pool.h). A connection that is unhealthy or left
// inside a transaction when its lease ends is closed instead of reused.
using Pool = UrlConnectionPool<Connection, std::string>;

}  // namespace dripr::pg
