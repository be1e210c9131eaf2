// PostgresStore: taking a named lease (table `leases`) with one upsert; the reconciler's
// other queries are NetworkedStore's.

#include "dripr/store/postgres/pg_rows.h"
#include "dripr/store/postgres/postgres_store.h"

namespace dripr {

Result<bool> PostgresStore::TakeLease(pg::Connection& c, const std::string& name,
                                      const std::string& holder, SysTime now, SysTime until) {
  DRIPR_ASSIGN_OR_RETURN(
      pg::Rows r,
      c.Exec("INSERT INTO leases (name, holder, expires_at) VALUES ($1, $2, $3::timestamptz) "
             "ON CONFLICT (name) DO UPDATE SET holder = EXCLUDED.holder, expires_at = "
             "EXCLUDED.expires_at WHERE leases.holder = EXCLUDED.holder OR "
             "leases.expires_at <= $4::timestamptz",
             pg::Params().Text(name).Text(holder).Time(until).Time(now)));
  return r.Affected() == 1;
}

}  // namespace dripr
