// MysqlStore: the `fetchers` table (data-fetcher heartbeats) and the outbox backlog, what
// `dripr queues` reports beside the queue depths.

#include "dripr/store/mysql/my_rows.h"
#include "dripr/store/mysql/mysql_store.h"

namespace dripr {

using my::Connection;
using my::Params;
using my::Rows;

namespace {

constexpr const char* kListFetchersSql =
    "SELECT instance_id, host, pid, version, " DRIPR_MY_MS("started_at") ", " DRIPR_MY_MS(
        "heartbeat_at") " FROM fetchers ORDER BY heartbeat_at DESC, instance_id";

}  // namespace

Result<OutboxBacklog> MysqlStore::PendingOutbox() {
  OutboxBacklog b;
  DRIPR_TRY(Read("outbox backlog", [&](Connection& c) -> Status {
    DRIPR_ASSIGN_OR_RETURN(Rows rows,
                           c.Exec("SELECT COUNT(*), " DRIPR_MY_MS(
                               "MIN(created_at)") " FROM outbox WHERE published_at IS NULL"));
    b.pending = rows.Int(0, 0);
    b.oldest_created.reset();
    if (!rows.IsNull(0, 1)) b.oldest_created = my::TimeAt(rows, 0, 1);
    return Ok();
  }));
  return b;
}

Status MysqlStore::HeartbeatFetcher(const FetcherInfo& f) {
  if (f.instance_id.empty()) {
    return Fail(ErrorCode::kInvalidArgument, "fetcher instance id is empty");
  }
  const std::string host = f.host.empty() ? "unknown" : f.host;
  const std::string version = f.version.empty() ? "unknown" : f.version;
  const SysTime now = Now();
  Params p;
  p.Text(f.instance_id).Text(host).Int(f.pid).Text(version).Time(f.started_at).Time(now);
  p.Text(host).Int(f.pid).Text(version).Time(f.started_at).Time(now);
  return InTransaction("fetcher heartbeat", [&](Connection& c) -> Status {
    DRIPR_TRY(
        c.Exec("INSERT INTO fetchers (instance_id, host, pid, version, started_at, "
               "heartbeat_at) VALUES (?, ?, ?, ?, ?, ?) ON DUPLICATE KEY UPDATE host = ?, "
               "pid = ?, version = ?, started_at = ?, heartbeat_at = ?",
               p));
    return Ok();
  });
}

Status MysqlStore::UnregisterFetcher(const std::string& instance_id) {
  Params p;
  p.Text(instance_id);
  return InTransaction("fetcher unregister", [&](Connection& c) -> Status {
    DRIPR_TRY(c.Exec("DELETE FROM fetchers WHERE instance_id = ?", p));
    return Ok();
  });
}

Result<std::vector<FetcherInfo>> MysqlStore::ListFetchers() {
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
      f.started_at = my::TimeAt(rows, i, 4);
      f.heartbeat_at = my::TimeAt(rows, i, 5);
      out.push_back(std::move(f));
    }
    return Ok();
  }));
  return out;
}

}  // namespace dripr
