// PostgresStore: the `fetchers` table (data-fetcher heartbeats) and the outbox backlog, what
// `dripr queues` reports beside the queue depths.

#include "dripr/store/postgres/pg_rows.h"
#include "dripr/store/postgres/postgres_store.h"

namespace dripr {

using pg::Connection;
using pg::Params;
using pg::Rows;

Result<OutboxBacklog> PostgresStore::PendingOutbox() {
  OutboxBacklog b;
  DRIPR_TRY(Read("outbox backlog", [&](Connection& c) -> Status {
    DRIPR_ASSIGN_OR_RETURN(Rows rows,
                           c.Exec("SELECT count(*), " DRIPR_PG_MS(
                               "min(created_at)") " FROM outbox WHERE published_at IS NULL"));
    b.pending = rows.Int(0, 0);
    b.oldest_created.reset();
    if (!rows.IsNull(0, 1)) b.oldest_created = pg::TimeAt(rows, 0, 1);
    return Ok();
  }));
  return b;
}

Status PostgresStore::HeartbeatFetcher(const FetcherInfo& f) {
  if (f.instance_id.empty())
    return Fail(ErrorCode::kInvalidArgument, "fetcher instance id is empty");
  Params p;
  p.Text(f.instance_id).Text(f.host.empty() ? "unknown" : f.host).Int(f.pid);
  p.Text(f.version.empty() ? "unknown" : f.version).Text(pg::TimeParam(f.started_at));
  p.Text(pg::TimeParam(Now()));
  return InTransaction("fetcher heartbeat", [&](Connection& c) -> Status {
    DRIPR_TRY(
        c.Exec("INSERT INTO fetchers (instance_id, host, pid, version, started_at, heartbeat_at) "
               "VALUES ($1, $2, $3, $4, $5::timestamptz, $6::timestamptz) "
               "ON CONFLICT (instance_id) DO UPDATE SET host = $2, pid = $3, version = $4, "
               "started_at = $5::timestamptz, heartbeat_at = $6::timestamptz",
               p));
    return Ok();
  });
}

Status PostgresStore::UnregisterFetcher(const std::string& instance_id) {
  Params p;
  p.Text(instance_id);
  return InTransaction("fetcher unregister", [&](Connection& c) -> Status {
    DRIPR_TRY(c.Exec("DELETE FROM fetchers WHERE instance_id = $1", p));
    return Ok();
  });
}

namespace {

constexpr const char* kListFetchersSql =
    "SELECT instance_id, host, pid, version, " DRIPR_PG_MS("started_at") ", " DRIPR_PG_MS(
        "heartbeat_at") " FROM fetchers ORDER BY heartbeat_at DESC, instance_id";

}  // namespace

Result<std::vector<FetcherInfo>> PostgresStore::ListFetchers() {
  std::vector<FetcherInfo> out;
  DRIPR_TRY(Read("list fetchers", [&](Connection& c) -> Status {
    out.clear();
    DRIPR_ASSIGN_OR_RETURN(Rows rows, c.Exec(kListFetchersSql));
    for (int i = 0; i < rows.size(); ++i) {
      FetcherInfo f;
      f.instance_id = rows.Text(i, 0);
      f.host = rows.Text(i, 1);
      f.pid = rows.Int(i, 2);
      f.version = rows.Text(i, 3);
      f.started_at = pg::TimeAt(rows, i, 4);
      f.heartbeat_at = pg::TimeAt(rows, i, 5);
      out.push_back(std::move(f));
    }
    return Ok();
  }));
  return out;
}

}  // namespace dripr
