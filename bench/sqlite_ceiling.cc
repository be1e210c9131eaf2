// The "ceiling" for B2 of `make bench` (docs/benchmarks.md): bare sqlite3 C API doing what the
// pipeline does to the database for one campaign, start to READY_TO_CREATE_EMAIL, with nothing
// else in the way (no threads, no bus polling, no provider, no JSON).
//
//   sqlite_ceiling --db FILE --campaigns N --mode one|pipeline [--rows N[,N...]]
//
// FILE must already hold the product's schema (the driver makes it with `dripr demo
// --campaigns 1 --keep`, so tables, indexes and the bus tables are exactly the product's); its
// rows are deleted first. Pragmas as in src/dripr/sqlite/db.cc and writer.cc: WAL,
// synchronous=NORMAL, foreign_keys=ON, temp_store=MEMORY. Statements per campaign, in the
// pipeline's order:
//   create: INSERT campaigns (+ property_data for 2 of 3); start: SELECT + UPDATE campaigns,
//   INSERT outbox; relay: SELECT pending outbox + UPDATE claim, INSERT bus_messages x3,
//   UPDATE outbox published; per part x3: SELECT + UPDATE bus_messages (receive), SELECT +
//   UPDATE campaigns, DELETE + INSERT rows (the listings' and sales' counts from --rows, one
//   market row), the last part also INSERT outbox (READY event), DELETE bus_messages (ack).
// --rows: the part rows to write, in turn: campaign c's listings take the (2c)th number and its
// sales the (2c+1)th, the list starting over when it runs out (default 25: 25 of each). The
// driver passes the counts the pipeline's own run stored, campaign by campaign in creation
// order, so that the ceiling writes what the pipeline wrote.
// --mode one: one transaction per campaign. --mode pipeline: a commit per step as the
// pipeline does (14 per campaign). Prints one line: `CEILING mode=… campaigns=… seconds=…
// per_s=…`. Bad arguments: usage on stderr, exit 2; a SQLite error: exit 1.
#include <sqlite3.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "bench_args.h"

namespace {

struct Db {
  sqlite3* db = nullptr;
  std::vector<sqlite3_stmt*> stmts;
  ~Db() {
    for (auto* s : stmts) sqlite3_finalize(s);
    if (db) sqlite3_close(db);
  }
};

[[noreturn]] void Die(sqlite3* db, const char* what) {
  std::fprintf(stderr, "sqlite_ceiling: %s: %s\n", what, db ? sqlite3_errmsg(db) : "?");
  std::exit(1);
}

sqlite3_stmt* Prep(Db& d, const char* sql) {
  sqlite3_stmt* s = nullptr;
  if (sqlite3_prepare_v3(d.db, sql, -1, SQLITE_PREPARE_PERSISTENT, &s, nullptr) != SQLITE_OK)
    Die(d.db, sql);
  d.stmts.push_back(s);
  return s;
}

void Exec(Db& d, const char* sql) {
  if (sqlite3_exec(d.db, sql, nullptr, nullptr, nullptr) != SQLITE_OK) Die(d.db, sql);
}

void Bind(sqlite3_stmt* s, int i, const std::string& v) {
  sqlite3_bind_text(s, i, v.c_str(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
}
void Bind(sqlite3_stmt* s, int i, const char* v) { Bind(s, i, std::string(v)); }
void Bind(sqlite3_stmt* s, int i, int v) { sqlite3_bind_int(s, i, v); }
void Bind(sqlite3_stmt* s, int i, sqlite3_int64 v) { sqlite3_bind_int64(s, i, v); }

// Binds `params` to ?1, ?2, ..., steps to the end (reads every row), then resets for the next
// use.
template <typename... Params>
void Run(Db& d, sqlite3_stmt* s, const Params&... params) {
  int i = 0;
  (Bind(s, ++i, params), ...);
  int rc;
  while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
  }
  if (rc != SQLITE_DONE) Die(d.db, sqlite3_sql(s));
  sqlite3_reset(s);
  sqlite3_clear_bindings(s);
}

constexpr std::string_view kUsage =
    "usage: sqlite_ceiling --db FILE --campaigns N --mode one|pipeline [--rows N[,N...]]\n";

}  // namespace

int main(int argc, char** argv) {
  std::string path, mode;
  int campaigns = 0;
  std::vector<int> rows = {25};
  bench::Args args;
  args.Text("--db", &path, bench::Need::kRequired);
  args.Int("--campaigns", &campaigns, 1, 1000000, bench::Need::kRequired);
  args.Choice("--mode", &mode, {"one", "pipeline"}, bench::Need::kRequired);
  args.IntList("--rows", &rows, 0, 500);
  if (std::string why = args.Parse(argc, argv); !why.empty())
    return bench::UsageError("sqlite_ceiling", why, kUsage);
  if (path.empty()) return bench::UsageError("sqlite_ceiling", "--db needs a file name", kUsage);
  const bool per_step = mode == "pipeline";

  Db d;
  if (sqlite3_open_v2(path.c_str(), &d.db, SQLITE_OPEN_READWRITE, nullptr) != SQLITE_OK)
    Die(d.db, "open");
  // The product writer's pragmas (temp_store=MEMORY is the writer connection's, for its
  // savepoints' journal: the ceiling has none, but keeps the same settings).
  Exec(d,
       "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON; "
       "PRAGMA temp_store=MEMORY;");
  Exec(d,
       "DELETE FROM active_listings; DELETE FROM recent_sales; DELETE FROM local_market_data; "
       "DELETE FROM property_data; DELETE FROM outbox; DELETE FROM bus_messages; "
       "DELETE FROM campaigns;");

  auto* ins_campaign = Prep(
      d,
      "INSERT INTO campaigns (id, user_id, zip_code, no_address_newsletter, campaign_status, "
      "local_market_data_status, active_listing_status, recent_sale_status, data_cycle, "
      "error_text, created_at, updated_at, status_changed_at) VALUES "
      "(?1, 'agent-1', ?2, ?3, 'DORMANT', 'DORMANT', 'DORMANT', 'DORMANT', 0, NULL, ?4, ?4, ?4)");
  auto* ins_property = Prep(d,
                            "INSERT INTO property_data (campaign_id, formatted_address, latitude, "
                            "longitude, current_value) VALUES (?1, '1 Main St', 42.36, -71.1, "
                            "500000)");
  auto* sel_campaign = Prep(d,
                            "SELECT id, user_id, zip_code, no_address_newsletter, campaign_status, "
                            "local_market_data_status, active_listing_status, recent_sale_status, "
                            "data_cycle, error_text, created_at, updated_at, status_changed_at "
                            "FROM campaigns WHERE id = ?1");
  auto* upd_campaign = Prep(d,
                            "UPDATE campaigns SET campaign_status = ?2, local_market_data_status = "
                            "?3, active_listing_status = ?3, recent_sale_status = ?3, data_cycle = "
                            "data_cycle + ?4, updated_at = ?5, status_changed_at = ?5, "
                            "parts_changed_at = ?5 WHERE id = ?1");
  auto* ins_outbox = Prep(d,
                          "INSERT INTO outbox (topic, campaign_id, event_type, body, attributes, "
                          "created_at) VALUES ('campaign-events', ?1, 'STATUS_CHANGE', ?2, '[]', "
                          "?3)");
  auto* sel_outbox = Prep(d,
                          "SELECT id, topic, campaign_id, event_type, body, attributes FROM outbox "
                          "WHERE published_at IS NULL ORDER BY id LIMIT 10");
  auto* claim_outbox =
      Prep(d, "UPDATE outbox SET claimed_until = ?2, claim_token = 'tok' WHERE id = ?1");
  auto* pub_outbox = Prep(d,
                          "UPDATE outbox SET published_at = ?2, claimed_until = NULL, "
                          "claim_token = NULL WHERE id = ?1");
  auto* ins_msg = Prep(d,
                       "INSERT INTO bus_messages(queue, message_id, body, attributes, sent_at, "
                       "visible_at) VALUES (?1, ?2, ?3, '{}', ?4, ?4)");
  auto* sel_msg = Prep(d,
                       "SELECT id, message_id, body, attributes, sent_at, receive_count FROM "
                       "bus_messages WHERE queue=?1 AND visible_at<=?2 ORDER BY visible_at, id "
                       "LIMIT 10");
  auto* recv_msg = Prep(d,
                        "UPDATE bus_messages SET visible_at=?1, receive_count=receive_count+1, "
                        "receipt_handle=?2, first_received_at=COALESCE(first_received_at, ?3) "
                        "WHERE id=?4");
  auto* ack_msg = Prep(d, "DELETE FROM bus_messages WHERE queue=?1 AND receipt_handle=?2");
  auto* del_listings = Prep(d, "DELETE FROM active_listings WHERE campaign_id = ?1");
  auto* del_sales = Prep(d, "DELETE FROM recent_sales WHERE campaign_id = ?1");
  auto* ins_listing = Prep(
      d,
      "INSERT INTO active_listings (campaign_id, rank, score, price, formatted_address, "
      "address_line1, city, state, zip_code, latitude, longitude, property_type, bedrooms, "
      "bathrooms, square_footage, listed_date, days_on_market, distance_miles, source_id) VALUES "
      "(?1, ?2, 0.5, 450000, '12 Elm St, Town, ST 02139', '12 Elm St', 'Town', 'ST', '02139', "
      "42.1, -71.1, 'Single Family', 3, 2.5, 1800, '2026-11-01', 12, 0.8, ?3)");
  auto* ins_sale =
      Prep(d,
           "INSERT INTO recent_sales (campaign_id, rank, score, sale_price, formatted_address, "
           "address_line1, city, state, zip_code, latitude, longitude, property_type, bedrooms, "
           "bathrooms, square_footage, sale_date, distance_miles, source_id) VALUES "
           "(?1, ?2, 0.5, 430000, '14 Elm St, Town, ST 02139', '14 Elm St', 'Town', 'ST', '02139', "
           "42.1, -71.1, 'Single Family', 3, 2.5, 1800, '2026-10-01', 0.9, ?3)");
  auto* del_market = Prep(d, "DELETE FROM local_market_data WHERE zip_code = ?1");
  auto* ins_market = Prep(
      d,
      "INSERT INTO local_market_data (zip_code, month, average_price, average_price_per_sqft, "
      "average_days_on_market, total_listings, old_month, old_average_price, "
      "old_average_price_per_sqft, old_average_days_on_market, old_total_listings, created_at) "
      "VALUES (?1, '2026-11', 500000, 300, 30, 120, '2025-11', 480000, 290, 33, 110, ?2)");
  auto* begin = Prep(d, "BEGIN IMMEDIATE");
  auto* commit = Prep(d, "COMMIT");

  const char* queues[3] = {"local_market_data", "active_listings", "recent_sales"};
  const std::string ts = "2026-11-30T16:00:00.000Z";
  const std::string body(420, 'x');  // about the size of a STATUS_CHANGE event
  // In "one" mode the whole campaign is one transaction; in "pipeline" mode every Step()
  // boundary commits.
  auto step = [&](bool first) {
    if (per_step) {
      if (!first) Run(d, commit);
      Run(d, begin);
    }
  };
  auto start = std::chrono::steady_clock::now();
  for (int c = 0; c < campaigns; ++c) {
    char idbuf[32];
    std::snprintf(idbuf, sizeof idbuf, "ceil-%07d", c);
    const std::string id = idbuf, zip = std::to_string(10000 + c % 89999);
    const sqlite3_int64 now = 1796054400000LL + c;
    if (!per_step) Run(d, begin);
    step(true);  // create
    Run(d, ins_campaign, id, zip, int{c % 3 == 2}, ts);
    if (c % 3 != 2) Run(d, ins_property, id);
    step(false);  // start
    Run(d, sel_campaign, id);
    Run(d, upd_campaign, id, "WAITING_FOR_DATA", "WAITING_FOR_DATA", 1, ts);
    Run(d, ins_outbox, id, body, ts);
    const sqlite3_int64 outbox_id = sqlite3_last_insert_rowid(d.db);
    step(false);  // relay: claim
    Run(d, sel_outbox);
    Run(d, claim_outbox, outbox_id, ts);
    step(false);  // relay: publish (fan-out to the three queues)
    sqlite3_int64 msg_ids[3];
    for (int qi = 0; qi < 3; ++qi) {
      const char* q = queues[qi];
      Run(d, ins_msg, q, id + q, body, now);
      msg_ids[qi] = sqlite3_last_insert_rowid(d.db);
    }
    step(false);  // relay: mark published
    Run(d, pub_outbox, outbox_id, ts);
    for (int p = 0; p < 3; ++p) {
      const std::string q = queues[p], receipt = id + "-r-" + q;
      step(false);  // receive
      Run(d, sel_msg, q, now);
      Run(d, recv_msg, now + 30000, receipt, now, msg_ids[p]);
      step(false);  // the handler's CompletePart
      Run(d, sel_campaign, id);
      if (p == 0) {
        Run(d, del_market, zip);
        Run(d, ins_market, zip, ts);
      } else {
        sqlite3_stmt* del = p == 1 ? del_listings : del_sales;
        sqlite3_stmt* ins = p == 1 ? ins_listing : ins_sale;
        Run(d, del, id);
        const int n = rows[(2 * static_cast<size_t>(c) + p - 1) % rows.size()];
        for (int r = 0; r < n; ++r) Run(d, ins, id, r + 1, id + "-" + std::to_string(r));
      }
      const bool last = p == 2;
      Run(d, upd_campaign, id, last ? "READY_TO_CREATE_EMAIL" : "WAITING_FOR_DATA",
          last ? "READY" : "WAITING_FOR_DATA", 0, ts);
      if (last) Run(d, ins_outbox, id, body, ts);
      step(false);  // ack
      Run(d, ack_msg, q, receipt);
    }
    Run(d, commit);
  }
  const double secs =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::printf("CEILING mode=%s campaigns=%d seconds=%.3f per_s=%.1f\n", mode.c_str(), campaigns,
              secs, campaigns / secs);
  return 0;
}
