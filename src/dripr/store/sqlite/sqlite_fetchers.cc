// SqliteStore: the `fetchers` table (data-fetcher heartbeats) and the outbox backlog, what
// `dripr queues` reports beside the queue depths.

#include "dripr/core/time.h"
#include "dripr/store/sqlite/sqlite_store.h"

namespace dripr {

using sqlite::Connection;

namespace {

// The schema stores "" as NULL and these columns are NOT NULL.
std::string_view OrUnknown(const std::string& s) {
  return s.empty() ? std::string_view("unknown") : std::string_view(s);
}

}  // namespace

Result<OutboxBacklog> SqliteStore::PendingOutbox() {
  DRIPR_ASSIGN_OR_RETURN(auto c, pool_.Acquire());
  DRIPR_ASSIGN_OR_RETURN(auto s, c->Prepare("SELECT count(*), min(created_at) FROM outbox "
                                            "WHERE published_at IS NULL"));
  DRIPR_TRY(s.Step());
  OutboxBacklog b;
  b.pending = s.Int(0);
  if (!s.IsNull(1)) {
    auto t = ParseIso8601(s.Text(1));
    if (!t) return Fail(t.error().Wrap("outbox.created_at"));
    b.oldest_created = *t;
  }
  return b;
}

Status SqliteStore::HeartbeatFetcher(const FetcherInfo& f) {
  if (f.instance_id.empty())
    return Fail(ErrorCode::kInvalidArgument, "fetcher instance id is empty");
  const std::string now = FormatIso8601(Now());
  return InWriteTransaction("fetcher heartbeat", [&](Connection& c) -> Status {
    DRIPR_ASSIGN_OR_RETURN(
        auto s, c.Prepare("INSERT INTO fetchers (instance_id, host, pid, version, started_at, "
                          "heartbeat_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6) "
                          "ON CONFLICT (instance_id) DO UPDATE SET host = ?2, pid = ?3, "
                          "version = ?4, started_at = ?5, heartbeat_at = ?6"));
    s.BindText(f.instance_id).BindText(OrUnknown(f.host)).BindInt(f.pid);
    s.BindText(OrUnknown(f.version)).BindText(FormatIso8601(f.started_at)).BindText(now);
    return s.Run();
  });
}

Status SqliteStore::UnregisterFetcher(const std::string& instance_id) {
  return InWriteTransaction("fetcher unregister", [&](Connection& c) -> Status {
    DRIPR_ASSIGN_OR_RETURN(auto s, c.Prepare("DELETE FROM fetchers WHERE instance_id = ?"));
    s.BindText(instance_id);
    return s.Run();
  });
}

Result<std::vector<FetcherInfo>> SqliteStore::ListFetchers() {
  DRIPR_ASSIGN_OR_RETURN(auto c, pool_.Acquire());
  DRIPR_ASSIGN_OR_RETURN(auto s, c->Prepare("SELECT instance_id, host, pid, version, started_at, "
                                            "heartbeat_at FROM fetchers "
                                            "ORDER BY heartbeat_at DESC, instance_id"));
  return s.ReadAll<FetcherInfo>([](sqlite::Statement& row) -> Result<FetcherInfo> {
    FetcherInfo f;
    f.instance_id = row.Text(0);
    f.host = row.Text(1);
    f.pid = row.Int(2);
    f.version = row.Text(3);
    auto started = ParseIso8601(row.Text(4));
    auto beat = ParseIso8601(row.Text(5));
    if (!started || !beat) {
      return Fail(ErrorCode::kDataLoss, "fetchers: bad timestamp in row " + f.instance_id);
    }
    f.started_at = *started;
    f.heartbeat_at = *beat;
    return f;
  });
}

}  // namespace dripr
