#include "dripr/bus/embedded/sqlite_conn.h"

#include <string>

namespace dripr::embedded {

Error SqliteError(int rc, std::string_view what, sqlite3* db) {
  std::string msg = std::string(what) + ": " + sqlite3_errstr(rc);
  if (db != nullptr) {
    const char* detail = sqlite3_errmsg(db);
    if (detail != nullptr && msg.find(detail) == std::string::npos) {
      msg += std::string(" (") + detail + ")";
    }
  }
  switch (rc & 0xff) {
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
    case SQLITE_IOERR:
    case SQLITE_FULL:
    case SQLITE_CANTOPEN:
    case SQLITE_PROTOCOL:
      return Error{ErrorCode::kUnavailable, std::move(msg)};
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
      return Error{ErrorCode::kDataLoss, std::move(msg)};
    default:
      return Error{ErrorCode::kInternal, std::move(msg)};
  }
}

Stmt::~Stmt() {
  if (stmt_ != nullptr) {
    sqlite3_reset(stmt_);
    sqlite3_clear_bindings(stmt_);
  }
}

Stmt& Stmt::Bind(int i, std::string_view v) {
  // Bind errors (index out of range) are programming errors and surface at Step().
  sqlite3_bind_text(stmt_, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
  return *this;
}

Stmt& Stmt::Bind(int i, int64_t v) {
  sqlite3_bind_int64(stmt_, i, v);
  return *this;
}

Stmt& Stmt::BindNull(int i) {
  sqlite3_bind_null(stmt_, i);
  return *this;
}

Result<bool> Stmt::Step() {
  int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  return Fail(SqliteError(rc, "sqlite step", db_));
}

Result<int> Stmt::Run() {
  while (true) {
    DRIPR_ASSIGN_OR_RETURN(bool row, Step());
    if (!row) break;
  }
  return sqlite3_changes(db_);
}

std::string Stmt::Text(int col) const {
  const auto* p = sqlite3_column_text(stmt_, col);
  int n = sqlite3_column_bytes(stmt_, col);
  if (p == nullptr) return {};
  return std::string(reinterpret_cast<const char*>(p), static_cast<size_t>(n));
}

Result<std::unique_ptr<SqliteConn>> SqliteConn::Open(const std::string& path,
                                                     std::chrono::milliseconds busy_timeout) {
  sqlite3* db = nullptr;
  int rc = sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, nullptr);
  if (rc != SQLITE_OK) {
    Error e = SqliteError(rc, "open " + path, db);
    sqlite3_close(db);
    return Fail(ErrorCode::kUnavailable, e.message);
  }
  std::unique_ptr<SqliteConn> conn(new SqliteConn(db));
  sqlite3_busy_timeout(db, static_cast<int>(busy_timeout.count()));
  sqlite3_extended_result_codes(db, 1);
  // WAL lets readers run beside one writer across processes; it is persistent in the file.
  // NORMAL keeps every commit across a process crash (not across power loss).
  DRIPR_TRY(conn->Exec("PRAGMA journal_mode=WAL"));
  DRIPR_TRY(conn->Exec("PRAGMA synchronous=NORMAL"));
  return conn;
}

SqliteConn::~SqliteConn() {
  for (auto& [sql, stmt] : cache_) sqlite3_finalize(stmt);
  sqlite3_close_v2(db_);
}

Status SqliteConn::Exec(std::string_view sql) {
  std::string text(sql);
  char* err = nullptr;
  int rc = sqlite3_exec(db_, text.c_str(), nullptr, nullptr, &err);
  if (err != nullptr) sqlite3_free(err);
  if (rc != SQLITE_OK) return Fail(SqliteError(rc, "sqlite exec", db_));
  return Ok();
}

Result<Stmt> SqliteConn::Prepare(const std::string& sql) {
  auto it = cache_.find(sql);
  if (it == cache_.end()) {
    sqlite3_stmt* s = nullptr;
    int rc = sqlite3_prepare_v3(db_, sql.c_str(), static_cast<int>(sql.size()),
                                SQLITE_PREPARE_PERSISTENT, &s, nullptr);
    if (rc != SQLITE_OK) return Fail(SqliteError(rc, "sqlite prepare", db_));
    it = cache_.emplace(sql, s).first;
  }
  return Stmt(it->second, db_);
}

ImmediateTxn::~ImmediateTxn() {
  if (open_) (void)conn_.Exec("ROLLBACK");
}

Status ImmediateTxn::Begin() {
  DRIPR_TRY(conn_.Exec("BEGIN IMMEDIATE"));
  open_ = true;
  return Ok();
}

Status ImmediateTxn::Commit() {
  DRIPR_TRY(conn_.Exec("COMMIT"));
  open_ = false;
  return Ok();
}

}  // namespace dripr::embedded
