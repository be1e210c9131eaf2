// PostgresStore: taking a named lease (table `leases`) with one upsert, which can travel with
// other statements (TakeLeaseStatement); the reconciler's other queries are NetworkedStore's.

#include "dripr/store/postgres/pg_rows.h"
#include "dripr/store/postgres/postgres_store.h"

namespace dripr {

std::optional<PostgresStore::Sent> PostgresStore::TakeLeaseStatement(const std::string& name,
                                                                     const std::string& holder,
                                                                     SysTime now, SysTime until) {
  return Sent{
      "INSERT INTO leases (name, holder, expires_at) VALUES ($1, $2, $3::timestamptz) "
      "ON CONFLICT (name) DO UPDATE SET holder = EXCLUDED.holder, expires_at = "
      "EXCLUDED.expires_at WHERE leases.holder = EXCLUDED.holder OR "
      "leases.expires_at <= $4::timestamptz",
      pg::Params().Text(name).Text(holder).Time(until).Time(now)};
}

Result<bool> PostgresStore::TakeLease(pg::Connection& c, const std::string& name,
                                      const std::string& holder, SysTime now, SysTime until) {
  const std::optional<Sent> take = TakeLeaseStatement(name, holder, now, until);
  DRIPR_ASSIGN_OR_RETURN(pg::Rows r, c.Exec(take->sql, take->params));
  return r.Affected() == 1;
}

}  // namespace dripr
