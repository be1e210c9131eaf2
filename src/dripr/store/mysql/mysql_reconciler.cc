// MysqlStore: taking a named lease (table `leases`); the reconciler's other queries are
// NetworkedStore's.

#include "dripr/store/mysql/my_rows.h"
#include "dripr/store/mysql/mysql_store.h"

namespace dripr {

// Affected-row counts of an upsert differ between servers and client flags (a renewal with
// identical values may count 0): take it if free, else update it when it is ours or expired,
// then read who holds it.
Result<bool> MysqlStore::TakeLease(my::Connection& c, const std::string& name,
                                   const std::string& holder, SysTime now, SysTime until) {
  DRIPR_TRY(c.Exec("INSERT IGNORE INTO leases (name, holder, expires_at) VALUES (?, ?, ?)",
                   my::Params().Text(name).Text(holder).Time(until)));
  DRIPR_TRY(
      c.Exec("UPDATE leases SET holder = ?, expires_at = ? WHERE name = ? AND "
             "(holder = ? OR expires_at <= ?)",
             my::Params().Text(holder).Time(until).Text(name).Text(holder).Time(now)));
  DRIPR_ASSIGN_OR_RETURN(
      my::Rows r, c.Exec("SELECT holder FROM leases WHERE name = ?", my::Params().Text(name)));
  return !r.empty() && r.Text(0, 0) == holder;
}

}  // namespace dripr
