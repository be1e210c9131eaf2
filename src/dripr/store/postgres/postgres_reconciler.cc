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

// The lease's name is built from the campaign row as MarketLeaseName(CampaignZip(zip)) builds it.
std::optional<PostgresStore::Sent> PostgresStore::TakeMarketLeaseStatement(
    const CampaignId& id, const std::string& holder, SysTime now, SysTime until,
    SysTime fresh_after) {
  static const std::string sql = [] {
    const std::string zip = CampaignZipSql("c.zip_code");
    return "INSERT INTO leases (name, holder, expires_at) SELECT 'market:' || " + zip +
           ", $1, $2::timestamptz FROM campaigns c WHERE c.id = $3 AND c.campaign_status = $4 "
           "AND c.local_market_data_status = $5 AND NOT EXISTS (SELECT 1 FROM "
           "local_market_data m WHERE m.zip_code = " +
           zip +
           " AND m.created_at >= $6::timestamptz) ON CONFLICT (name) DO UPDATE SET holder = "
           "EXCLUDED.holder, expires_at = EXCLUDED.expires_at WHERE leases.holder = "
           "EXCLUDED.holder OR leases.expires_at <= $7::timestamptz";
  }();
  return Sent{sql, pg::Params()
                       .Text(holder)
                       .Time(until)
                       .Text(id.str())
                       .Text(std::string(ToString(CampaignStatus::kWaitingForData)))
                       .Text(std::string(ToString(PartStatus::kWaitingForData)))
                       .Time(fresh_after)
                       .Time(now)};
}

Result<bool> PostgresStore::TakeLease(pg::Connection& c, const std::string& name,
                                      const std::string& holder, SysTime now, SysTime until) {
  const std::optional<Sent> take = TakeLeaseStatement(name, holder, now, until);
  DRIPR_ASSIGN_OR_RETURN(pg::Rows r, c.Exec(take->sql, take->params));
  return r.Affected() == 1;
}

}  // namespace dripr
