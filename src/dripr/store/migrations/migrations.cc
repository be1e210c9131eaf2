#include "dripr/store/migrations/migrations.h"

#include <string>

namespace dripr {

std::string ConcatSql(std::initializer_list<std::string_view> parts) {
  std::string sql;
  for (std::string_view part : parts) sql += part;
  return sql;
}

namespace {

// One column line of a ranked-record table, the types aligned as the shipped DDL has them.
std::string ColumnLine(std::string_view name, std::string_view type) {
  constexpr size_t kNameWidth = 18;  // "formatted_address" and a space
  std::string line = "  ";
  line += name;
  line.append(kNameWidth - name.size(), ' ');
  line += type;
  line += ",\n";
  return line;
}

}  // namespace

std::string V1Sql(std::string_view before, const RankedRecordTables& ranked,
                  std::string_view after) {
  const std::string listings = ranked.render(
      "active_listings", ColumnLine("price", ranked.money_type),
      ColumnLine("listed_date", ranked.date_type) + ColumnLine("days_on_market", ranked.days_type));
  const std::string sales =
      ranked.render("recent_sales", ColumnLine("sale_price", ranked.money_type),
                    ColumnLine("sale_date", ranked.date_type));
  return ConcatSql({before, listings, "\n", sales, "\n", after});
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
