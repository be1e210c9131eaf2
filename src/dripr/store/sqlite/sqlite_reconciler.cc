// SqliteStore: the reconciler's queries (candidates) and named leases (table `leases`).

#include "dripr/core/time.h"
#include "dripr/store/sqlite/sqlite_rows.h"
#include "dripr/store/sqlite/sqlite_store.h"

namespace dripr {

using sqlite::Connection;

Result<std::vector<Campaign>> SqliteStore::FindReconcileCandidates(
    SysTime unmoved_before, std::optional<SysTime> errored_before, int max_restarts, int limit) {
  std::vector<Campaign> out;
  if (limit <= 0) return out;
  DRIPR_ASSIGN_OR_RETURN(auto c, pool_.Acquire());
  // Timestamps are ISO-8601 UTC text of one width, so text order is time order.
  DRIPR_ASSIGN_OR_RETURN(
      auto stuck,
      c->Prepare("SELECT " + std::string(sqlite::kCampaignColumns) +
                 " FROM campaigns c WHERE campaign_status = 'WAITING_FOR_DATA'"
                 " AND coalesce(parts_changed_at, status_changed_at, updated_at) <= ?1"
                 " AND updated_at <= ?1"
                 " AND NOT EXISTS (SELECT 1 FROM outbox o WHERE o.campaign_id = c.id"
                 " AND o.published_at IS NULL)"
                 " ORDER BY coalesce(parts_changed_at, status_changed_at, updated_at), id"
                 " LIMIT ?2"));
  stuck.BindText(FormatIso8601(unmoved_before)).BindInt(limit);
  auto read_all = [&](sqlite::Statement& s) -> Status {
    return s.ForEachRow([&](sqlite::Statement& row) -> Status {
      return AppendReadable(sqlite::ReadCampaignRow(row), "reconciler", out);
    });
  };
  DRIPR_TRY(read_all(stuck));
  if (!errored_before) return out;
  DRIPR_ASSIGN_OR_RETURN(auto errored,
                         c->Prepare("SELECT " + std::string(sqlite::kCampaignColumns) +
                                    " FROM campaigns WHERE campaign_status = 'ERROR'"
                                    " AND status_changed_at <= ?1 AND restart_count < ?2"
                                    " ORDER BY status_changed_at, id LIMIT ?3"));
  errored.BindText(FormatIso8601(*errored_before)).BindInt(max_restarts).BindInt(limit);
  DRIPR_TRY(read_all(errored));
  return out;
}

Result<bool> SqliteStore::AcquireLease(const std::string& name, const std::string& holder,
                                       std::chrono::seconds ttl) {
  const SysTime now = Now();
  bool held = false;
  DRIPR_TRY(InWriteTransaction("lease " + name, [&](Connection& c) -> Status {
    DRIPR_ASSIGN_OR_RETURN(
        auto s, c.Prepare("INSERT INTO leases (name, holder, expires_at) VALUES (?1, ?2, ?3)"
                          " ON CONFLICT (name) DO UPDATE SET holder = excluded.holder,"
                          " expires_at = excluded.expires_at"
                          " WHERE leases.holder = excluded.holder OR leases.expires_at <= ?4"));
    s.BindText(name).BindText(holder).BindText(FormatIso8601(now + ttl));
    s.BindText(FormatIso8601(now));
    DRIPR_TRY(s.Run());
    held = c.Changes() == 1;
    return Ok();
  }));
  return held;
}

Status SqliteStore::ReleaseLease(const std::string& name, const std::string& holder) {
  return InWriteTransaction("release lease " + name,
                            [&](Connection& c) { return DeleteLease(c, name, holder); });
}

Status SqliteStore::DeleteLease(Connection& c, const std::string& name, const std::string& holder) {
  DRIPR_ASSIGN_OR_RETURN(auto s, c.Prepare("DELETE FROM leases WHERE name = ? AND holder = ?"));
  s.BindText(name).BindText(holder);
  return s.Run();
}

}  // namespace dripr
