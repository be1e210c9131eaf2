// MysqlStore: the reconciler's queries (candidates) and named leases (table `leases`).

#include "dripr/store/mysql/my_rows.h"
#include "dripr/store/mysql/mysql_store.h"

namespace dripr {

using my::Connection;
using my::Params;
using my::Rows;

Result<std::vector<Campaign>> MysqlStore::FindReconcileCandidates(
    SysTime unmoved_before, std::optional<SysTime> errored_before, int max_restarts, int limit) {
  std::vector<Campaign> out;
  if (limit <= 0) return out;
  DRIPR_TRY(Read("find reconcile candidates", [&](Connection& c) -> Status {
    out.clear();
    auto read_all = [&](const Rows& rows) -> Status {
      for (int i = 0; i < rows.size(); ++i) {
        DRIPR_ASSIGN_OR_RETURN(Campaign campaign, my::ReadCampaign(rows, i));
        out.push_back(std::move(campaign));
      }
      return Ok();
    };
    DRIPR_ASSIGN_OR_RETURN(
        Rows stuck,
        c.Exec("SELECT " + std::string(my::kCampaignColumns) +
                   " FROM campaigns c WHERE campaign_status = 'WAITING_FOR_DATA'"
                   " AND coalesce(parts_changed_at, status_changed_at, updated_at) <= ?"
                   " AND updated_at <= ?"
                   " AND NOT EXISTS (SELECT 1 FROM outbox o WHERE o.campaign_id = c.id"
                   " AND o.published_at IS NULL)"
                   " ORDER BY coalesce(parts_changed_at, status_changed_at, updated_at), id"
                   " LIMIT ?",
               Params().Time(unmoved_before).Time(unmoved_before).Int(limit)));
    DRIPR_TRY(read_all(stuck));
    if (!errored_before) return Ok();
    DRIPR_ASSIGN_OR_RETURN(Rows errored,
                           c.Exec("SELECT " + std::string(my::kCampaignColumns) +
                                      " FROM campaigns WHERE campaign_status = 'ERROR'"
                                      " AND status_changed_at <= ? AND restart_count < ?"
                                      " ORDER BY status_changed_at, id LIMIT ?",
                                  Params().Time(*errored_before).Int(max_restarts).Int(limit)));
    return read_all(errored);
  }));
  return out;
}

Result<bool> MysqlStore::AcquireLease(const std::string& name, const std::string& holder,
                                      std::chrono::seconds ttl) {
  const SysTime now = Now();
  bool held = false;
  DRIPR_TRY(InTransaction("lease " + name, [&](Connection& c) -> Status {
    // Affected-row counts of an upsert differ between servers and client flags (a renewal
    // with identical values may count 0): take it if free, else update it when it is ours or
    // expired, then read who holds it.
    DRIPR_TRY(c.Exec("INSERT IGNORE INTO leases (name, holder, expires_at) VALUES (?, ?, ?)",
                     Params().Text(name).Text(holder).Time(now + ttl)));
    DRIPR_TRY(
        c.Exec("UPDATE leases SET holder = ?, expires_at = ? WHERE name = ? AND "
               "(holder = ? OR expires_at <= ?)",
               Params().Text(holder).Time(now + ttl).Text(name).Text(holder).Time(now)));
    DRIPR_ASSIGN_OR_RETURN(Rows r,
                           c.Exec("SELECT holder FROM leases WHERE name = ?", Params().Text(name)));
    held = !r.empty() && r.Text(0, 0) == holder;
    return Ok();
  }));
  return held;
}

Status MysqlStore::ReleaseLease(const std::string& name, const std::string& holder) {
  return InTransaction("release lease " + name, [&](Connection& c) -> Status {
    DRIPR_TRY(c.Exec("DELETE FROM leases WHERE name = ? AND holder = ?",
                     Params().Text(name).Text(holder)));
    return Ok();
  });
}

}  // namespace dripr
