#include "dripr/store/postgres/pg_conn.h"

#include <algorithm>
#include <array>
#include <charconv>
#include <cstdlib>

#include "dripr/core/time.h"
#include "dripr/core/url_password.h"

namespace dripr::pg {

namespace {

using NumberText = std::array<char, 64>;

// `v` as text in `buf` (a double in its shortest round-trip form).
template <class T>
std::string_view ToText(T v, NumberText& buf) {
  auto [end, ec] = std::to_chars(buf.data(), buf.data() + buf.size(), v);
  return {buf.data(), ec == std::errc() ? static_cast<size_t>(end - buf.data()) : 0};
}

}  // namespace

// ---- CopyText ----

void CopyText::Separate() {
  if (row_open_) data_ += '\t';
  row_open_ = true;
}

CopyText& CopyText::Text(std::string_view v) {
  Separate();
  for (char ch : v) {
    switch (ch) {
      case '\\':
        data_ += "\\\\";
        break;
      case '\t':
        data_ += "\\t";
        break;
      case '\n':
        data_ += "\\n";
        break;
      case '\r':
        data_ += "\\r";
        break;
      default:
        data_ += ch;
    }
  }
  return *this;
}

CopyText& CopyText::TextOrNull(std::string_view v) { return v.empty() ? Null() : Text(v); }

CopyText& CopyText::Int(int64_t v) {
  Separate();
  data_ += std::to_string(v);
  return *this;
}

CopyText& CopyText::Real(double v) {
  Separate();
  NumberText buf;
  data_ += ToText(v, buf);
  return *this;
}

CopyText& CopyText::Null() {
  Separate();
  data_ += "\\N";
  return *this;
}

CopyText& CopyText::EndRow() {
  data_ += '\n';
  row_open_ = false;
  ++rows_;
  return *this;
}

// ---- Params ----

Params& Params::Add(std::string_view v) {
  starts_.push_back(static_cast<std::ptrdiff_t>(data_.size()));
  data_.append(v);
  data_ += '\0';
  return *this;
}

std::vector<const char*> Params::Pointers() const {
  std::vector<const char*> out;
  out.reserve(starts_.size());
  for (std::ptrdiff_t start : starts_) out.push_back(start < 0 ? nullptr : data_.data() + start);
  return out;
}

Params& Params::Text(std::string_view v) { return Add(v); }

Params& Params::TextOrNull(std::string_view v) {
  if (v.empty()) return Null();
  return Text(v);
}

Params& Params::Int(int64_t v) {
  NumberText buf;
  return Add(ToText(v, buf));
}

Params& Params::Real(double v) {
  NumberText buf;
  return Add(ToText(v, buf));
}

Params& Params::Time(SysTime t) { return Text(FormatIso8601(t)); }

Params& Params::Null() {
  starts_.push_back(-1);
  return *this;
}

Params& Params::OptInt(const std::optional<int64_t>& v) { return v ? Int(*v) : Null(); }
Params& Params::OptInt(const std::optional<int>& v) { return v ? Int(*v) : Null(); }
Params& Params::OptReal(const std::optional<double>& v) { return v ? Real(*v) : Null(); }

// ---- Rows ----

int64_t Rows::Affected() const {
  if (!result_) return 0;
  const char* n = PQcmdTuples(result_.get());
  return n == nullptr || *n == '\0' ? 0 : std::strtoll(n, nullptr, 10);
}

std::string Rows::Text(int row, int col) const {
  if (IsNull(row, col)) return {};
  return std::string(PQgetvalue(result_.get(), row, col),
                     static_cast<size_t>(PQgetlength(result_.get(), row, col)));
}

std::optional<int64_t> Rows::OptInt(int row, int col) const {
  if (IsNull(row, col)) return std::nullopt;
  return std::strtoll(PQgetvalue(result_.get(), row, col), nullptr, 10);
}

std::optional<double> Rows::OptReal(int row, int col) const {
  if (IsNull(row, col)) return std::nullopt;
  return std::strtod(PQgetvalue(result_.get(), row, col), nullptr);
}

// ---- errors ----

namespace {

ErrorCode CodeFor(std::string_view state) {
  if (state == "23505") return ErrorCode::kAlreadyExists;
  if (state == "40001" || state == "40P01") return ErrorCode::kAborted;
  if (state.starts_with("08") || state.starts_with("53") || state == "57P01" || state == "57P02" ||
      state == "57P03" || state == "55P03") {
    return ErrorCode::kUnavailable;
  }
  if (state == "57014") return ErrorCode::kDeadlineExceeded;
  if (state == "42P01") return ErrorCode::kFailedPrecondition;
  if (state.starts_with("22")) return ErrorCode::kInvalidArgument;
  return ErrorCode::kInternal;
}

// libpq's messages end with a newline and may continue on indented lines ("\n\tIs the
// server running..."): one line is easier to log and is what the CLI promises.
std::string Trimmed(const char* text) {
  std::string out;
  bool space = false;
  for (const char* p = text == nullptr ? "" : text; *p != '\0'; ++p) {
    if (*p == '\n' || *p == '\t' || *p == '\r' || *p == ' ') {
      space = !out.empty();
      continue;
    }
    if (space) out += ' ';
    space = false;
    out += *p;
  }
  return out;
}

// libpq's message about a URL it cannot parse quotes what it could not read: a password
// ("invalid percent-encoded token: \"50%off\""), or the whole URL. Every quoted part
// becomes "…".
std::string WithoutQuotedText(std::string_view message) {
  std::string out;
  for (;;) {
    const size_t open = message.find('"');
    const size_t close = open == std::string_view::npos ? open : message.find('"', open + 1);
    if (close == std::string_view::npos) {
      out.append(message.substr(0, open));  // an unpaired quote: nothing after it either
      return out;
    }
    out.append(message.substr(0, open)).append("\"…\"");
    message.remove_prefix(close + 1);
  }
}

// The secrets a connection URL holds, longest first: the password and the client key's
// passphrase as libpq reads them (from the user-info or the query) and the user-info password
// as written (percent-encoded).
std::vector<std::string> UrlSecrets(std::string_view url, const PQconninfoOption* options) {
  std::vector<std::string> secrets;
  for (const PQconninfoOption* o = options; o->keyword != nullptr; ++o) {
    const std::string_view key = o->keyword;
    if ((key == "password" || key == "sslpassword") && o->val != nullptr && *o->val != '\0') {
      secrets.emplace_back(o->val);
    }
  }
  if (auto span = UrlPasswordSpan(url); span && span->end > span->begin) {
    secrets.emplace_back(url.substr(span->begin, span->end - span->begin));
  }
  std::sort(secrets.begin(), secrets.end(),
            [](const std::string& a, const std::string& b) { return a.size() > b.size(); });
  return secrets;
}

// `message` with every occurrence of each secret replaced by "****".
std::string Scrubbed(std::string message, const std::vector<std::string>& secrets) {
  for (const std::string& secret : secrets) {
    for (size_t at = message.find(secret); at != std::string::npos;
         at = message.find(secret, at + 4)) {
      message.replace(at, secret.size(), "****");
    }
  }
  return message;
}

// Whether libpq reads the user-info as it is masked: it ends the user-info at the first '@'
// before any '/', the mask (MaskUrlPassword) at the last '@' before the query. Where they
// differ, an unencoded '/' or '@' in the password (or an '@' in the database name) makes
// libpq read part of the password as the host, the port or the database, and quote it in
// its messages.
bool UserInfoUnambiguous(std::string_view url) {
  const auto span = UrlPasswordSpan(url);
  if (!span) return true;
  const size_t start = url.find("://") + 3;
  const size_t at = url.find_first_of("@/", start);
  return at == span->end && url[at] == '@';
}

}  // namespace

Error ErrorFrom(PGconn* conn, const PGresult* result, std::string_view what) {
  const char* state = result != nullptr ? PQresultErrorField(result, PG_DIAG_SQLSTATE) : nullptr;
  std::string message = Trimmed(result != nullptr ? PQresultErrorMessage(result) : nullptr);
  if (message.empty() && conn != nullptr) message = Trimmed(PQerrorMessage(conn));
  if (message.empty()) message = "unknown PostgreSQL error";
  ErrorCode code;
  if (state != nullptr) {
    code = CodeFor(state);
    message += std::string(" (SQLSTATE ") + state + ")";
  } else {
    // No SQLSTATE: the client library failed, most often because the connection is gone.
    code = conn != nullptr && PQstatus(conn) != CONNECTION_OK ? ErrorCode::kUnavailable
                                                              : ErrorCode::kInternal;
    if (code == ErrorCode::kInternal && message.find("connection") != std::string::npos) {
      code = ErrorCode::kUnavailable;
    }
  }
  if (code == ErrorCode::kFailedPrecondition) message += "; run `dripr migrate`";
  Error e{code, "PostgreSQL: " + message};
  return what.empty() ? e : e.Wrap(what);
}

std::optional<std::vector<std::string>> UrlHosts(const std::string& url) {
  char* error = nullptr;
  PQconninfoOption* options = PQconninfoParse(url.c_str(), &error);
  if (error != nullptr) PQfreemem(error);
  if (options == nullptr) return std::nullopt;
  std::vector<std::string> hosts;
  bool named = false;
  for (const PQconninfoOption* o = options; o->keyword != nullptr; ++o) {
    const std::string_view key = o->keyword;
    if ((key != "host" && key != "hostaddr") || o->val == nullptr) continue;
    named = true;
    std::string_view list = o->val;
    for (;;) {
      const size_t comma = list.find(',');
      hosts.emplace_back(list.substr(0, comma));
      if (comma == std::string_view::npos) break;
      list.remove_prefix(comma + 1);
    }
  }
  PQconninfoFree(options);
  if (!named) hosts.emplace_back();
  return hosts;
}

// ---- Connection ----

Result<std::unique_ptr<Connection>> Connection::Open(const std::string& url,
                                                     std::chrono::seconds connect_timeout) {
  // Whether the URL parses is decided here, not from libpq's connection message: its
  // messages about a URL quote the URL's text, a password included.
  char* parse_error = nullptr;
  PQconninfoOption* options = PQconninfoParse(url.c_str(), &parse_error);
  if (options == nullptr) {
    const std::string why = parse_error != nullptr ? Trimmed(parse_error) : "out of memory";
    if (parse_error != nullptr) PQfreemem(parse_error);
    return Fail(ErrorCode::kInvalidArgument,
                "not a valid PostgreSQL URL (libpq: " + WithoutQuotedText(why) + ")");
  }
  const std::vector<std::string> secrets = UrlSecrets(url, options);
  PQconninfoFree(options);
  if (!UserInfoUnambiguous(url)) {
    return Fail(ErrorCode::kInvalidArgument,
                "not a valid PostgreSQL URL: '/' or '@' in the password (or '@' in the database "
                "name) must be percent-encoded (%2F, %40)");
  }
  // Defaults come before dbname so that settings in the URL itself win (expand_dbname).
  const std::string timeout = std::to_string(std::max<int64_t>(1, connect_timeout.count()));
  const char* keys[] = {
      "connect_timeout",  "keepalives",       "keepalives_idle", "keepalives_interval",
      "keepalives_count", "application_name", "dbname",          nullptr};
  const char* values[] = {timeout.c_str(), "1", "30", "10", "3", "dripr", url.c_str(), nullptr};
  PGconn* c = PQconnectdbParams(keys, values, /*expand_dbname=*/1);
  if (c == nullptr) return Fail(ErrorCode::kInternal, "PostgreSQL: out of memory");
  if (PQstatus(c) != CONNECTION_OK) {
    std::string message = Scrubbed(Trimmed(PQerrorMessage(c)), secrets);
    PQfinish(c);
    // A setting's value libpq refuses before connecting ("invalid integer value \"abc\" for
    // connection option \"port\"", "invalid sslmode value: ...", "invalid port number: ...")
    // is the URL's fault too; anything else is the server or the network.
    constexpr size_t npos = std::string::npos;
    const bool bad_url = (message.starts_with("invalid ") && message.find(" value") != npos) ||
                         message.starts_with("invalid port number") ||
                         message.starts_with("could not match ");
    ErrorCode code = bad_url ? ErrorCode::kInvalidArgument : ErrorCode::kUnavailable;
    return Fail(code, "cannot connect to PostgreSQL: " + message);
  }
  // Timestamps are exchanged as UTC; notices (e.g. "relation exists, skipping") stay quiet.
  PGresult* r = PQexec(c, "SET TimeZone = 'UTC'; SET client_min_messages = warning");
  bool ok = PQresultStatus(r) == PGRES_COMMAND_OK;
  Error e = ok ? Error{} : ErrorFrom(c, r, "configure PostgreSQL session");
  PQclear(r);
  if (!ok) {
    PQfinish(c);
    e.message = Scrubbed(std::move(e.message), secrets);
    return Fail(std::move(e));
  }
  return std::unique_ptr<Connection>(new Connection(c));
}

Connection::~Connection() { PQfinish(conn_); }

Result<Rows> Connection::Exec(std::string_view sql, const Params& params) {
  std::string key(sql);
  if (begin_pending_ || !queued_.empty()) {
    const Statement read{key, params};
    DRIPR_ASSIGN_OR_RETURN(std::vector<Rows> rows, Pipeline({&read, 1}, /*commit=*/false));
    return std::move(rows.front());
  }
  std::vector<const char*> values = params.Pointers();
  auto it = prepared_.find(key);
  if (it == prepared_.end()) {
    // (Built with += : g++ 12 at -O3 reports a false -Wrestrict for "s" + to_string(n).)
    std::string name = "s";
    name += std::to_string(prepared_.size() + 1);
    PGresult* prep = PQprepare(conn_, name.c_str(), key.c_str(), 0, nullptr);
    if (PQresultStatus(prep) != PGRES_COMMAND_OK) {
      Error e = ErrorFrom(conn_, prep, "");
      PQclear(prep);
      return Fail(std::move(e));
    }
    PQclear(prep);
    it = prepared_.emplace(std::move(key), std::move(name)).first;
  }
  PGresult* r =
      PQexecPrepared(conn_, it->second.c_str(), params.size(), values.data(), nullptr, nullptr, 0);
  ExecStatusType st = PQresultStatus(r);
  if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK) return Rows(r);
  Error e = ErrorFrom(conn_, r, "");
  PQclear(r);
  return Fail(std::move(e));
}

Result<std::vector<Rows>> Connection::ExecAll(std::span<const Statement> statements) {
  if (statements.empty()) return std::vector<Rows>();
  return Pipeline(statements, /*commit=*/false);
}

namespace {

// A statement that must change one row, as one that fails (division by zero) when it does not.
std::string CheckedOneRow(std::string_view sql) {
  return "WITH w AS (" + std::string(sql) + " RETURNING 1) SELECT 1 / count(*) FROM w";
}

constexpr std::string_view kDivisionByZero = "22012";

}  // namespace

Status Connection::Queue(std::string sql, Params params, std::string_view miss) {
  if (!begin_pending_ && PQtransactionStatus(conn_) != PQTRANS_INTRANS) {
    DRIPR_ASSIGN_OR_RETURN(Rows done, Exec(sql, params));
    if (!miss.empty() && done.Affected() != 1) return Fail(ErrorCode::kAborted, std::string(miss));
    return Ok();
  }
  queued_.push_back(Queued{miss.empty() ? std::move(sql) : CheckedOneRow(sql), std::move(params),
                           std::string(miss)});
  return Ok();
}

Result<std::vector<Rows>> Connection::Pipeline(std::span<const Statement> reads, bool commit) {
  // What is sent, in order; each query has one result (then a null), the sync point its own.
  struct Step {
    const std::string* sql = nullptr;  // nullptr: BEGIN or COMMIT
    std::string name;                  // prepared statement
    bool prepare = false;              // PREPARE `name` first (a query of its own)
    std::vector<const char*> values;
    std::string_view miss;
    int read = -1;  // its index in `reads` (its rows are returned), -1 for the rest
  };
  std::vector<Step> steps;
  std::unordered_map<std::string, std::string> fresh;  // prepared in this pipeline
  auto statement = [&](const std::string& sql, std::vector<const char*> v, std::string_view miss,
                       int read) {
    Step s{&sql, {}, false, std::move(v), miss, read};
    if (auto it = prepared_.find(sql); it != prepared_.end()) {
      s.name = it->second;
    } else if (auto f = fresh.find(sql); f != fresh.end()) {
      s.name = f->second;
    } else {
      s.name = "s";
      s.name += std::to_string(prepared_.size() + fresh.size() + 1);
      s.prepare = true;
      fresh.emplace(sql, s.name);
    }
    steps.push_back(std::move(s));
  };
  if (begin_pending_) steps.push_back(Step{});
  for (const Queued& q : queued_) statement(q.sql, q.params.Pointers(), q.miss, -1);
  for (size_t i = 0; i < reads.size(); ++i) {
    statement(reads[i].sql, reads[i].params.Pointers(), {}, static_cast<int>(i));
  }
  if (commit) steps.push_back(Step{});
  const bool began = begin_pending_;
  begin_pending_ = false;

  if (PQenterPipelineMode(conn_) != 1) {
    queued_.clear();
    return Fail(ErrorFrom(conn_, nullptr, "pipeline"));
  }
  // Which step each query's result belongs to; -1 marks a PREPARE.
  std::vector<int> owner;
  bool sent = true;
  for (size_t i = 0; i < steps.size() && sent; ++i) {
    const Step& s = steps[i];
    if (s.sql == nullptr) {
      const char* command = i == 0 && began ? "BEGIN" : "COMMIT";
      sent = PQsendQueryParams(conn_, command, 0, nullptr, nullptr, nullptr, nullptr, 0) == 1;
      owner.push_back(static_cast<int>(i));
      continue;
    }
    if (s.prepare) {
      sent = PQsendPrepare(conn_, s.name.c_str(), s.sql->c_str(), 0, nullptr) == 1;
      owner.push_back(-1 - static_cast<int>(i));
    }
    sent = sent && PQsendQueryPrepared(conn_, s.name.c_str(), static_cast<int>(s.values.size()),
                                       s.values.data(), nullptr, nullptr, 0) == 1;
    owner.push_back(static_cast<int>(i));
  }
  sent = sent && PQpipelineSync(conn_) == 1;
  // A failure aborts the rest of the pipeline (PGRES_PIPELINE_ABORTED) up to the sync point.
  const int queries = static_cast<int>(owner.size());
  int query = 0, nulls = 0;
  std::optional<Error> failed;
  std::vector<Rows> out(reads.size());
  std::vector<size_t> prepared;  // steps whose PREPARE succeeded
  while (sent) {
    PGresult* r = PQgetResult(conn_);
    if (r == nullptr) {
      // A lost connection keeps answering null: stop once every query has had its end.
      if (++nulls > queries || PQstatus(conn_) != CONNECTION_OK) break;
      ++query;
      continue;
    }
    const ExecStatusType st = PQresultStatus(r);
    if (st == PGRES_PIPELINE_SYNC) {
      PQclear(r);
      break;
    }
    const int who = query < queries ? owner[static_cast<size_t>(query)] : 0;
    const bool is_prepare = who < 0;
    const auto step = static_cast<size_t>(is_prepare ? -1 - who : who);
    if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK) {
      if (is_prepare) prepared.push_back(step);
      if (!is_prepare && steps[step].read >= 0) {
        out[static_cast<size_t>(steps[step].read)] = Rows(r);
        continue;
      }
    } else if (st != PGRES_PIPELINE_ABORTED && !failed) {
      const char* state = PQresultErrorField(r, PG_DIAG_SQLSTATE);
      if (!is_prepare && !steps[step].miss.empty() && state != nullptr &&
          state == kDivisionByZero) {
        failed = Error{ErrorCode::kAborted, std::string(steps[step].miss)};
      } else {
        failed = ErrorFrom(conn_, r, "");
      }
    }
    PQclear(r);
  }
  for (size_t i : prepared) prepared_.emplace(*steps[i].sql, steps[i].name);
  queued_.clear();
  if (PQexitPipelineMode(conn_) != 1 && !failed) failed = ErrorFrom(conn_, nullptr, "pipeline");
  if (!sent && !failed) failed = ErrorFrom(conn_, nullptr, "");
  if (failed) return Fail(std::move(*failed));
  return out;
}

Status Connection::Flush() {
  if (!begin_pending_ && queued_.empty()) return Ok();
  DRIPR_TRY(Pipeline({}, /*commit=*/false));
  return Ok();
}

Status Connection::Commit() {
  if (!queued_.empty()) {
    DRIPR_TRY(Pipeline({}, /*commit=*/true));
    return Ok();
  }
  if (begin_pending_) {  // no statement ran: there is nothing to commit
    begin_pending_ = false;
    return Ok();
  }
  return ExecScript("COMMIT");
}

void Connection::Rollback() {
  begin_pending_ = false;
  queued_.clear();
  // After a failure the pool closes a connection still inside a transaction, so a failed
  // ROLLBACK (e.g. the connection is gone) needs no handling here.
  if (Healthy() && !Idle()) (void)ExecScript("ROLLBACK");
}

Status Connection::ExecScript(std::string_view sql) {
  DRIPR_TRY(Flush());
  std::string text(sql);
  PGresult* r = PQexec(conn_, text.c_str());
  ExecStatusType st = PQresultStatus(r);
  if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK || st == PGRES_EMPTY_QUERY) {
    PQclear(r);
    return Ok();
  }
  Error e = ErrorFrom(conn_, r, "");
  PQclear(r);
  return Fail(std::move(e));
}

Status Connection::CopyIn(std::string_view copy_sql, const CopyText& rows) {
  DRIPR_TRY(Flush());
  std::string sql(copy_sql);
  PGresult* r = PQexec(conn_, sql.c_str());
  if (PQresultStatus(r) != PGRES_COPY_IN) {
    Error e = ErrorFrom(conn_, r, "");
    PQclear(r);
    return Fail(std::move(e));
  }
  PQclear(r);
  const std::string& data = rows.data();
  bool sent = data.empty() || PQputCopyData(conn_, data.data(), static_cast<int>(data.size())) == 1;
  bool ended = PQputCopyEnd(conn_, sent ? nullptr : "client failed to send rows") == 1;
  Status result = Ok();
  // Drain every result; the COPY's own is the first.
  while (PGresult* res = PQgetResult(conn_)) {
    if (result && PQresultStatus(res) != PGRES_COMMAND_OK) result = Fail(ErrorFrom(conn_, res, ""));
    PQclear(res);
  }
  if (result && (!sent || !ended)) result = Fail(ErrorFrom(conn_, nullptr, "COPY"));
  return result;
}

}  // namespace dripr::pg
