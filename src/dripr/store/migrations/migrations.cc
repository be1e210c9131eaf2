#include "dripr/store/migrations/migrations.h"

#include <string>

namespace dripr {

std::string ConcatSql(std::initializer_list<std::string_view> parts) {
  std::string sql;
  for (std::string_view part : parts) sql += part;
  return sql;
}

std::string V1Sql(std::string_view before, const RankedRecordTables& ranked,
                  std::string_view after) {
  return ConcatSql(
      {before, ranked.render("active_listings", ranked.listing_price, ranked.listing_dates), "\n",
       ranked.render("recent_sales", ranked.sale_price, ranked.sale_dates), "\n", after});
}

Status ApplyMigrations(int current, std::span<const Migration> list,
                       const std::function<Status(const Migration&)>& run,
                       const std::function<Status(const Migration&)>& record) {
  if (current > kLatestSchemaVersion) {
    return Fail(ErrorCode::kFailedPrecondition,
                "database schema version " + std::to_string(current) +
                    " is newer than this dripr binary supports (" +
                    std::to_string(kLatestSchemaVersion) + "); use a newer dripr");
  }
  for (const Migration& m : list) {
    if (m.version <= current) continue;
    Status applied = run(m);
    if (!applied) {
      return Fail(applied.error().Wrap("migration " + std::to_string(m.version) + " (" +
                                       std::string(m.name) + ")"));
    }
    DRIPR_TRY(record(m));
  }
  return Ok();
}

}  // namespace dripr
