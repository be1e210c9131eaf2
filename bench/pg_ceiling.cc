// The "ceiling" for B2 on PostgreSQL of `make bench` (docs/benchmarks.md): bare libpq doing what
// the pipeline does to PostgreSQL for one campaign, start to READY_TO_CREATE_EMAIL, with
// nothing else in the way (no threads, no bus, no provider, no JSON, no pool).
//
//   pg_ceiling --url POSTGRES_URL --campaigns N --mode one|pipeline [--rows 25] [--connections 8]
//
// The database must hold the product's schema: the driver creates a fresh database and runs
// `dripr migrate` on it (the real migrations), so tables, indexes and the outbox's NOTIFY
// trigger are exactly the product's. Its campaign, part, market and outbox rows are deleted
// first. The statements are the ones the store sends (src/dripr/store/networked_store.h,
// src/dripr/store/postgres/), copied as the server logs them, prepared once, text parameters;
// part rows go in with COPY (text format) as the store does. Per campaign, in the pipeline's
// order (docs/benchmarks.md lists them with their counts):
//   create + start (`campaign import --start`): INSERT campaigns, INSERT property_data (2 of 3),
//     SELECT … FOR UPDATE, compare-and-set UPDATE, INSERT outbox;
//   relay: the claim (WITH heads … FOR UPDATE SKIP LOCKED … UPDATE … RETURNING), UPDATE outbox
//     published;
//   per part x3: the handler's reads (market: SELECT campaign, SELECT local_market_data;
//     listings and sales: Store::LoadForPart's one SELECT of campaign, property and zip), then
//     CompletePart: SELECT … FOR UPDATE, UPDATE, DELETE + COPY 25 rows (listings, sales) or
//     INSERT local_market_data; the last part also INSERT outbox (the READY event);
//   relay: claim and mark the READY event.
// Not included: the market-data lease (cluster single-flight of provider calls) and anything
// the bus does (the embedded bus is a separate SQLite file; SQS is HTTP), so the figure is a
// ceiling for both "PostgreSQL + embedded bus" and "PostgreSQL + moto".
// --mode one: one transaction per campaign. --mode pipeline: a transaction per step as the
// pipeline commits them (create+start, claim, mark, each part's CompletePart, claim, mark;
// the handler's reads outside any transaction).
// --connections K: K threads, each on a connection of its own, share the campaigns (the
// product's pool is DRIPR_DB_POOL_SIZE, 8 by default, and its handlers run concurrently: one
// connection alone would measure round-trip latency, not what the server can do).
// Prints one line: `CEILING mode=… campaigns=… seconds=… per_s=… statements_per_campaign=…`.
// Bad arguments: usage on stderr, exit 2; a database error: exit 1.
#include <libpq-fe.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <memory>
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

// One connection with the pipeline's statements prepared on it.
class Worker {
 public:
  Worker(const std::string& url, bool per_step, int rows) : per_step_(per_step), rows_(rows) {
    conn_ = PQconnectdb(url.c_str());
    if (PQstatus(conn_) != CONNECTION_OK) Die("connect");
    Exec("SET TimeZone = 'UTC'; SET client_min_messages = warning");
    Prepare();
  }
  ~Worker() { PQfinish(conn_); }
  Worker(const Worker&) = delete;
  Worker& operator=(const Worker&) = delete;

  void Exec(const char* sql) {
    PGresult* r = PQexec(conn_, sql);
    Check(r, sql);
    PQclear(r);
    ++statements;
  }

  // Campaign number `c`, start to READY_TO_CREATE_EMAIL.
  void Campaign(int c);

 private:
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
    Stmt s{"c" + std::to_string(++prepared_), 0};
    PGresult* r = PQprepare(conn_, s.name.c_str(), sql.c_str(), 0, nullptr);
    Check(r, sql.c_str());
    PQclear(r);
    PGresult* d = PQdescribePrepared(conn_, s.name.c_str());
    Check(d, sql.c_str());
    s.params = PQnparams(d);
    PQclear(d);
    return s;
  }

  // Runs a prepared statement; `values` are text (nullptr = NULL). Returns the rows read or
  // changed; `ids` gets the rows' first values, comma-separated.
  int Run(const Stmt& s, std::vector<const char*> values, std::string* ids = nullptr) {
    if (static_cast<int>(values.size()) != s.params) Die(("parameters of " + s.name).c_str());
    PGresult* r =
        PQexecPrepared(conn_, s.name.c_str(), s.params, values.data(), nullptr, nullptr, 0);
    Check(r, s.name.c_str());
    const int n = PQresultStatus(r) == PGRES_TUPLES_OK ? PQntuples(r) : std::atoi(PQcmdTuples(r));
    for (int i = 0; ids != nullptr && PQresultStatus(r) == PGRES_TUPLES_OK && i < n; ++i) {
      if (!ids->empty()) *ids += ',';
      *ids += PQgetvalue(r, i, 0);
    }
    PQclear(r);
    ++statements;
    return n;
  }

  void Copy(const std::string& sql, const std::string& data) {
    PGresult* r = PQexec(conn_, sql.c_str());
    if (PQresultStatus(r) != PGRES_COPY_IN) Die(sql.c_str(), r);
    PQclear(r);
    if (PQputCopyData(conn_, data.data(), static_cast<int>(data.size())) != 1 ||
        PQputCopyEnd(conn_, nullptr) != 1)
      Die("COPY data");
    while (PGresult* res = PQgetResult(conn_)) {
      if (PQresultStatus(res) != PGRES_COMMAND_OK) Die(sql.c_str(), res);
      PQclear(res);
    }
    ++statements;
  }

  void Prepare();
  // "pipeline" mode: a transaction per step.
  void Step() {
    if (per_step_) {
      Exec("COMMIT");
      Exec("BEGIN");
    }
  }
  // The relay: claim unpublished events (this campaign's, or another connection's when it
  // claims first: SKIP LOCKED), mark them published.
  void Relay();
  // Lock the campaign row, compare-and-set it from `before` to `after` (statuses: campaign,
  // market, listings, sales).
  void Transition(const std::string& id, const char* cycle_before, const char* cycle_after,
                  const char* const before[4], const char* const after[4]);
  void Outbox(const std::string& id);

  PGconn* conn_ = nullptr;
  const bool per_step_;
  const int rows_;
  int prepared_ = 0;
  Stmt ins_campaign_, ins_property_, sel_campaign_, lock_campaign_, upd_campaign_, ins_outbox_,
      claim_, mark_, sel_part_inputs_, sel_market_, ins_market_, del_listings_, del_sales_;
};

const std::string kTs = "2026-11-30T16:00:00.000Z", kLater = "2026-11-30T16:00:30.000Z",
                  kMonthAgo = "2026-10-31T16:00:00.000Z";
// About the size of the product's STATUS_CHANGE body and attributes.
const std::string kBody(420, 'x');
const std::string kAttributes =
    R"([{"name":"event_type","type":"String","value":"STATUS_CHANGE"},)"
    R"({"name":"to_status","type":"String","value":"WAITING_FOR_DATA"}])";
const std::string kCopyListings =
    "COPY active_listings (campaign_id, rank, score, price, formatted_address, address_line1, "
    "city, state, zip_code, latitude, longitude, property_type, bedrooms, bathrooms, "
    "square_footage, listed_date, days_on_market, distance_miles, source_id) FROM STDIN";
const std::string kCopySales =
    "COPY recent_sales (campaign_id, rank, score, sale_price, formatted_address, address_line1, "
    "city, state, zip_code, latitude, longitude, property_type, bedrooms, bathrooms, "
    "square_footage, sale_date, distance_miles, source_id) FROM STDIN";

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
  upd_campaign_ = Prepare(
      "UPDATE campaigns SET campaign_status = $1, local_market_data_status = $2, "
      "active_listing_status = $3, recent_sale_status = $4, data_cycle = $5, error_text = $6, "
      "updated_at = $7, status_changed_at = $8, parts_changed_at = $9, republish_count = $10, "
      "restart_count = $11 WHERE id = $12 AND campaign_status = $13 AND data_cycle = $14 AND "
      "local_market_data_status = $15 AND active_listing_status = $16 AND recent_sale_status = "
      "$17");
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
  sel_market_ = Prepare(
      "SELECT zip_code, month, average_price, average_price_per_sqft, average_days_on_market, "
      "total_listings, old_month, old_average_price, old_average_price_per_sqft, "
      "old_average_days_on_market, old_total_listings, (extract(epoch FROM created_at) * "
      "1000)::bigint FROM local_market_data WHERE zip_code = $1 AND created_at >= $2 ORDER BY "
      "created_at DESC, id DESC LIMIT 1");
  ins_market_ = Prepare(
      "INSERT INTO local_market_data (zip_code, month, average_price, average_price_per_sqft, "
      "average_days_on_market, total_listings, old_month, old_average_price, "
      "old_average_price_per_sqft, old_average_days_on_market, old_total_listings, created_at) "
      "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)");
  del_listings_ = Prepare("DELETE FROM active_listings WHERE campaign_id = $1");
  del_sales_ = Prepare("DELETE FROM recent_sales WHERE campaign_id = $1");
}

void Worker::Relay() {
  std::string claimed;
  Run(claim_, {kTs.c_str(), "10", kLater.c_str(), "claim-token"}, &claimed);
  Step();
  const std::string ids = "{" + claimed + "}";
  Run(mark_, {kTs.c_str(), ids.c_str()});
}

void Worker::Transition(const std::string& id, const char* cycle_before, const char* cycle_after,
                        const char* const before[4], const char* const after[4]) {
  Run(lock_campaign_, {id.c_str()});
  if (Run(upd_campaign_, {after[0], after[1], after[2], after[3], cycle_after, nullptr, kTs.c_str(),
                          kTs.c_str(), kTs.c_str(), "0", "0", id.c_str(), before[0], cycle_before,
                          before[1], before[2], before[3]}) != 1)
    Die("the compare-and-set UPDATE changed no row");
}

void Worker::Outbox(const std::string& id) {
  Run(ins_outbox_, {"campaign-events", id.c_str(), "STATUS_CHANGE", kBody.c_str(),
                    kAttributes.c_str(), kTs.c_str()});
}

void Worker::Campaign(int c) {
  char idbuf[32];
  std::snprintf(idbuf, sizeof idbuf, "ceil-%07d", c);
  const std::string id = idbuf, zip = std::to_string(10000 + c % 89999);
  const bool has_address = c % 3 != 2;
  Exec("BEGIN");
  // create + start
  Run(ins_campaign_,
      {id.c_str(), nullptr, zip.c_str(), has_address ? "0" : "1", "DORMANT", "DORMANT", "DORMANT",
       "DORMANT", "0", nullptr, kTs.c_str(), kTs.c_str(), kTs.c_str(), kTs.c_str()});
  if (has_address) {
    Run(ins_property_, {id.c_str(), "1 Main St, Town, ST", "42.36", "-71.1", "500000"});
  }
  const char* dormant[4] = {"DORMANT", "DORMANT", "DORMANT", "DORMANT"};
  const char* status[4] = {"WAITING_FOR_DATA", "WAITING_FOR_DATA", "WAITING_FOR_DATA",
                           "WAITING_FOR_DATA"};
  Transition(id, "0", "1", dormant, status);
  Outbox(id);
  Step();
  Relay();
  // The three parts (market, listings, sales), one after the other.
  for (int p = 0; p < 3; ++p) {
    if (per_step_) Exec("COMMIT");  // the handler's reads run outside a transaction
    if (p == 0) {
      Run(sel_campaign_, {id.c_str()});
      Run(sel_market_, {zip.c_str(), kMonthAgo.c_str()});
    } else {
      Run(sel_part_inputs_, {id.c_str()});
    }
    if (per_step_) Exec("BEGIN");
    const char* before[4] = {status[0], status[1], status[2], status[3]};
    status[p + 1] = "READY";
    const bool last = p == 2;
    if (last) status[0] = "READY_TO_CREATE_EMAIL";
    Transition(id, "1", "1", before, status);
    if (p == 0) {
      Run(ins_market_, {zip.c_str(), "2026-11", "500000", "300", "30", "120", "2025-11", "480000",
                        "290", "33", "110", kTs.c_str()});
    } else {
      Run(p == 1 ? del_listings_ : del_sales_, {id.c_str()});
      std::string data;
      for (int r = 0; r < rows_; ++r) {
        // The product's columns, every field filled as a ranked record fills them.
        const std::string n = std::to_string(r + 12);
        data += id + "\t" + std::to_string(r + 1) + "\t0.8731\t" + (p == 1 ? "450000" : "430000") +
                "\t" + n + " Elm St, Town, ST " + zip + "\t" + n + " Elm St\tTown\tST\t" + zip +
                "\t42.1234\t-71.1234\tSingle Family\t3\t2.5\t1800\t" +
                (p == 1 ? "2026-11-01\t12\t0.8123\t" : "2026-10-01\t0.9123\t") + id + "-" +
                std::to_string(r) + "\n";
      }
      Copy(p == 1 ? kCopyListings : kCopySales, data);
    }
    if (last) Outbox(id);
  }
  Step();
  Relay();
  Exec("COMMIT");
}

constexpr std::string_view kUsage =
    "usage: pg_ceiling --url POSTGRES_URL --campaigns N --mode one|pipeline [--rows N] "
    "[--connections K]\n";

}  // namespace

int main(int argc, char** argv) {
  std::string url, mode;
  int campaigns = 0, rows = 25, connections = 8;
  bench::Args args;
  args.Text("--url", &url, bench::Need::kRequired);
  args.Int("--campaigns", &campaigns, 1, 1000000, bench::Need::kRequired);
  args.Choice("--mode", &mode, {"one", "pipeline"}, bench::Need::kRequired);
  args.Int("--rows", &rows, 1, 500);
  args.Int("--connections", &connections, 1, 64);
  std::string why = args.Parse(argc, argv);
  if (why.empty() && url.empty()) why = "--url needs a connection URL";
  if (!why.empty()) return bench::UsageError("pg_ceiling", why, kUsage);

  std::vector<std::unique_ptr<Worker>> workers;
  for (int k = 0; k < connections; ++k) {
    workers.push_back(std::make_unique<Worker>(url, mode == "pipeline", rows));
  }
  workers[0]->Exec(
      "DELETE FROM active_listings; DELETE FROM recent_sales; DELETE FROM local_market_data; "
      "DELETE FROM property_data; DELETE FROM outbox; DELETE FROM campaigns");
  const long before = statements.load();
  const auto start = std::chrono::steady_clock::now();
  std::vector<std::thread> threads;
  for (int k = 0; k < connections; ++k) {
    threads.emplace_back([&, k] {
      for (int c = k; c < campaigns; c += connections) workers[k]->Campaign(c);
    });
  }
  for (auto& t : threads) t.join();
  const double secs =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::printf(
      "CEILING mode=%s campaigns=%d connections=%d seconds=%.3f per_s=%.1f "
      "statements_per_campaign=%.1f\n",
      mode.c_str(), campaigns, connections, secs, campaigns / secs,
      static_cast<double>(statements.load() - before) / campaigns);
  return 0;
}
