#include "dripr/store/mysql/my_conn.h"

#include <errmsg.h>
#include <mysqld_error.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstring>
#include <mutex>

#include "dripr/core/text.h"

namespace dripr::my {

namespace {

Result<std::string> PercentDecode(std::string_view in, std::string_view what) {
  std::string out;
  for (size_t i = 0; i < in.size(); ++i) {
    if (in[i] != '%') {
      out += in[i];
      continue;
    }
    int hi = i + 2 < in.size() ? HexDigitValue(in[i + 1]) : -1;
    int lo = i + 2 < in.size() ? HexDigitValue(in[i + 2]) : -1;
    if (hi < 0 || lo < 0) {
      return Fail(ErrorCode::kInvalidArgument,
                  "MySQL URL: bad percent-encoding in the " + std::string(what));
    }
    out += static_cast<char>(hi * 16 + lo);
    i += 2;
  }
  return out;
}

std::string Upper(std::string s) {
  for (char& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return s;
}

}  // namespace

Result<Url> Url::Parse(std::string_view url) {
  auto bad = [](const std::string& why) {
    return Fail(ErrorCode::kInvalidArgument, "MySQL URL: " + why);
  };
  std::string_view rest;
  if (url.starts_with("mysql://")) {
    rest = url.substr(8);
  } else if (url.starts_with("mariadb://")) {
    rest = url.substr(10);
  } else {
    return bad("expected mysql://user:password@host:port/database");
  }
  Url u;
  std::string_view query;
  if (size_t q = rest.find('?'); q != std::string_view::npos) {
    query = rest.substr(q + 1);
    rest = rest.substr(0, q);
  }
  // The password may contain '@' only percent-encoded; the last '@' ends the credentials.
  if (size_t at = rest.rfind('@'); at != std::string_view::npos) {
    std::string_view creds = rest.substr(0, at);
    rest = rest.substr(at + 1);
    size_t colon = creds.find(':');
    DRIPR_ASSIGN_OR_RETURN(u.user, PercentDecode(creds.substr(0, colon), "user"));
    if (colon != std::string_view::npos) {
      DRIPR_ASSIGN_OR_RETURN(u.password, PercentDecode(creds.substr(colon + 1), "password"));
    }
  }
  size_t slash = rest.find('/');
  if (slash == std::string_view::npos) return bad("missing /database");
  std::string_view hostport = rest.substr(0, slash);
  DRIPR_ASSIGN_OR_RETURN(u.database, PercentDecode(rest.substr(slash + 1), "database"));
  if (u.database.empty() || u.database.find('/') != std::string::npos) {
    return bad("missing /database");
  }
  if (hostport.starts_with('[')) {  // [ipv6]:port
    size_t close = hostport.find(']');
    if (close == std::string_view::npos) return bad("unclosed [ in the host");
    u.host = std::string(hostport.substr(1, close - 1));
    hostport = hostport.substr(close + 1);
    if (!hostport.empty() && hostport[0] != ':') return bad("bad host");
  } else {
    size_t colon = hostport.find(':');
    u.host = std::string(hostport.substr(0, colon));
    hostport = colon == std::string_view::npos ? std::string_view() : hostport.substr(colon);
  }
  if (!hostport.empty()) {
    std::string_view p = hostport.substr(1);
    unsigned port = 0;
    auto [end, ec] = std::from_chars(p.data(), p.data() + p.size(), port);
    if (ec != std::errc() || end != p.data() + p.size() || port == 0 || port > 65535) {
      return bad("port must be a number between 1 and 65535");
    }
    u.port = port;
  }
  if (u.host.empty()) u.host = "localhost";
  bool mode_given = false;
  while (!query.empty()) {
    size_t amp = query.find('&');
    std::string_view kv = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
    if (kv.empty()) continue;
    size_t eq = kv.find('=');
    std::string key(kv.substr(0, eq));
    std::replace(key.begin(), key.end(), '_', '-');
    DRIPR_ASSIGN_OR_RETURN(
        std::string value,
        PercentDecode(eq == std::string_view::npos ? std::string_view() : kv.substr(eq + 1),
                      "parameter " + Excerpt(key, 32)));
    if (key == "ssl-mode" || key == "sslmode") {
      std::string m = Upper(value);
      if (m == "DISABLED") {
        u.ssl_mode = SslMode::kDisabled;
      } else if (m == "PREFERRED") {
        u.ssl_mode = SslMode::kPreferred;
      } else if (m == "REQUIRED") {
        u.ssl_mode = SslMode::kRequired;
      } else if (m == "VERIFY_CA" || m == "VERIFY-CA") {
        u.ssl_mode = SslMode::kVerifyCa;
      } else if (m == "VERIFY_IDENTITY" || m == "VERIFY-IDENTITY") {
        u.ssl_mode = SslMode::kVerifyIdentity;
      } else {
        return bad("ssl-mode must be DISABLED, PREFERRED, REQUIRED, VERIFY_CA or VERIFY_IDENTITY");
      }
      mode_given = true;
    } else if (key == "ssl-ca") {
      if (value.empty()) return bad("ssl-ca needs a file");
      u.ssl_ca = value;
    } else if (key == "socket") {
      if (value.empty()) return bad("socket needs a path");
      u.socket = value;
    } else {
      return bad("unknown parameter \"" + Excerpt(key, 32) +
                 "\" (known: ssl-mode, ssl-ca, socket)");
    }
  }
  if (!u.ssl_ca.empty() && !mode_given) u.ssl_mode = SslMode::kVerifyCa;
  if (u.user.empty()) return bad("missing user (mysql://user:password@host/database)");
  return u;
}

std::string Url::Describe() const {
  std::string where = socket.empty() ? host + ":" + std::to_string(port) : socket;
  return user + "@" + where + "/" + database;
}

// ---- Params ----

Params::Value& Params::Add(Value::Kind kind) {
  values_.emplace_back().kind = kind;
  return values_.back();
}

Params& Params::Text(std::string_view v) {
  Add(Value::Kind::kText).text = std::string(v);
  return *this;
}

Params& Params::TextOrNull(std::string_view v) { return v.empty() ? Null() : Text(v); }

Params& Params::Int(int64_t v) {
  Add(Value::Kind::kInt).i = v;
  return *this;
}

Params& Params::Real(double v) {
  Add(Value::Kind::kReal).d = v;
  return *this;
}

Params& Params::Time(SysTime t) {
  using namespace std::chrono;
  auto us = floor<microseconds>(t);
  auto day = floor<days>(us);
  year_month_day ymd{day};
  hh_mm_ss hms{us - day};
  MYSQL_TIME& time = Add(Value::Kind::kTime).time;
  time.year = static_cast<unsigned>(static_cast<int>(ymd.year()));
  time.month = static_cast<unsigned>(ymd.month());
  time.day = static_cast<unsigned>(ymd.day());
  time.hour = static_cast<unsigned>(hms.hours().count());
  time.minute = static_cast<unsigned>(hms.minutes().count());
  time.second = static_cast<unsigned>(hms.seconds().count());
  time.second_part = static_cast<unsigned long>(hms.subseconds().count());
  time.time_type = MYSQL_TIMESTAMP_DATETIME;
  return *this;
}

Params& Params::Null() {
  Add(Value::Kind::kNull);
  return *this;
}

// ---- Rows ----

std::string Rows::Text(int row, int col) const {
  const auto& c = rows_[row][col];
  if (!c) return "";
  switch (c->kind) {
    case Cell::Kind::kInt:
      return std::to_string(c->i);
    case Cell::Kind::kReal: {
      char buf[32];
      auto [end, ec] = std::to_chars(buf, buf + sizeof buf, c->d);
      return ec == std::errc() ? std::string(buf, end) : "";
    }
    case Cell::Kind::kText:
      break;
  }
  return c->text;
}

template <class T>
std::optional<T> Rows::Number(int row, int col) const {
  const auto& c = rows_[row][col];
  if (!c) return std::nullopt;
  switch (c->kind) {
    case Cell::Kind::kInt:
      return static_cast<T>(c->i);
    case Cell::Kind::kReal:
      return static_cast<T>(c->d);
    case Cell::Kind::kText:
      break;
  }
  T v = 0;
  std::from_chars(c->text.data(), c->text.data() + c->text.size(), v);
  return v;
}

std::optional<int64_t> Rows::OptInt(int row, int col) const { return Number<int64_t>(row, col); }
std::optional<double> Rows::OptReal(int row, int col) const { return Number<double>(row, col); }

// ---- Errors ----

ErrorCode CodeFor(unsigned err) {
  switch (err) {
    case ER_DUP_ENTRY:
      return ErrorCode::kAlreadyExists;
    case ER_LOCK_DEADLOCK:
    case ER_LOCK_WAIT_TIMEOUT:
      return ErrorCode::kAborted;
    case CR_CONNECTION_ERROR:
    case CR_CONN_HOST_ERROR:
    case CR_SERVER_GONE_ERROR:
    case CR_SERVER_LOST:
    case CR_SERVER_LOST_EXTENDED:
    case CR_UNKNOWN_HOST:
    case CR_COMMANDS_OUT_OF_SYNC:
    case ER_SERVER_SHUTDOWN:
    case ER_CON_COUNT_ERROR:
    case ER_CONNECTION_KILLED:
    case 4031:  // MySQL 8: the client was disconnected by the server (inactivity)
      return ErrorCode::kUnavailable;
    case ER_NO_SUCH_TABLE:
      return ErrorCode::kFailedPrecondition;
    case ER_ACCESS_DENIED_ERROR:
    case ER_DBACCESS_DENIED_ERROR:
      return ErrorCode::kPermissionDenied;
    case ER_WARN_DATA_OUT_OF_RANGE:
    case WARN_DATA_TRUNCATED:
    case ER_TRUNCATED_WRONG_VALUE:
    case ER_TRUNCATED_WRONG_VALUE_FOR_FIELD:
    case ER_DATA_TOO_LONG:
    case ER_BAD_NULL_ERROR:
      return ErrorCode::kInvalidArgument;
    default:
      return ErrorCode::kInternal;
  }
}

namespace {

// A connection-level failure: the connection cannot be used again.
// (Every client-side error, 2000-2999, leaves the session unusable or in doubt.)
bool LostConnection(unsigned err) {
  if (err >= 2000 && err < 3000) return true;
  return err == ER_SERVER_SHUTDOWN || err == ER_CONNECTION_KILLED || err == 4031;
}

std::once_flag library_once;

// Prepared statements kept per connection. The server's max_prepared_stmt_count (16382 by
// default) is shared by all sessions; a connection typically holds ~50 (docs/operations.md).
constexpr size_t kMaxCachedStatements = 256;

}  // namespace

Error Connection::Failed(unsigned err, const char* message, std::string_view what) {
  if (LostConnection(err)) healthy_ = false;
  ErrorCode code = CodeFor(err);
  std::string text = "MySQL error " + std::to_string(err) + " " + std::string(what) + ": " +
                     std::string(message != nullptr ? message : "");
  std::replace(text.begin(), text.end(), '\n', ' ');
  if (code == ErrorCode::kFailedPrecondition) text += " (run `dripr migrate`)";
  return Error{code, text};
}

// ---- Connection ----

Result<std::unique_ptr<Connection>> Connection::Open(const Url& url,
                                                     std::chrono::seconds connect_timeout) {
  std::call_once(library_once, [] { mysql_library_init(0, nullptr, nullptr); });
  MYSQL* c = mysql_init(nullptr);
  if (c == nullptr) return Fail(ErrorCode::kInternal, "MySQL: out of memory");
  unsigned timeout = static_cast<unsigned>(std::max<int64_t>(1, connect_timeout.count()));
  unsigned io_timeout = 60;
  mysql_optionsv(c, MYSQL_OPT_CONNECT_TIMEOUT, &timeout);
  mysql_optionsv(c, MYSQL_OPT_READ_TIMEOUT, &io_timeout);
  mysql_optionsv(c, MYSQL_OPT_WRITE_TIMEOUT, &io_timeout);
  mysql_optionsv(c, MYSQL_SET_CHARSET_NAME, "utf8mb4");
  my_bool off = 0, on = 1;
  // Never reconnect behind our back: prepared statements and the transaction would be lost.
  mysql_optionsv(c, MYSQL_OPT_RECONNECT, &off);
  using M = Url::SslMode;
  if (!url.ssl_ca.empty()) mysql_optionsv(c, MYSQL_OPT_SSL_CA, url.ssl_ca.c_str());
  if (url.ssl_mode == M::kRequired || url.ssl_mode == M::kVerifyCa ||
      url.ssl_mode == M::kVerifyIdentity) {
    mysql_optionsv(c, MYSQL_OPT_SSL_ENFORCE, &on);
  }
  my_bool verify = url.ssl_mode == M::kVerifyCa || url.ssl_mode == M::kVerifyIdentity;
  mysql_optionsv(c, MYSQL_OPT_SSL_VERIFY_SERVER_CERT, &verify);
  const bool local_socket = !url.socket.empty();
  MYSQL* ok =
      mysql_real_connect(c, local_socket ? "localhost" : url.host.c_str(), url.user.c_str(),
                         url.password.c_str(), url.database.c_str(), local_socket ? 0 : url.port,
                         local_socket ? url.socket.c_str() : nullptr, CLIENT_FOUND_ROWS);
  if (ok == nullptr) {
    unsigned err = mysql_errno(c);
    std::string message = mysql_error(c);
    mysql_close(c);
    std::replace(message.begin(), message.end(), '\n', ' ');
    ErrorCode code = CodeFor(err);
    if (code == ErrorCode::kInternal) code = ErrorCode::kUnavailable;
    if (err == ER_BAD_DB_ERROR) code = ErrorCode::kFailedPrecondition;
    return Fail(code, "cannot connect to MySQL " + url.Describe() + ": " + message);
  }
  // Some Connector/C versions treat MYSQL_OPT_SSL_ENFORCE as a preference: check that TLS
  // is really in use rather than trust it.
  if ((url.ssl_mode == M::kRequired || url.ssl_mode == M::kVerifyCa ||
       url.ssl_mode == M::kVerifyIdentity) &&
      mysql_get_ssl_cipher(c) == nullptr) {
    mysql_close(c);
    return Fail(ErrorCode::kUnavailable, "cannot connect to MySQL " + url.Describe() +
                                             ": ssl-mode asks for TLS but the server does not "
                                             "support it");
  }
  std::unique_ptr<Connection> conn(new Connection(c));
  // READ COMMITTED: see docs/decisions/mysql.md. UTC for DATETIME(6); strict mode so a bad
  // value is an error rather than a warning and a silently changed row.
  // (Two statements: the isolation level has no portable session variable across MySQL 8
  // and MariaDB 10.x.)
  auto set = conn->Query("SET SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED");
  if (set) {
    set = conn->Query(
        "SET SESSION time_zone = '+00:00', SESSION sql_mode = 'STRICT_ALL_TABLES,NO_ZERO_DATE,"
        "NO_ZERO_IN_DATE,ERROR_FOR_DIVISION_BY_ZERO,NO_ENGINE_SUBSTITUTION,ONLY_FULL_GROUP_BY'");
  }
  if (!set) return Fail(set.error());
  return conn;
}

Connection::~Connection() {
  for (auto& [sql, stmt] : statements_) mysql_stmt_close(stmt);
  mysql_close(conn_);
}

Status Connection::Query(std::string_view sql) {
  if (mysql_real_query(conn_, sql.data(), sql.size()) != 0) {
    return Fail(Failed(mysql_errno(conn_), mysql_error(conn_), "in query"));
  }
  // Drain any result (e.g. SELECT GET_LOCK) so the connection stays in sync.
  if (MYSQL_RES* r = mysql_store_result(conn_)) mysql_free_result(r);
  if (mysql_errno(conn_) != 0) {
    return Fail(Failed(mysql_errno(conn_), mysql_error(conn_), "reading a result"));
  }
  return Ok();
}

Result<Rows> Connection::Exec(std::string_view sql, const Params& params) {
  std::string key(sql);
  auto it = statements_.find(key);
  if (it == statements_.end()) {
    MYSQL_STMT* s = mysql_stmt_init(conn_);
    if (s == nullptr) return Fail(ErrorCode::kInternal, "MySQL: out of memory");
    if (mysql_stmt_prepare(s, sql.data(), sql.size()) != 0) {
      Error e = Failed(mysql_stmt_errno(s), mysql_stmt_error(s), "preparing a statement");
      mysql_stmt_close(s);
      return Fail(std::move(e));
    }
    if (statements_.size() >= kMaxCachedStatements) {
      // Rare (the store's SQL texts are few); start afresh rather than grow without bound.
      for (auto& [text, stmt] : statements_) mysql_stmt_close(stmt);
      statements_.clear();
    }
    it = statements_.emplace(std::move(key), s).first;
  }
  MYSQL_STMT* s = it->second;
  auto stmt_error = [&](std::string_view what) {
    return Fail(Failed(mysql_stmt_errno(s), mysql_stmt_error(s), what));
  };
  if (mysql_stmt_param_count(s) != params.size()) {
    return Fail(ErrorCode::kInternal, "MySQL: statement wants " +
                                          std::to_string(mysql_stmt_param_count(s)) +
                                          " parameters, got " + std::to_string(params.size()));
  }
  std::vector<MYSQL_BIND> binds(params.size());
  std::vector<my_bool> nulls(params.size(), 0);
  for (size_t i = 0; i < params.size(); ++i) {
    auto& v = const_cast<Params::Value&>(params.values_[i]);
    MYSQL_BIND& b = binds[i];
    std::memset(&b, 0, sizeof b);
    switch (v.kind) {
      case Params::Value::Kind::kNull:
        b.buffer_type = MYSQL_TYPE_NULL;
        nulls[i] = 1;
        b.is_null = &nulls[i];
        break;
      case Params::Value::Kind::kText:
        b.buffer_type = MYSQL_TYPE_STRING;
        b.buffer = v.text.data();
        b.buffer_length = v.text.size();
        break;
      case Params::Value::Kind::kInt:
        b.buffer_type = MYSQL_TYPE_LONGLONG;
        b.buffer = &v.i;
        break;
      case Params::Value::Kind::kReal:
        b.buffer_type = MYSQL_TYPE_DOUBLE;
        b.buffer = &v.d;
        break;
      case Params::Value::Kind::kTime:
        b.buffer_type = MYSQL_TYPE_DATETIME;
        b.buffer = &v.time;
        break;
    }
  }
  if (!binds.empty() && mysql_stmt_bind_param(s, binds.data()) != 0) {
    return stmt_error("binding parameters");
  }
  if (mysql_stmt_execute(s) != 0) return stmt_error("executing");
  Rows out;
  MYSQL_RES* meta = mysql_stmt_result_metadata(s);
  if (meta == nullptr) {
    out.affected_ = static_cast<int64_t>(mysql_stmt_affected_rows(s));
    return out;
  }
  std::unique_ptr<MYSQL_RES, decltype(&mysql_free_result)> meta_guard(meta, &mysql_free_result);
  const unsigned n = mysql_num_fields(meta);
  MYSQL_FIELD* fields = mysql_fetch_fields(meta);
  // Integers and doubles are fetched in binary (no text round trip); the rest as text.
  struct Column {
    Rows::Cell::Kind kind;
    std::string buf;
    int64_t i = 0;
    double d = 0;
    unsigned long length = 0;
    my_bool is_null = 0;
    my_bool error = 0;
  };
  std::vector<Column> cols(n);
  std::vector<MYSQL_BIND> rb(n);
  for (unsigned i = 0; i < n; ++i) {
    MYSQL_BIND& b = rb[i];
    std::memset(&b, 0, sizeof b);
    Column& c = cols[i];
    switch (fields[i].type) {
      case MYSQL_TYPE_TINY:
      case MYSQL_TYPE_SHORT:
      case MYSQL_TYPE_INT24:
      case MYSQL_TYPE_LONG:
      case MYSQL_TYPE_LONGLONG:
        c.kind = Rows::Cell::Kind::kInt;
        b.buffer_type = MYSQL_TYPE_LONGLONG;
        b.buffer = &c.i;
        break;
      case MYSQL_TYPE_FLOAT:
      case MYSQL_TYPE_DOUBLE:
        c.kind = Rows::Cell::Kind::kReal;
        b.buffer_type = MYSQL_TYPE_DOUBLE;
        b.buffer = &c.d;
        break;
      default:
        c.kind = Rows::Cell::Kind::kText;
        c.buf.resize(256);
        b.buffer_type = MYSQL_TYPE_STRING;
        b.buffer = c.buf.data();
        b.buffer_length = c.buf.size();
        break;
    }
    b.length = &c.length;
    b.is_null = &c.is_null;
    b.error = &c.error;
  }
  if (mysql_stmt_bind_result(s, rb.data()) != 0) return stmt_error("binding results");
  if (mysql_stmt_store_result(s) != 0) return stmt_error("reading results");
  while (true) {
    int r = mysql_stmt_fetch(s);
    if (r == MYSQL_NO_DATA) break;
    if (r == 1) {
      auto e = stmt_error("fetching a row");
      mysql_stmt_free_result(s);
      return e;
    }
    auto& row = out.rows_.emplace_back(n);
    for (unsigned i = 0; i < n; ++i) {
      Column& c = cols[i];
      if (c.is_null) continue;
      Rows::Cell cell;
      cell.kind = c.kind;
      cell.i = c.i;
      cell.d = c.d;
      if (c.kind == Rows::Cell::Kind::kText) {
        if (c.length > c.buf.size()) {  // truncated: fetch the whole value
          cell.text.resize(c.length);
          MYSQL_BIND one;
          std::memset(&one, 0, sizeof one);
          one.buffer_type = MYSQL_TYPE_STRING;
          one.buffer = cell.text.data();
          one.buffer_length = cell.text.size();
          if (mysql_stmt_fetch_column(s, &one, i, 0) != 0) {
            auto e = stmt_error("fetching a column");
            mysql_stmt_free_result(s);
            return e;
          }
        } else {
          cell.text.assign(c.buf.data(), c.length);
        }
      }
      row[i] = std::move(cell);
    }
  }
  mysql_stmt_free_result(s);
  return out;
}

}  // namespace dripr::my
