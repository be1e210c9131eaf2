// PostgresStore: the reconciler's queries (candidates) and named leases (table `leases`).

#include "dripr/store/postgres/pg_rows.h"
#include "dripr/store/postgres/postgres_store.h"

namespace dripr {

using pg::Connection;
using pg::Params;
using pg::Rows;

Result<std::vector<Campaign>> PostgresStore::FindReconcileCandidates(
    SysTime unmoved_before, std::optional<SysTime> errored_before, int max_restarts, int limit) {
  std::vector<Campaign> out;
  if (limit <= 0) return out;
  DRIPR_TRY(Read("find reconcile candidates", [&](Connection& c) -> Status {
    out.clear();
    auto read_all = [&](const Rows& rows) -> Status {
      for (int i = 0; i < rows.size(); ++i) {
        DRIPR_ASSIGN_OR_RETURN(Campaign campaign, pg::ReadCampaign(rows, i));
        out.push_back(std::move(campaign));
      }
      return Ok();
    };
    DRIPR_ASSIGN_OR_RETURN(
        Rows stuck,
        c.Exec("SELECT " + std::string(pg::kCampaignColumns) +
                   " FROM campaigns c WHERE campaign_status = 'WAITING_FOR_DATA'"
                   " AND coalesce(parts_changed_at, status_changed_at, updated_at) <= "
                   "$1::timestamptz AND updated_at <= $1::timestamptz"
                   " AND NOT EXISTS (SELECT 1 FROM outbox o WHERE o.campaign_id = c.id"
                   " AND o.published_at IS NULL)"
                   " ORDER BY coalesce(parts_changed_at, status_changed_at, updated_at), id"
                   " LIMIT $2",
               Params().Text(pg::TimeParam(unmoved_before)).Int(limit)));
    DRIPR_TRY(read_all(stuck));
    if (!errored_before) return Ok();
    DRIPR_ASSIGN_OR_RETURN(
        Rows errored,
        c.Exec("SELECT " + std::string(pg::kCampaignColumns) +
                   " FROM campaigns WHERE campaign_status = 'ERROR'"
                   " AND status_changed_at <= $1::timestamptz AND restart_count < $2"
                   " ORDER BY status_changed_at, id LIMIT $3",
               Params().Text(pg::TimeParam(*errored_before)).Int(max_restarts).Int(limit)));
    return read_all(errored);
  }));
  return out;
}

Result<bool> PostgresStore::AcquireLease(const std::string& name, const std::string& holder,
                                         std::chrono::seconds ttl) {
  const SysTime now = Now();
  bool held = false;
  DRIPR_TRY(InTransaction("lease " + name, [&](Connection& c) -> Status {
    DRIPR_ASSIGN_OR_RETURN(
        Rows r, c.Exec("INSERT INTO leases (name, holder, expires_at) VALUES ($1, $2, "
                       "$3::timestamptz) ON CONFLICT (name) DO UPDATE SET holder = "
                       "EXCLUDED.holder, expires_at = EXCLUDED.expires_at WHERE "
                       "leases.holder = EXCLUDED.holder OR leases.expires_at <= $4::timestamptz",
                       Params()
                           .Text(name)
                           .Text(holder)
                           .Text(pg::TimeParam(now + ttl))
                           .Text(pg::TimeParam(now))));
    held = r.Affected() == 1;
    return Ok();
  }));
  return held;
}

Status PostgresStore::ReleaseLease(const std::string& name, const std::string& holder) {
  return InTransaction("release lease " + name, [&](Connection& c) -> Status {
    DRIPR_TRY(c.Exec("DELETE FROM leases WHERE name = $1 AND holder = $2",
                     Params().Text(name).Text(holder)));
    return Ok();
  });
}

}  // namespace dripr
