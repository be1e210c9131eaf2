#include "dripr/store/sqlite/sqlite_db.h"

#include <string>

namespace dripr::sqlite {

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
  int rc =
      sqlite3_bind_text64(stmt_, next_param_++, v.data(), v.size(), SQLITE_TRANSIENT, SQLITE_UTF8);
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

Result<std::unique_ptr<Connection>> Connection::Open(const std::string& path,
                                                     std::chrono::milliseconds busy_timeout) {
  sqlite3* db = nullptr;
  int rc = sqlite3_open_v2(
      path.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nullptr);
  if (rc != SQLITE_OK) {
    Error e = ToError(rc, db, "open sqlite database " + path);
    if (e.code == ErrorCode::kInternal) e.code = ErrorCode::kUnavailable;
    sqlite3_close_v2(db);
    return Fail(std::move(e));
  }
  sqlite3_extended_result_codes(db, 1);
  auto conn = std::unique_ptr<Connection>(new Connection(db));
  sqlite3_busy_timeout(db, static_cast<int>(busy_timeout.count()));
  // journal_mode=WAL is persistent in the file; setting it again is a cheap no-op. WAL lets
  // readers proceed while one writer commits. synchronous=NORMAL is durable against process
  // crashes in WAL mode (a power cut may lose the last commits, never corrupt the file).
  auto setup =
      conn->Exec("PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;");
  if (!setup) return Fail(setup.error().Wrap("open sqlite database " + path));
  return conn;
}

Connection::~Connection() {
  for (auto& [sql, stmt] : cache_) sqlite3_finalize(stmt);
  sqlite3_close_v2(db_);
}

Result<Statement> Connection::Prepare(std::string_view sql) {
  auto it = cache_.find(std::string(sql));
  if (it == cache_.end()) {
    sqlite3_stmt* stmt = nullptr;
    int rc = sqlite3_prepare_v3(db_, sql.data(), static_cast<int>(sql.size()),
                                SQLITE_PREPARE_PERSISTENT, &stmt, nullptr);
    if (rc != SQLITE_OK) {
      return Fail(ToError(sqlite3_extended_errcode(db_), db_,
                          "prepare \"" + std::string(sql.substr(0, 80)) + "\""));
    }
    it = cache_.emplace(std::string(sql), stmt).first;
  }
  return Statement(it->second, db_);
}

Status Connection::Exec(const std::string& sql) {
  char* err = nullptr;
  int rc = sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &err);
  if (rc != SQLITE_OK) {
    sqlite3_free(err);
    return Fail(ToError(sqlite3_extended_errcode(db_), db_, "sqlite"));
  }
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
  DRIPR_ASSIGN_OR_RETURN(auto c, Connection::Open(path_, busy_timeout_));
  return Lease(this, std::move(c));
}

void ConnectionPool::Release(std::unique_ptr<Connection> c) {
  // A connection left inside a transaction (an error path that could not roll back) is
  // dropped rather than handed to the next user.
  if (c->InTransaction() && !c->Exec("ROLLBACK")) return;
  std::lock_guard lock(mu_);
  if (idle_.size() < max_idle_) idle_.push_back(std::move(c));
}

// ---- WriteTransaction ----

Result<WriteTransaction> WriteTransaction::Begin(Connection& c) {
  auto r = c.Exec("BEGIN IMMEDIATE");
  if (!r) return Fail(r.error().Wrap("begin write transaction"));
  return WriteTransaction(&c);
}

WriteTransaction::~WriteTransaction() {
  if (c_ != nullptr && c_->InTransaction()) (void)c_->Exec("ROLLBACK");
}

Status WriteTransaction::Commit() {
  Connection* c = c_;
  c_ = nullptr;
  auto r = c->Exec("COMMIT");
  if (!r) {
    if (c->InTransaction()) (void)c->Exec("ROLLBACK");
    return Fail(r.error().Wrap("commit"));
  }
  return Ok();
}

}  // namespace dripr::sqlite
