// The "ceiling" for B2 on PostgreSQL of `make bench` (docs/benchmarks.md): bare libpq sending,
// per campaign, exactly the statements the pipeline sends to PostgreSQL (start to
// READY_TO_CREATE_EMAIL), in the same mode and round trips, with nothing else in the way (one
// thread per connection, no bus, no provider, no JSON, no pool).
//
//   pg_ceiling --url POSTGRES_URL --campaigns N --mode one|pipeline [--rows N[,N...]]
//              [--connections 8] [--relay-every 25]
//
// The database must hold the product's schema: the driver creates a fresh database and runs
// `dripr migrate` on it (the real migrations), so tables, indexes and the outbox's NOTIFY
// trigger are exactly the product's. Its campaign, part, market, lease and outbox rows are
// deleted first. The SQL is the store's (src/dripr/store/networked_store.h,
// src/dripr/store/postgres/), as the server logs it; it is sent the way the store's
// pg::Connection sends it (src/dripr/store/postgres/pg_conn.cc): every statement a named
// prepared statement of its connection (prepared here once, before the clock starts), text
// parameters; a transaction's BEGIN travels with its first statement; a write whose result is
// not read (Queue) waits for the transaction's next round trip, a compare-and-set UPDATE
// wrapped as `WITH w AS (… RETURNING 1) SELECT 1 / count(*) FROM w`; the COMMIT carries the
// queued writes in one libpq pipeline (a plain `COMMIT` when nothing is queued). Per campaign,
// in the pipeline's order (docs/benchmarks.md lists them with their counts):
//   create + start (`campaign import --start`): INSERT campaigns (with the BEGIN), SELECT … FOR
//     UPDATE (with the queued INSERT property_data, 2 campaigns of 3), then the checked UPDATE
//     and INSERT outbox with the COMMIT;
//   market data (Store::LoadForMarketOrLease): SELECT campaign, SELECT local_market_data
//     (through the campaign's zip), the zip's lease (INSERT leases … SELECT … FROM campaigns
//     … WHERE NOT EXISTS (fresh data) ON CONFLICT) and SELECT local_market_data again, in one
//     round trip, then CompletePart: SELECT … FOR UPDATE
//     (with the BEGIN), the lease's DELETE, the checked UPDATE, INSERT local_market_data with
//     the COMMIT;
//   listings, sales: Store::LoadForPart's SELECT (campaign, property, zip centroid), then
//     CompletePart: SELECT … FOR UPDATE, the checked UPDATE, one multi-row INSERT of the part's
//     rows whose WITH deletes the old ones (a DELETE alone for no rows; the last part also
//     INSERT outbox, the READY event) with the COMMIT;
//   the relay, every --relay-every campaigns of a connection (the pipeline's relay claims ~25
//     campaigns' events at a time): its transaction (the claim `WITH heads … FOR UPDATE SKIP
//     LOCKED … UPDATE … RETURNING` with LIMIT 50, SELECT max(outbox.id), COMMIT), then UPDATE
//     outbox published per 10 events; after the last campaign, until nothing is left.
// Not included: the import's batched checks (ids, zip codes: one statement per few hundred
// campaigns), the pipeline's waiting (outbox max id polls) and anything the bus does (the
// embedded bus is a separate SQLite file; SQS is HTTP), so the figure is a ceiling for both
// "PostgreSQL + embedded bus" and "PostgreSQL + moto".
// --mode one: one transaction per campaign (the steps' BEGIN and COMMIT left out: the reads
// and the lease run inside it). --mode pipeline: a transaction per step as the pipeline
// commits them (create+start, each part's CompletePart, the relay's claim; the handlers'
// reads, the lease and the relay's marks outside any transaction). The import commits a batch
// of campaigns per transaction; here create+start is one transaction per campaign.
// --rows: the part rows to write, in turn: campaign c's listings take the (2c)th number and its
// sales the (2c+1)th, the list starting over when it runs out (default 25: 25 of each; at most
// 64, the store's rows per INSERT). The driver passes the counts the pipeline's own run stored,
// campaign by campaign in creation order, so that the ceiling writes what the pipeline wrote;
// one statement per row count and table, prepared before the clock starts.
// --connections K: K threads, each on a connection of its own, share the campaigns (one
// connection alone measures round-trip latency, not what the server can do). The driver runs
// it at one and two connections per core and at the product's pool size (DRIPR_DB_POOL_SIZE,
// 8 by default) and takes the best (docs/decisions/bench.md): on two cores two connections
// beat eight by ~30 %.
// Prints one line: `CEILING mode=… campaigns=… seconds=… per_s=… statements_per_campaign=…`.
// Bad arguments: usage on stderr, exit 2; a database error: exit 1.
#include <libpq-fe.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <initializer_list>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "bench_args.h"

namespace {

std::atomic<long> statements{0};

const char* kCampaignColumns =
    "id, user_id, zip_code, no_address_newsletter, campaign_status, local_market_data_status, "
    "active_listing_status, recent_sale_status, data_cycle, error_text, (extract(epoch FROM "
    "created_at) * 1000)::bigint, (extract(epoch FROM updated_at) * 1000)::bigint, (extract(epoch "
    "FROM status_changed_at) * 1000)::bigint, (extract(epoch FROM parts_changed_at) * "
    "1000)::bigint, republish_count, restart_count FROM campaigns WHERE id = $1";

struct Stmt {
  std::string name;
  int params = 0;
};

// Text parameters; nullptr is NULL.
using Values = std::vector<const char*>;

// One connection with the pipeline's statements prepared on it, sending them as the store's
// pg::Connection does.
class Worker {
 public:
  Worker(const std::string& url, bool per_step, const std::vector<int>& rows, int relay_every,
         int k)
      : per_step_(per_step), rows_(rows), relay_every_(relay_every) {
    conn_ = PQconnectdb(url.c_str());
    if (PQstatus(conn_) != CONNECTION_OK) Die("connect");
    Exec("SET TimeZone = 'UTC'; SET client_min_messages = warning");
    holder_ = "ceiling-holder-" + std::to_string(k);
    Prepare();
  }
  ~Worker() { PQfinish(conn_); }
  Worker(const Worker&) = delete;
  Worker& operator=(const Worker&) = delete;

  // A simple-protocol statement (PQexec), as pg::Connection::ExecScript.
  void Exec(const char* sql) {
    PGresult* r = PQexec(conn_, sql);
    Check(r, sql);
    PQclear(r);
    ++statements;
  }

  // `campaign import --start`'s transaction for campaigns `cs` ("pipeline" mode: the import
  // commits up to 500 campaigns per transaction).
  void Import(const std::vector<int>& cs) {
    Begin();
    for (int c : cs) CreateAndStart(c);
    Commit();
  }
  // Campaign number `c`, start (created and started, "one" mode: here) to
  // READY_TO_CREATE_EMAIL.
  void Campaign(int c);
  // The relay until no event is left unpublished (after the last campaign).
  void Drain() {
    while (Relay() > 0) {
    }
  }

 private:
  struct Read {
    const Stmt* stmt;
    Values values;
  };
  struct Queued {
    const Stmt* stmt;
    std::vector<std::string> values;
    std::vector<bool> null;
  };

  [[noreturn]] void Die(const char* what, PGresult* r = nullptr) {
    std::fprintf(stderr, "pg_ceiling: %s: %s", what,
                 r != nullptr ? PQresultErrorMessage(r) : PQerrorMessage(conn_));
    std::exit(1);
  }

  void Check(PGresult* r, const char* what) {
    const auto st = PQresultStatus(r);
    if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) Die(what, r);
  }

  Stmt Prepare(const std::string& sql) {
    Stmt s{"s" + std::to_string(++prepared_), 0};
    PGresult* r = PQprepare(conn_, s.name.c_str(), sql.c_str(), 0, nullptr);
    Check(r, sql.c_str());
    PQclear(r);
    PGresult* d = PQdescribePrepared(conn_, s.name.c_str());
    Check(d, sql.c_str());
    s.params = PQnparams(d);
    PQclear(d);
    return s;
  }
  void Prepare();

  // Rows read or changed by `r`; `ids` gets the rows' first values.
  static int Count(PGresult* r, std::vector<std::string>* ids) {
    const bool tuples = PQresultStatus(r) == PGRES_TUPLES_OK;
    const int n = tuples ? PQntuples(r) : std::atoi(PQcmdTuples(r));
    for (int i = 0; ids != nullptr && tuples && i < n; ++i) ids->emplace_back(PQgetvalue(r, i, 0));
    return n;
  }

  // pg::Connection::Exec: one round trip whose result is read; with the pending BEGIN and the
  // queued writes when there are any.
  int Run(const Stmt& s, const Values& values, std::vector<std::string>* ids = nullptr) {
    if (static_cast<int>(values.size()) != s.params) Die(("parameters of " + s.name).c_str());
    if (begin_pending_ || !queued_.empty()) {
      const Read read{&s, values};
      return Pipeline({&read, 1}, false, ids);
    }
    PGresult* r =
        PQexecPrepared(conn_, s.name.c_str(), s.params, values.data(), nullptr, nullptr, 0);
    Check(r, s.name.c_str());
    const int n = Count(r, ids);
    PQclear(r);
    ++statements;
    return n;
  }
  // pg::Connection::Queue: inside a transaction the write waits for its next round trip;
  // outside one it runs at once.
  void Queue(const Stmt& s, const Values& values) {
    if (static_cast<int>(values.size()) != s.params) Die(("parameters of " + s.name).c_str());
    if (!begin_pending_ && PQtransactionStatus(conn_) != PQTRANS_INTRANS) {
      Run(s, values);
      return;
    }
    Queued q{&s, {}, {}};
    q.values.reserve(values.size());
    for (const char* v : values) {
      q.values.emplace_back(v != nullptr ? v : "");
      q.null.push_back(v == nullptr);
    }
    queued_.push_back(std::move(q));
  }
  // pg::Connection::ExecAll: `reads` in one round trip (with the pending BEGIN and the queued
  // writes when there are any).
  void RunTogether(std::initializer_list<Read> reads) {
    for (const Read& r : reads) {
      if (static_cast<int>(r.values.size()) != r.stmt->params) Die("parameters");
    }
    Pipeline({reads.begin(), reads.size()}, false, nullptr);
  }
  // One round trip in pipeline mode: the pending BEGIN, the queued writes, `reads` (or none),
  // the COMMIT when `commit`. Returns the last read's rows.
  int Pipeline(std::span<const Read> reads, bool commit, std::vector<std::string>* ids);
  // pg::Connection::Begin and Commit.
  void Begin() { begin_pending_ = true; }
  void Commit() {
    if (!queued_.empty()) {
      Pipeline({}, true, nullptr);
    } else if (begin_pending_) {
      begin_pending_ = false;
    } else {
      Exec("COMMIT");
    }
  }
  // A pipeline step's own transaction ("pipeline" mode only).
  void StepBegin() {
    if (per_step_) Begin();
  }
  void StepCommit() {
    if (per_step_) Commit();
  }

  // The relay: claim unpublished events (every connection's committed ones and this
  // connection's own), mark them published 10 at a time. Returns the events claimed.
  int Relay();
  // A transition's opening: lock the campaign row (with the BEGIN), queue the lease's release
  // (market data: `lease` not null) and the compare-and-set from `before` to `after`
  // (statuses: campaign, market, listings, sales).
  void Transition(const std::string& id, const char* cycle_before, const char* cycle_after,
                  const char* const before[4], const char* const after[4],
                  const std::string* lease = nullptr);
  void Outbox(const std::string& id);
  // Create + start: INSERT campaign, property, the transition to WAITING_FOR_DATA.
  void CreateAndStart(int c);
  // Campaign number `c`'s listings (`listings`) or sales, as many as --rows says.
  void PartRows(int c, const std::string& id, const std::string& zip, bool listings);

  PGconn* conn_ = nullptr;
  const bool per_step_;
  const std::vector<int> rows_;
  const int relay_every_;
  std::string holder_;
  int prepared_ = 0;
  int done_ = 0;
  bool begin_pending_ = false;
  std::vector<Queued> queued_;
  Stmt ins_campaign_, ins_property_, sel_campaign_, lock_campaign_, upd_campaign_, ins_outbox_,
      claim_, max_outbox_, mark_, sel_part_inputs_, sel_campaign_market_, take_market_lease_,
      del_lease_, ins_market_;
  // By row count (0: the DELETE alone).
  std::map<int, Stmt> replace_listings_, replace_sales_;
};

const std::string kTs = "2026-11-30T16:00:00.000Z", kLater = "2026-11-30T16:00:30.000Z",
                  kMonthAgo = "2026-10-31T16:00:00.000Z";
// About the size of the product's STATUS_CHANGE body and attributes.
const std::string kBody(420, 'x');
const std::string kAttributes =
    R"([{"name":"event_type","type":"String","value":"STATUS_CHANGE"},)"
    R"({"name":"to_status","type":"String","value":"WAITING_FOR_DATA"}])";
const std::string kListingColumns =
    "rank, score, price, formatted_address, address_line1, city, state, zip_code, latitude, "
    "longitude, property_type, bedrooms, bathrooms, square_footage, listed_date, days_on_market, "
    "distance_miles, source_id";
const std::string kSaleColumns =
    "rank, score, sale_price, formatted_address, address_line1, city, state, zip_code, latitude, "
    "longitude, property_type, bedrooms, bathrooms, square_footage, sale_date, distance_miles, "
    "source_id";

// The store's ReplaceSql (src/dripr/store/postgres/postgres_store_data.cc) for `rows` rows of
// `columns` + 1 (campaign_id) values: a multi-row INSERT whose WITH deletes the old rows.
std::string ReplaceSql(const std::string& table, const std::string& columns, int rows) {
  // No rows: the store's DeleteRowsSql (src/dripr/store/networked_store.h).
  if (rows == 0) return "DELETE FROM " + table + " WHERE campaign_id = $1";
  int per_row = 2;  // campaign_id and the first column
  for (char ch : columns) per_row += ch == ',' ? 1 : 0;
  std::string sql = "WITH old AS (DELETE FROM " + table + " WHERE campaign_id = $1) INSERT INTO " +
                    table + " (campaign_id, " + columns + ") VALUES ";
  int n = 0;
  for (int r = 0; r < rows; ++r) {
    sql += r == 0 ? "(" : ", (";
    for (int col = 0; col < per_row; ++col) {
      if (col > 0) sql += ", ";
      sql += '$';
      sql += std::to_string(++n);
    }
    sql += ')';
  }
  return sql;
}

void Worker::Prepare() {
  ins_campaign_ = Prepare(
      "INSERT INTO campaigns (id, user_id, zip_code, no_address_newsletter, campaign_status, "
      "local_market_data_status, active_listing_status, recent_sale_status, data_cycle, "
      "error_text, created_at, updated_at, status_changed_at, parts_changed_at) VALUES ($1, $2, "
      "$3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)");
  ins_property_ = Prepare(
      "INSERT INTO property_data (campaign_id, formatted_address, latitude, longitude, "
      "current_value) VALUES ($1, $2, $3, $4, $5)");
  sel_campaign_ = Prepare(std::string("SELECT ") + kCampaignColumns);
  lock_campaign_ = Prepare(std::string("SELECT ") + kCampaignColumns + " FOR UPDATE");
  // Queued with a "must change one row" check (pg::Connection::Queue's CheckedOneRow).
  upd_campaign_ = Prepare(
      "WITH w AS (UPDATE campaigns SET campaign_status = $1, local_market_data_status = $2, "
      "active_listing_status = $3, recent_sale_status = $4, data_cycle = $5, error_text = $6, "
      "updated_at = $7, status_changed_at = $8, parts_changed_at = $9, republish_count = $10, "
      "restart_count = $11 WHERE id = $12 AND campaign_status = $13 AND data_cycle = $14 AND "
      "local_market_data_status = $15 AND active_listing_status = $16 AND recent_sale_status = "
      "$17 RETURNING 1) SELECT 1 / count(*) FROM w");
  ins_outbox_ = Prepare(
      "INSERT INTO outbox (topic, campaign_id, event_type, body, attributes, created_at, "
      "attempts) VALUES ($1, $2, $3, $4, $5, $6, 0)");
  claim_ = Prepare(
      "WITH heads AS (  SELECT o.id, o.campaign_id FROM outbox o  WHERE o.published_at IS NULL "
      "   AND (o.claimed_until IS NULL OR o.claimed_until <= $1::timestamptz)    AND NOT EXISTS "
      "(SELECT 1 FROM outbox p WHERE p.campaign_id = o.campaign_id                    AND p.id < "
      "o.id AND p.published_at IS NULL)  ORDER BY o.id LIMIT $2 FOR UPDATE SKIP LOCKED), picked "
      "AS (  SELECT o.id FROM outbox o JOIN heads h ON o.campaign_id = h.campaign_id  WHERE "
      "o.published_at IS NULL AND o.id >= h.id    AND (o.claimed_until IS NULL OR "
      "o.claimed_until <= $1::timestamptz)  ORDER BY o.id LIMIT $2), claimed AS (  UPDATE outbox "
      "SET claimed_until = $3::timestamptz, claim_token = $4  WHERE id IN (SELECT id FROM "
      "picked) RETURNING id, topic, campaign_id, event_type, body, attributes, (extract(epoch "
      "FROM created_at) * 1000)::bigint, attempts) SELECT * FROM claimed ORDER BY id");
  max_outbox_ = Prepare("SELECT COALESCE(MAX(id), 0) FROM outbox");
  mark_ = Prepare(
      "UPDATE outbox SET published_at = $1, claimed_until = NULL, claim_token = NULL WHERE id = "
      "ANY($2::bigint[]) AND published_at IS NULL");
  // Store::LoadForPart (src/dripr/store/row_reader.cc PartInputsSql): the campaign row, its
  // property and its zip's centroid in one statement.
  const std::string_view columns(kCampaignColumns);
  sel_part_inputs_ =
      Prepare("SELECT " + std::string(columns.substr(0, columns.find(" FROM campaigns"))) +
              ", p.formatted_address, p.latitude, p.longitude, p.current_value, p.campaign_id, "
              "z.latitude, z.longitude FROM campaigns LEFT JOIN property_data p ON p.campaign_id = "
              "campaigns.id LEFT JOIN zip_codes z USING (zip_code) WHERE campaigns.id = $1");
  // Store::LoadForMarket's second read: the market data found through the campaign's zip.
  sel_campaign_market_ = Prepare(
      "SELECT zip_code, month, average_price, average_price_per_sqft, average_days_on_market, "
      "total_listings, old_month, old_average_price, old_average_price_per_sqft, "
      "old_average_days_on_market, old_total_listings, (extract(epoch FROM created_at) * "
      "1000)::bigint FROM local_market_data WHERE zip_code = (SELECT zip_code FROM campaigns "
      "WHERE id = $1) AND created_at >= $2 ORDER BY created_at DESC, id DESC LIMIT 1");
  // The market-data single flight's lease, taken with the handler's reads
  // (PostgresStore::TakeMarketLeaseStatement, src/dripr/store/postgres/postgres_reconciler.cc).
  take_market_lease_ = Prepare(
      "INSERT INTO leases (name, holder, expires_at) SELECT 'market:' || c.zip_code, $1, "
      "$2::timestamptz FROM campaigns c WHERE c.id = $3 AND c.campaign_status = $4 AND "
      "c.local_market_data_status = $5 AND NOT EXISTS (SELECT 1 FROM local_market_data m WHERE "
      "m.zip_code = c.zip_code AND m.created_at >= $6::timestamptz) ON CONFLICT (name) DO UPDATE "
      "SET holder = EXCLUDED.holder, expires_at = EXCLUDED.expires_at WHERE leases.holder = "
      "EXCLUDED.holder OR leases.expires_at <= $7::timestamptz");
  del_lease_ = Prepare("DELETE FROM leases WHERE name = $1 AND holder = $2");
  ins_market_ = Prepare(
      "INSERT INTO local_market_data (zip_code, month, average_price, average_price_per_sqft, "
      "average_days_on_market, total_listings, old_month, old_average_price, "
      "old_average_price_per_sqft, old_average_days_on_market, old_total_listings, created_at) "
      "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)");
  for (int n : rows_) {
    if (replace_listings_.contains(n)) continue;
    replace_listings_[n] = Prepare(ReplaceSql("active_listings", kListingColumns, n));
    replace_sales_[n] = Prepare(ReplaceSql("recent_sales", kSaleColumns, n));
  }
}

int Worker::Pipeline(std::span<const Read> reads, bool commit, std::vector<std::string>* ids) {
  if (PQenterPipelineMode(conn_) != 1) Die("pipeline");
  int queries = 0, last_query = -1;
  auto sent = [&](int ok) {
    if (ok != 1) Die("pipeline send");
    ++queries;
    ++statements;
  };
  if (begin_pending_)
    sent(PQsendQueryParams(conn_, "BEGIN", 0, nullptr, nullptr, nullptr, nullptr, 0));
  begin_pending_ = false;
  for (const Queued& q : queued_) {
    Values v;
    v.reserve(q.values.size());
    for (size_t i = 0; i < q.values.size(); ++i) {
      v.push_back(q.null[i] ? nullptr : q.values[i].c_str());
    }
    sent(PQsendQueryPrepared(conn_, q.stmt->name.c_str(), static_cast<int>(v.size()), v.data(),
                             nullptr, nullptr, 0));
  }
  for (const Read& read : reads) {
    last_query = queries;
    sent(PQsendQueryPrepared(conn_, read.stmt->name.c_str(), static_cast<int>(read.values.size()),
                             read.values.data(), nullptr, nullptr, 0));
  }
  if (commit) sent(PQsendQueryParams(conn_, "COMMIT", 0, nullptr, nullptr, nullptr, nullptr, 0));
  if (PQpipelineSync(conn_) != 1) Die("pipeline sync");
  int query = 0, n = 0;
  for (;;) {
    PGresult* r = PQgetResult(conn_);
    if (r == nullptr) {
      if (++query > queries) Die("pipeline results");
      continue;
    }
    if (PQresultStatus(r) == PGRES_PIPELINE_SYNC) {
      PQclear(r);
      break;
    }
    Check(r, "pipeline");
    if (query == last_query) n = Count(r, ids);
    PQclear(r);
  }
  queued_.clear();
  if (PQexitPipelineMode(conn_) != 1) Die("pipeline exit");
  return n;
}

int Worker::Relay() {
  std::vector<std::string> claimed;
  StepBegin();
  const int n = Run(claim_, {kTs.c_str(), "50", kLater.c_str(), "claim-token"}, &claimed);
  Run(max_outbox_, {});
  StepCommit();
  // The claimed ids, marked 10 at a time (the relay's mark_every).
  for (size_t i = 0; i < claimed.size(); i += 10) {
    std::string ids = "{";
    for (size_t j = i; j < claimed.size() && j < i + 10; ++j) {
      if (j > i) ids += ',';
      ids += claimed[j];
    }
    ids += '}';
    Run(mark_, {kTs.c_str(), ids.c_str()});
  }
  return n;
}

void Worker::Transition(const std::string& id, const char* cycle_before, const char* cycle_after,
                        const char* const before[4], const char* const after[4],
                        const std::string* lease) {
  Run(lock_campaign_, {id.c_str()});
  if (lease != nullptr) Queue(del_lease_, {lease->c_str(), holder_.c_str()});
  Queue(upd_campaign_, {after[0], after[1], after[2], after[3], cycle_after, nullptr, kTs.c_str(),
                        kTs.c_str(), kTs.c_str(), "0", "0", id.c_str(), before[0], cycle_before,
                        before[1], before[2], before[3]});
}

void Worker::Outbox(const std::string& id) {
  Queue(ins_outbox_, {"campaign-events", id.c_str(), "STATUS_CHANGE", kBody.c_str(),
                      kAttributes.c_str(), kTs.c_str()});
}

void Worker::PartRows(int c, const std::string& id, const std::string& zip, bool listings) {
  const int rows = rows_[(2 * static_cast<size_t>(c) + (listings ? 0 : 1)) % rows_.size()];
  // The product's columns, every field filled as a ranked record fills them.
  std::vector<std::string> text;
  text.reserve(static_cast<size_t>(rows) * 19 + 1);
  if (rows == 0) text.push_back(id);
  for (int r = 0; r < rows; ++r) {
    const std::string n = std::to_string(r + 12);
    for (std::string v :
         {id, std::to_string(r + 1), std::string("0.8731"),
          std::string(listings ? "450000" : "430000"), n + " Elm St, Town, ST " + zip,
          n + " Elm St", std::string("Town"), std::string("ST"), zip, std::string("42.1234"),
          std::string("-71.1234"), std::string("Single Family"), std::string("3"),
          std::string("2.5"), std::string("1800"),
          std::string(listings ? "2026-11-01" : "2026-10-01")}) {
      text.push_back(std::move(v));
    }
    if (listings) text.emplace_back("12");
    text.emplace_back("0.8123");
    text.push_back(id + "-" + std::to_string(r));
  }
  Values v;
  v.reserve(text.size());
  for (const std::string& t : text) v.push_back(t.c_str());
  Queue((listings ? replace_listings_ : replace_sales_).at(rows), v);
}

std::string CampaignId(int c) {
  char idbuf[32];
  std::snprintf(idbuf, sizeof idbuf, "ceil-%07d", c);
  return idbuf;
}
std::string Zip(int c) { return std::to_string(10000 + c % 89999); }

void Worker::CreateAndStart(int c) {
  const std::string id = CampaignId(c), zip = Zip(c);
  const bool has_address = c % 3 != 2;
  Run(ins_campaign_,
      {id.c_str(), nullptr, zip.c_str(), has_address ? "0" : "1", "DORMANT", "DORMANT", "DORMANT",
       "DORMANT", "0", nullptr, kTs.c_str(), kTs.c_str(), kTs.c_str(), kTs.c_str()});
  if (has_address) {
    Queue(ins_property_, {id.c_str(), "1 Main St, Town, ST", "42.36", "-71.1", nullptr});
  }
  const char* dormant[4] = {"DORMANT", "DORMANT", "DORMANT", "DORMANT"};
  const char* status[4] = {"WAITING_FOR_DATA", "WAITING_FOR_DATA", "WAITING_FOR_DATA",
                           "WAITING_FOR_DATA"};
  Transition(id, "0", "1", dormant, status);
  Outbox(id);
}

void Worker::Campaign(int c) {
  const std::string id = CampaignId(c), zip = Zip(c);
  const std::string lease = "market:" + zip;
  if (!per_step_) {
    Begin();
    CreateAndStart(c);
  }
  const char* status[4] = {"WAITING_FOR_DATA", "WAITING_FOR_DATA", "WAITING_FOR_DATA",
                           "WAITING_FOR_DATA"};
  // The three parts (market, listings, sales), one after the other.
  for (int p = 0; p < 3; ++p) {
    // The handler's reads (and the market's lease) outside CompletePart's transaction.
    if (p == 0) {
      RunTogether({{&sel_campaign_, {id.c_str()}},
                   {&sel_campaign_market_, {id.c_str(), kMonthAgo.c_str()}},
                   {&take_market_lease_,
                    {holder_.c_str(), kLater.c_str(), id.c_str(), "WAITING_FOR_DATA",
                     "WAITING_FOR_DATA", kMonthAgo.c_str(), kTs.c_str()}},
                   {&sel_campaign_market_, {id.c_str(), kMonthAgo.c_str()}}});
    } else {
      Run(sel_part_inputs_, {id.c_str()});
    }
    StepBegin();
    const char* before[4] = {status[0], status[1], status[2], status[3]};
    status[p + 1] = "READY";
    const bool last = p == 2;
    if (last) status[0] = "READY_TO_CREATE_EMAIL";
    Transition(id, "1", "1", before, status, p == 0 ? &lease : nullptr);
    if (p == 0) {
      Queue(ins_market_, {zip.c_str(), "2026-11", "500000", "300", "30", "120", "2025-11", "480000",
                          "290", "33", "110", kTs.c_str()});
    } else {
      PartRows(c, id, zip, p == 1);
    }
    if (last) Outbox(id);
    StepCommit();
  }
  if (++done_ % relay_every_ == 0) Relay();
  if (!per_step_) Commit();
}

// Campaigns per transaction of `campaign import --start` (src/cmd/import_cmd.cc kBatchRows).
constexpr int kImportBatch = 500;

constexpr std::string_view kUsage =
    "usage: pg_ceiling --url POSTGRES_URL --campaigns N --mode one|pipeline [--rows N[,N...]] "
    "[--connections K] [--relay-every N]\n";

}  // namespace

int main(int argc, char** argv) {
  std::string url, mode;
  int campaigns = 0, connections = 8, relay_every = 25;
  std::vector<int> rows = {25};
  bench::Args args;
  args.Text("--url", &url, bench::Need::kRequired);
  args.Int("--campaigns", &campaigns, 1, 1000000, bench::Need::kRequired);
  args.Choice("--mode", &mode, {"one", "pipeline"}, bench::Need::kRequired);
  args.IntList("--rows", &rows, 0, 64);
  args.Int("--connections", &connections, 1, 64);
  args.Int("--relay-every", &relay_every, 1, 1000);
  std::string why = args.Parse(argc, argv);
  if (why.empty() && url.empty()) why = "--url needs a connection URL";
  if (!why.empty()) return bench::UsageError("pg_ceiling", why, kUsage);

  std::vector<std::unique_ptr<Worker>> workers;
  for (int k = 0; k < connections; ++k) {
    workers.push_back(std::make_unique<Worker>(url, mode == "pipeline", rows, relay_every, k));
  }
  workers[0]->Exec(
      "DELETE FROM active_listings; DELETE FROM recent_sales; DELETE FROM local_market_data; "
      "DELETE FROM property_data; DELETE FROM outbox; DELETE FROM leases; DELETE FROM campaigns");
  const long before = statements.load();
  const auto start = std::chrono::steady_clock::now();
  std::vector<std::thread> threads;
  for (int k = 0; k < connections; ++k) {
    threads.emplace_back([&, k] {
      // The import's batches of 500 campaigns, each connection importing its own.
      std::vector<int> batch;
      for (int first = k; first < campaigns; first += connections * kImportBatch) {
        batch.clear();
        for (int c = first; c < campaigns && c < first + connections * kImportBatch;
             c += connections) {
          batch.push_back(c);
        }
        if (mode == "pipeline") workers[k]->Import(batch);
        for (int c : batch) workers[k]->Campaign(c);
      }
    });
  }
  for (auto& t : threads) t.join();
  workers[0]->Drain();
  const double secs =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::printf(
      "CEILING mode=%s campaigns=%d connections=%d seconds=%.3f per_s=%.1f "
      "statements_per_campaign=%.1f\n",
      mode.c_str(), campaigns, connections, secs, campaigns / secs,
      static_cast<double>(statements.load() - before) / campaigns);
  return 0;
}
