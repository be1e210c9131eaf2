#pragma once
// The one SQLite layer of the project (dripr_sqlite, below the store and the embedded bus):
// connections with a prepared-statement cache, statements, a connection pool, write
// transactions, the file checks done before opening, and THE mapping of SQLite result codes to
// the project's error model (docs/decisions/store.md, "One SQLite layer").
//
// Threading: a Connection is used by one thread at a time (its owner serializes use: the pool
// hands a connection to one caller, the embedded broker holds a mutex); ConnectionPool is
// thread-safe. Connections are opened in multi-thread mode (SQLITE_OPEN_NOMUTEX).

#include <sqlite3.h>
#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <unordered_map>
#include <vector>

#include "dripr/core/error.h"

namespace dripr::sqlite {

// The error mapping, used for every SQLite call in the tree:
//   BUSY, LOCKED                      → kUnavailable (another writer; retry, "database busy")
//   CONSTRAINT_PRIMARYKEY / _UNIQUE   → kAlreadyExists
//   other CONSTRAINT                  → kInvalidArgument
//   CANTOPEN, IOERR, PROTOCOL, NOLFS  → kUnavailable (the file or the disk; retry)
//   FULL (disk full), NOMEM           → kResourceExhausted (retry later)
//   CORRUPT, NOTADB                   → kDataLoss (never retried)
//   READONLY, PERM, AUTH              → kPermissionDenied (a read-only file; never retried)
//   anything else                     → kInternal
// `db` (may be null) supplies the detailed message.
Error ToError(int rc, sqlite3* db, std::string_view context);

// Which device and inode a path names; used to notice a database file that was removed or
// replaced while it was open.
struct FileId {
  dev_t dev = 0;
  ino_t ino = 0;
  bool operator==(const FileId&) const = default;
};
// nullopt when the path does not exist (or cannot be stat'ed).
std::optional<FileId> StatFileId(const std::string& path);
// kUnavailable "database file PATH was removed / replaced ..." unless `path` still names the
// file `id` (whatever is written to an unlinked file is lost when the last process closes it).
Status CheckSameFile(const std::string& path, const FileId& id);

// How a command means to use a database file.
enum class Access {
  kCreate,        // read and write; create the file when missing (writing commands)
  kExistingOnly,  // the file must exist; never created (read-only commands)
};

// The configuration checks done before a command opens `path` (no file is created):
// a directory, a file that is not an SQLite database, a missing parent directory, a missing
// file for kExistingOnly, or a file (or its directory) that is not writable for kCreate are
// kInvalidArgument with a one-line message that names the absolute path and, for a missing
// database, says how to create one. `what` names the setting ("DATABASE_URL").
Status CheckDatabaseFile(const std::string& path, Access access, std::string_view what);

// `path` made absolute against the current directory (relative paths are resolved once, at
// open, so a process never changes database when it changes directory).
std::string AbsolutePath(const std::string& path);

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

  // Bind the next parameter (1, 2, ...). BindText: empty text binds NULL (the store's schema
  // keeps "" as NULL); BindString binds the text as it is, "" included.
  Statement& BindInt(int64_t v);
  Statement& BindReal(double v);
  Statement& BindText(std::string_view v);
  Statement& BindString(std::string_view v);
  // BindText without a copy: `v`'s characters must stay alive and unchanged until this
  // statement is reset or destroyed (SQLITE_STATIC). For the many fields of a multi-row
  // INSERT in the writer's turn, where each copy was an allocation.
  Statement& BindTextBorrowed(std::string_view v);
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
  // Steps through every row, calling `fn(*this)` on each. `fn` returns nothing or a Status;
  // its first failure, or a failed step, ends the walk and is returned.
  template <class Fn>
  Status ForEachRow(Fn fn);
  // Every row read by `read(*this)` (returning T or Result<T>), in order; the first failure.
  template <class T, class Read>
  Result<std::vector<T>> ReadAll(Read read);

  bool IsNull(int col) const { return sqlite3_column_type(stmt_, col) == SQLITE_NULL; }
  int64_t Int(int col) const { return sqlite3_column_int64(stmt_, col); }
  double Real(int col) const { return sqlite3_column_double(stmt_, col); }
  // NULL reads as "".
  std::string Text(int col) const;
  std::optional<int64_t> OptInt(int col) const;
  std::optional<double> OptReal(int col) const;

 private:
  // The next parameter's text: copied by SQLite (SQLITE_TRANSIENT) or referred to
  // (SQLITE_STATIC).
  Statement& BindChars(std::string_view v, sqlite3_destructor_type keep);

  sqlite3_stmt* stmt_;
  sqlite3* db_;
  int next_param_ = 1;
  int bind_error_ = SQLITE_OK;
};

template <class Fn>
Status Statement::ForEachRow(Fn fn) {
  while (true) {
    DRIPR_ASSIGN_OR_RETURN(bool row, Step());
    if (!row) return Ok();
    if constexpr (std::is_void_v<std::invoke_result_t<Fn&, Statement&>>) {
      fn(*this);
    } else {
      DRIPR_TRY(fn(*this));
    }
  }
}

template <class T, class Read>
Result<std::vector<T>> Statement::ReadAll(Read read) {
  std::vector<T> out;
  DRIPR_TRY(ForEachRow([&](Statement& s) -> Status {
    Result<T> value = read(s);
    if (!value) return Fail(value.error());
    out.push_back(std::move(*value));
    return Ok();
  }));
  return out;
}

struct ConnectionOptions {
  // How long a statement waits for another connection's lock before failing with BUSY.
  std::chrono::milliseconds busy_timeout{5000};
  // false: SQLITE_OPEN_CREATE is not passed; a missing file is an error (CANTOPEN).
  bool create = true;
  // PRAGMA foreign_keys=ON (the store's schema has foreign keys; the bus's has none).
  bool foreign_keys = false;
};

class Connection {
 public:
  // Opens the database file (creating it when options.create), sets busy_timeout,
  // journal_mode=WAL, synchronous=NORMAL and, if asked, foreign_keys=ON. Errors are mapped
  // with ToError (CANTOPEN: kUnavailable; NOTADB: kDataLoss). The path is made absolute.
  static Result<std::unique_ptr<Connection>> Open(const std::string& path,
                                                  const ConnectionOptions& options);
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // A statement prepared once per connection and cached by its text. The same SQL must not be
  // in use twice at the same time on one connection.
  Result<Statement> Prepare(std::string_view sql);
  // Runs one or more statements without caching (DDL, pragmas).
  Status Exec(std::string_view sql);
  int64_t Changes() const { return sqlite3_changes64(db_); }
  bool InTransaction() const { return sqlite3_get_autocommit(db_) == 0; }
  sqlite3* raw() const { return db_; }
  // The absolute path opened, and the file it named when it was opened.
  const std::string& path() const { return path_; }
  const FileId& file_id() const { return file_id_; }

  // kUnavailable when `path()` no longer names the file this connection opened (removed or
  // replaced: whatever is written now would be lost with the unlinked file).
  Status CheckFileIdentity() const;
  // PRAGMA quick_check: kDataLoss naming the first problem unless the file is intact.
  Status QuickCheck();

 private:
  Connection(sqlite3* db, std::string path, FileId id)
      : db_(db), path_(std::move(path)), file_id_(id) {}
  sqlite3* db_;
  const std::string path_;
  const FileId file_id_;
  // Looked up by the caller's text as it is (no copy per Prepare; the writer's turn prepares
  // a dozen statements per part).
  struct SqlHash {
    using is_transparent = void;
    size_t operator()(std::string_view sql) const { return std::hash<std::string_view>{}(sql); }
  };
  std::unordered_map<std::string, sqlite3_stmt*, SqlHash, std::equal_to<>> cache_;
};

// BEGIN IMMEDIATE ... COMMIT (prepared statements, cached on the connection). Taking the write
// lock up front (instead of upgrading a read transaction) means a busy database makes BEGIN
// wait in the busy handler rather than fail with an unresolvable SQLITE_BUSY later. Begin also
// checks that the connection's file is still the one at its path (CheckFileIdentity), so no
// write goes to a database file that was removed or replaced. Rolls back on destruction unless
// committed.
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

// Runs `fn` in one WriteTransaction on `c`: commits when it succeeds, rolls back otherwise.
// `what` prefixes the errors of BEGIN and COMMIT. The caller serializes use of `c`.
Status InWriteTransaction(Connection& c, std::string_view what,
                          const std::function<Status(Connection&)>& fn);

// Hands out connections to one database file; opens new ones on demand and keeps up to
// `max_idle` for reuse. Every connection must open the same file as the first one (a file
// replaced in between is kUnavailable, as in CheckFileIdentity). Thread-safe.
class ConnectionPool {
 public:
  ConnectionPool(std::string path, ConnectionOptions options, size_t max_idle = 16)
      : path_(AbsolutePath(path)), options_(options), max_idle_(max_idle) {}

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
  const ConnectionOptions options_;
  const size_t max_idle_;
  std::mutex mu_;
  std::vector<std::unique_ptr<Connection>> idle_;  // guarded by mu_
  std::optional<FileId> file_id_;                  // guarded by mu_; the first open's file
};

}  // namespace dripr::sqlite
