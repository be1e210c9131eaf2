// B1 baseline of `make bench` (docs/benchmarks.md): the old design's pickup, faithfully — a
// worker that every 5 s opens a transaction, claims the waiting campaigns with
// `SELECT … FOR UPDATE SKIP LOCKED`, marks them taken and commits. Each claim prints
// `PICKUP <id> <ms>`: the time from the committer's commit (status_changed_at, set with
// clock_timestamp() in the committing UPDATE) to the claim in this process.
//
//   skip_locked_poller --url POSTGRES_URL --count N [--interval-ms 5000] [--setup]
//
// --setup creates (or empties) the table `bench_poll_campaigns` and exits. The driver then
// commits `UPDATE bench_poll_campaigns SET campaign_status = 'WAITING_FOR_DATA',
// status_changed_at = clock_timestamp() WHERE id = …` from another process (psql).
// Exits 0 after N claims; bad arguments exit 2, a database error exits 1.
#include <libpq-fe.h>

#include <chrono>
#include <cstdio>
#include <string>
#include <string_view>
#include <thread>

#include "bench_args.h"

namespace {

bool Ok(PGconn* c, PGresult* r, const char* what) {
  const auto st = PQresultStatus(r);
  if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK) return true;
  std::fprintf(stderr, "skip_locked_poller: %s: %s", what, PQerrorMessage(c));
  return false;
}

bool Exec(PGconn* c, const char* sql) {
  PGresult* r = PQexec(c, sql);
  const bool ok = Ok(c, r, sql);
  PQclear(r);
  return ok;
}

constexpr std::string_view kUsage =
    "usage: skip_locked_poller --url POSTGRES_URL (--setup | --count N) [--interval-ms 5000]\n";

}  // namespace

int main(int argc, char** argv) {
  std::string url;
  int count = 0, interval_ms = 5000;
  bool setup = false;
  bench::Args args;
  args.Text("--url", &url, bench::Need::kRequired);
  args.Flag("--setup", &setup);
  args.Int("--count", &count, 1, 100000);
  args.Int("--interval-ms", &interval_ms, 1, 600000);
  std::string why = args.Parse(argc, argv);
  if (why.empty() && url.empty()) why = "--url needs a connection URL";
  if (why.empty() && !setup && count == 0) why = "--count is required without --setup";
  if (!why.empty()) return bench::UsageError("skip_locked_poller", why, kUsage);
  PGconn* c = PQconnectdb(url.c_str());
  if (PQstatus(c) != CONNECTION_OK) {
    std::fprintf(stderr, "skip_locked_poller: connect: %s", PQerrorMessage(c));
    PQfinish(c);
    return 1;
  }
  if (setup) {
    const bool ok = Exec(c,
                         "DROP TABLE IF EXISTS bench_poll_campaigns; CREATE TABLE "
                         "bench_poll_campaigns (id text PRIMARY KEY, campaign_status text NOT "
                         "NULL DEFAULT 'DORMANT', status_changed_at timestamptz)");
    PQfinish(c);
    return ok ? 0 : 1;
  }
  int claimed = 0;
  while (claimed < count) {
    if (!Exec(c, "BEGIN")) break;
    PGresult* r = PQexec(c,
                         "SELECT id, extract(epoch FROM clock_timestamp() - status_changed_at) "
                         "* 1000 FROM bench_poll_campaigns WHERE campaign_status = "
                         "'WAITING_FOR_DATA' ORDER BY status_changed_at LIMIT 10 "
                         "FOR UPDATE SKIP LOCKED");
    if (!Ok(c, r, "claim")) {
      PQclear(r);
      break;
    }
    for (int i = 0; i < PQntuples(r); ++i) {
      std::string id = PQgetvalue(r, i, 0);
      std::printf("PICKUP %s %s\n", id.c_str(), PQgetvalue(r, i, 1));
      const char* params[1] = {id.c_str()};
      PGresult* u = PQexecParams(c,
                                 "UPDATE bench_poll_campaigns SET campaign_status = "
                                 "'FETCHING' WHERE id = $1",
                                 1, nullptr, params, nullptr, nullptr, 0);
      const bool ok = Ok(c, u, "mark");
      PQclear(u);
      if (!ok) break;
      ++claimed;
    }
    PQclear(r);
    std::fflush(stdout);
    if (!Exec(c, "COMMIT")) break;
    // The old design: sleep the poll interval whatever happened.
    if (claimed < count) std::this_thread::sleep_for(std::chrono::milliseconds(interval_ms));
  }
  PQfinish(c);
  return claimed >= count ? 0 : 1;
}
