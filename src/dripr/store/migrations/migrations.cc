#include "dripr/store/migrations/migrations.h"

#include <algorithm>
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

std::string V1Sql(const Dialect& d) {
  const std::string listings =
      d.ranked_table("active_listings", ColumnLine("price", d.int64),
                     ColumnLine("listed_date", d.date) + ColumnLine("days_on_market", d.int32));
  const std::string sales = d.ranked_table("recent_sales", ColumnLine("sale_price", d.int64),
                                           ColumnLine("sale_date", d.date));
  return ConcatSql({d.v1_before, listings, "\n", sales, "\n", d.v1_after});
}

namespace {

struct Column {
  std::string_view name;
  std::string type;  // with its constraints
};

std::string NotNull(std::string_view type) { return std::string(type) + " NOT NULL"; }
std::string Key(const Dialect& t) { return ConcatSql({t.text, t.primary_key}); }

// "CREATE TABLE table (...)" with one column a line, the types aligned one space after the
// longest name.
std::string CreateTable(const Dialect& t, std::string_view table,
                        std::initializer_list<Column> columns) {
  size_t width = 0;
  for (const Column& c : columns) width = std::max(width, c.name.size());
  std::string sql = ConcatSql({"CREATE TABLE ", table, " (\n"});
  size_t left = columns.size();
  for (const Column& c : columns) {
    sql += ConcatSql({"  ", c.name, std::string(width + 1 - c.name.size(), ' '), c.type});
    sql += --left > 0 ? ",\n" : "\n";
  }
  return ConcatSql({sql, ")", t.table_options, ";\n"});
}

std::string AddColumns(const Dialect& t, std::string_view table,
                       std::initializer_list<Column> columns) {
  std::string sql;
  size_t left = columns.size();
  for (const Column& c : columns) {
    const bool first = left == columns.size();
    sql += !t.one_alter || first ? ConcatSql({"ALTER TABLE ", table, " "}) : std::string("  ");
    sql += ConcatSql({"ADD COLUMN ", c.name, " ", c.type});
    sql += t.one_alter && --left > 0 ? ",\n" : ";\n";
  }
  return sql;
}

}  // namespace

// v2: what the reconciler and the operator tooling need. parts_changed_at is when any part
// status of the campaign last changed (the reconciler's "has not moved" clock);
// republish_count counts the reconciler's republishes in the current data cycle;
// restart_count counts automatic restarts of an errored campaign. `leases` holds named
// time-limited leases (one reconciler acts at a time); `fetchers` one row per running
// data-fetcher, refreshed by its heartbeat (`dripr queues` says whether one is alive).
std::string V2Sql(const Dialect& t) {
  const std::string counter = NotNull(t.int32) + " DEFAULT 0";
  return ConcatSql(
      {"\n",
       AddColumns(t, "campaigns",
                  {{"parts_changed_at", std::string(t.time)},
                   {"republish_count", counter},
                   {"restart_count", counter}}),
       "UPDATE campaigns SET parts_changed_at = COALESCE(status_changed_at, updated_at);\n\n",
       CreateTable(
           t, "leases",
           {{"name", Key(t)}, {"holder", NotNull(t.text)}, {"expires_at", NotNull(t.time)}}),
       "\n",
       CreateTable(t, "fetchers",
                   {{"instance_id", Key(t)},
                    {"host", NotNull(t.text)},
                    {"pid", NotNull(t.int32)},
                    {"version", NotNull(t.text)},
                    {"started_at", NotNull(t.time)},
                    {"heartbeat_at", NotNull(t.time)}})});
}

// v3: the provider request budget shared by every instance (docs/decisions/cluster.md): one
// row per budget ("rentcast:" + a hash of the API key, never the key), next_at = the GCRA
// "theoretical arrival time" of the next request slot, in microseconds since the Unix epoch.
std::string V3Sql(const Dialect& t) {
  return "\n" +
         CreateTable(t, "provider_budget", {{"name", Key(t)}, {"next_at", NotNull(t.int64)}});
}

DialectMigrations::DialectMigrations(const Dialect& d)
    : built_{V1Sql(d), V2Sql(d), V3Sql(d)},
      list_(MigrationList(
          {built_[0], built_[1], built_[2], kPagingIndexesSql, kOutboxFailedReasonSql})) {}

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
