#include "dripr/sqlite/db.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <string>

#include "dripr/core/text.h"

namespace dripr::sqlite {

namespace {

// Before the first connection: SQLite keeps memory statistics (SQLITE_CONFIG_MEMSTATUS, on by
// default) behind one process-wide mutex taken on every allocation and free, and Debian's
// build has no lookaside, so each of a campaign's ~1,500 SQLite allocations took it twice,
// from every thread that runs SQL. Nothing reads those statistics (sqlite3_memory_used,
// sqlite3_status; there is no soft heap limit). docs/decisions/performance.md "Allocator
// pass".
void ConfigureLibrary() {
  // Once; SQLITE_MISUSE if something in the process initialized SQLite before (then the
  // statistics stay on, which is only slower).
  static const int rc = sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
  (void)rc;
}

}  // namespace

Error ToError(int rc, sqlite3* db, std::string_view context) {
  std::string detail = db != nullptr ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
  std::string message = std::string(context) + ": " + detail;
  switch (rc & 0xFF) {
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
      return Error{ErrorCode::kUnavailable, message + " (database busy; retry)"};
    case SQLITE_CONSTRAINT:
      if (rc == SQLITE_CONSTRAINT_PRIMARYKEY || rc == SQLITE_CONSTRAINT_UNIQUE) {
        return Error{ErrorCode::kAlreadyExists, message};
      }
      return Error{ErrorCode::kInvalidArgument, message};
    case SQLITE_CANTOPEN:
    case SQLITE_IOERR:
    case SQLITE_PROTOCOL:
    case SQLITE_NOLFS:
      return Error{ErrorCode::kUnavailable, message};
    case SQLITE_FULL:
    case SQLITE_NOMEM:
      return Error{ErrorCode::kResourceExhausted, message};
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
      return Error{ErrorCode::kDataLoss, message};
    case SQLITE_READONLY:
    case SQLITE_PERM:
    case SQLITE_AUTH:
      return Error{ErrorCode::kPermissionDenied, message};
    default:
      return Error{ErrorCode::kInternal, message};
  }
}

std::optional<FileId> StatFileId(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return std::nullopt;
  return FileId{st.st_dev, st.st_ino};
}

std::string AbsolutePath(const std::string& path) {
  std::error_code ec;
  auto abs = std::filesystem::absolute(path, ec);
  return ec ? path : abs.lexically_normal().string();
}

Status CheckDatabaseFile(const std::string& raw_path, Access access, std::string_view what) {
  namespace fs = std::filesystem;
  const std::string path = AbsolutePath(raw_path);
  const std::string prefix = std::string(what) + ": " + path;
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    if (errno != ENOENT) {
      return Fail(ErrorCode::kInvalidArgument, prefix + ": " + std::strerror(errno));
    }
    const std::string dir = fs::path(path).parent_path().string();
    struct stat dst {};
    if (::stat(dir.c_str(), &dst) != 0 || !S_ISDIR(dst.st_mode)) {
      return Fail(ErrorCode::kInvalidArgument, prefix + ": directory " + dir + " does not exist");
    }
    if (access == Access::kExistingOnly) {
      return Fail(ErrorCode::kInvalidArgument,
                  prefix +
                      ": no database there; create one with `dripr migrate` (or any "
                      "command that writes, e.g. `dripr campaign create`)");
    }
    if (::access(dir.c_str(), W_OK | X_OK) != 0) {
      return Fail(ErrorCode::kInvalidArgument,
                  prefix + ": cannot create the database: directory " + dir + " is not writable");
    }
    return Ok();
  }
  if (S_ISDIR(st.st_mode)) {
    return Fail(ErrorCode::kInvalidArgument, prefix + " is a directory, not a database file");
  }
  if (!S_ISREG(st.st_mode)) {
    return Fail(ErrorCode::kInvalidArgument, prefix + " is not a regular file");
  }
  // Asked through SQLite, not by reading the header ourselves: closing any descriptor of a
  // file drops every POSIX lock this process holds on it, which would break the locking of
  // connections already open on it (the store and the bus share one file). SQLite's VFS
  // shares one descriptor per file between its connections and defers such closes.
  if (st.st_size > 0) {
    ConfigureLibrary();
    sqlite3* db = nullptr;
    int rc = sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr);
    if (rc == SQLITE_OK) {
      rc = sqlite3_exec(db, "PRAGMA schema_version", nullptr, nullptr, nullptr);
    }
    sqlite3_close_v2(db);
    if (rc == SQLITE_NOTADB) {
      return Fail(ErrorCode::kInvalidArgument, prefix + " is not an SQLite database");
    }
  }
  if (access == Access::kCreate) {
    // WAL mode writes PATH-wal and PATH-shm beside the file.
    const std::string dir = fs::path(path).parent_path().string();
    if (::access(path.c_str(), R_OK | W_OK) != 0) {
      return Fail(ErrorCode::kInvalidArgument,
                  prefix + " is read-only; this command writes to the database");
    }
    if (::access(dir.c_str(), W_OK | X_OK) != 0) {
      return Fail(ErrorCode::kInvalidArgument,
                  prefix + ": directory " + dir +
                      " is not writable (SQLite keeps its write-ahead log beside the file)");
    }
  }
  return Ok();
}

// ---- Statement ----

Statement::Statement(Statement&& o) noexcept
    : stmt_(o.stmt_), db_(o.db_), next_param_(o.next_param_), bind_error_(o.bind_error_) {
  o.stmt_ = nullptr;
}

Statement::~Statement() {
  if (stmt_ != nullptr) {
    sqlite3_reset(stmt_);
    sqlite3_clear_bindings(stmt_);
  }
}

void Statement::Reset() {
  sqlite3_reset(stmt_);
  sqlite3_clear_bindings(stmt_);
  next_param_ = 1;
  bind_error_ = SQLITE_OK;
}

Statement& Statement::BindInt(int64_t v) {
  int rc = sqlite3_bind_int64(stmt_, next_param_++, v);
  if (rc != SQLITE_OK && bind_error_ == SQLITE_OK) bind_error_ = rc;
  return *this;
}

Statement& Statement::BindReal(double v) {
  int rc = sqlite3_bind_double(stmt_, next_param_++, v);
  if (rc != SQLITE_OK && bind_error_ == SQLITE_OK) bind_error_ = rc;
  return *this;
}

Statement& Statement::BindText(std::string_view v) {
  if (v.empty()) return BindNull();
  return BindString(v);
}

Statement& Statement::BindString(std::string_view v) { return BindChars(v, SQLITE_TRANSIENT); }

Statement& Statement::BindTextBorrowed(std::string_view v) {
  if (v.empty()) return BindNull();
  return BindChars(v, SQLITE_STATIC);
}

Statement& Statement::BindChars(std::string_view v, sqlite3_destructor_type keep) {
  int rc = sqlite3_bind_text64(stmt_, next_param_++, v.data(), v.size(), keep, SQLITE_UTF8);
  if (rc != SQLITE_OK && bind_error_ == SQLITE_OK) bind_error_ = rc;
  return *this;
}

Statement& Statement::BindNull() {
  int rc = sqlite3_bind_null(stmt_, next_param_++);
  if (rc != SQLITE_OK && bind_error_ == SQLITE_OK) bind_error_ = rc;
  return *this;
}

Result<bool> Statement::Step() {
  if (bind_error_ != SQLITE_OK) {
    return Fail(ToError(bind_error_, nullptr, std::string("bind ") + sqlite3_sql(stmt_)));
  }
  int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  // The extended code says which constraint failed; sqlite3_step returns it directly
  // because statements are prepared with the v3 interface.
  return Fail(ToError(sqlite3_extended_errcode(db_), db_, "sqlite"));
}

Status Statement::Run() {
  while (true) {
    DRIPR_ASSIGN_OR_RETURN(bool row, Step());
    if (!row) return Ok();
  }
}

std::string Statement::Text(int col) const {
  const unsigned char* p = sqlite3_column_text(stmt_, col);
  if (p == nullptr) return {};
  return std::string(reinterpret_cast<const char*>(p),
                     static_cast<size_t>(sqlite3_column_bytes(stmt_, col)));
}

std::optional<int64_t> Statement::OptInt(int col) const {
  if (IsNull(col)) return std::nullopt;
  return Int(col);
}

std::optional<double> Statement::OptReal(int col) const {
  if (IsNull(col)) return std::nullopt;
  return Real(col);
}

// ---- Connection ----

Result<std::unique_ptr<Connection>> Connection::Open(const std::string& raw_path,
                                                     const ConnectionOptions& options) {
  const std::string path = AbsolutePath(raw_path);
  ConfigureLibrary();
  sqlite3* db = nullptr;
  int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX;
  if (options.create) flags |= SQLITE_OPEN_CREATE;
  int rc = sqlite3_open_v2(path.c_str(), &db, flags, nullptr);
  if (rc != SQLITE_OK) {
    Error e = ToError(rc, db, "open sqlite database " + path);
    if (e.code == ErrorCode::kInternal) e.code = ErrorCode::kUnavailable;
    sqlite3_close_v2(db);
    return Fail(std::move(e));
  }
  sqlite3_extended_result_codes(db, 1);
  sqlite3_busy_timeout(db, static_cast<int>(options.busy_timeout.count()));
  // The file exists now; remember which one it is.
  FileId id = StatFileId(path).value_or(FileId{});
  auto conn = std::unique_ptr<Connection>(new Connection(db, path, id));
  // journal_mode=WAL is persistent in the file; setting it again is a cheap no-op. WAL lets
  // readers proceed while one writer commits. synchronous=NORMAL is durable against process
  // crashes in WAL mode (a power cut may lose the last commits, never corrupt the file).
  std::string setup = "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;";
  if (options.foreign_keys) setup += " PRAGMA foreign_keys=ON;";
  // Switching a new file to WAL takes its exclusive lock, and SQLite answers a conflict there
  // (another process opening the same new file at the same moment) with BUSY at once, without
  // its busy handler: so BUSY is retried here, in short pauses, for up to the busy timeout.
  constexpr int kPauseMs = 10;
  auto ok = conn->Exec(setup);
  for (int64_t waited = 0; !ok && waited < options.busy_timeout.count(); waited += kPauseMs) {
    const int primary = sqlite3_errcode(db);
    if (primary != SQLITE_BUSY && primary != SQLITE_LOCKED) break;
    sqlite3_sleep(kPauseMs);
    ok = conn->Exec(setup);
  }
  if (!ok) return Fail(ok.error().Wrap("open sqlite database " + path));
  return conn;
}

Connection::~Connection() {
  for (auto& [sql, stmt] : cache_) sqlite3_finalize(stmt);
  sqlite3_close_v2(db_);
}

Result<Statement> Connection::Prepare(std::string_view sql) {
  auto it = cache_.find(sql);
  if (it == cache_.end()) {
    sqlite3_stmt* stmt = nullptr;
    int rc = sqlite3_prepare_v3(db_, sql.data(), static_cast<int>(sql.size()),
                                SQLITE_PREPARE_PERSISTENT, &stmt, nullptr);
    if (rc != SQLITE_OK) {
      return Fail(ToError(sqlite3_extended_errcode(db_), db_,
                          "prepare \"" + std::string(TruncateUtf8(sql, 80)) + "\""));
    }
    it = cache_.emplace(std::string(sql), stmt).first;
  }
  return Statement(it->second, db_);
}

Status Connection::Exec(std::string_view sql) {
  const std::string text(sql);
  char* err = nullptr;
  int rc = sqlite3_exec(db_, text.c_str(), nullptr, nullptr, &err);
  sqlite3_free(err);
  if (rc != SQLITE_OK) return Fail(ToError(sqlite3_extended_errcode(db_), db_, "sqlite"));
  return Ok();
}

Status CheckSameFile(const std::string& path, const FileId& id) {
  auto now = StatFileId(path);
  if (!now) {
    return Fail(ErrorCode::kUnavailable,
                "database file " + path +
                    " was removed while open; nothing more is written to it (restore the file "
                    "or point DATABASE_URL at the right one, then restart)");
  }
  if (*now != id) {
    return Fail(ErrorCode::kUnavailable,
                "database file " + path +
                    " was replaced by another file while open; nothing more is written to the "
                    "old one (restart to use the new file)");
  }
  return Ok();
}

Status Connection::CheckFileIdentity() const { return CheckSameFile(path_, file_id_); }

Status Connection::QuickCheck() {
  DRIPR_ASSIGN_OR_RETURN(auto s, Prepare("PRAGMA quick_check(1)"));
  auto row = s.Step();
  if (!row) return Fail(row.error().Wrap("integrity check of " + path_));
  std::string verdict = *row ? s.Text(0) : "no result";
  if (verdict != "ok") {
    // One line: SQLite's report is "*** in database main ***\nPage 7: ...".
    if (verdict.starts_with("*** in database main ***\n")) verdict.erase(0, 25);
    for (char& ch : verdict) {
      if (ch == '\n') ch = ' ';
    }
    return Fail(ErrorCode::kDataLoss, "database " + path_ + " is corrupt (" +
                                          std::string(TruncateUtf8(verdict, 200)) +
                                          "); restore it from a backup");
  }
  return Ok();
}

// ---- WriteTransaction ----

Result<WriteTransaction> WriteTransaction::Begin(Connection& c) {
  DRIPR_ASSIGN_OR_RETURN(auto begin, c.Prepare("BEGIN IMMEDIATE"));
  auto r = begin.Run();
  if (!r) return Fail(r.error().Wrap("begin write transaction"));
  WriteTransaction tx(&c);
  // Under the write lock: nobody can swap the file between this check and the commit
  // without dripr noticing at the next transaction.
  DRIPR_TRY(c.CheckFileIdentity());
  return tx;
}

WriteTransaction::~WriteTransaction() {
  if (c_ == nullptr || !c_->InTransaction()) return;
  // Best effort in a destructor: closing the connection rolls back what is left.
  if (auto rollback = c_->Prepare("ROLLBACK")) (void)rollback->Run();
}

Status WriteTransaction::Commit() {
  Connection* c = c_;
  c_ = nullptr;
  auto commit = c->Prepare("COMMIT");
  Status r = commit ? commit->Run() : Status(Fail(commit.error()));
  if (!r) {
    // The commit's error is the one to report; a failed ROLLBACK adds nothing to it.
    if (c->InTransaction()) (void)c->Exec("ROLLBACK");
    return Fail(r.error().Wrap("commit"));
  }
  return Ok();
}

Status InWriteTransaction(Connection& c, std::string_view what,
                          const std::function<Status(Connection&)>& fn) {
  auto tx = WriteTransaction::Begin(c);
  if (!tx) return Fail(tx.error().Wrap(what));
  DRIPR_TRY(fn(c));
  auto committed = tx->Commit();
  if (!committed) return Fail(committed.error().Wrap(what));
  return Ok();
}

// ---- ConnectionPool ----

Result<ConnectionPool::Lease> ConnectionPool::Acquire() {
  {
    std::lock_guard lock(mu_);
    if (!idle_.empty()) {
      auto c = std::move(idle_.back());
      idle_.pop_back();
      return Lease(this, std::move(c));
    }
  }
  DRIPR_ASSIGN_OR_RETURN(auto c, Connection::Open(path_, options_));
  {
    std::lock_guard lock(mu_);
    if (!file_id_) {
      file_id_ = c->file_id();
    } else if (*file_id_ != c->file_id()) {
      return Fail(ErrorCode::kUnavailable,
                  "database file " + c->path() +
                      " was replaced by another file while open (restart dripr)");
    }
  }
  return Lease(this, std::move(c));
}

void ConnectionPool::Release(std::unique_ptr<Connection> c) {
  // A connection left inside a transaction (an error path that could not roll back) is
  // dropped rather than handed to the next user.
  if (c->InTransaction() && !c->Exec("ROLLBACK")) return;
  std::lock_guard lock(mu_);
  if (idle_.size() < max_idle_) idle_.push_back(std::move(c));
}

}  // namespace dripr::sqlite
