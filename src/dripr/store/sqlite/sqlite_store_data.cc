// SqliteStore: a campaign's listing/sale rows, zip-level market data and zip centroids.

#include <map>
#include <string>
#include <utility>

#include "dripr/core/time.h"
#include "dripr/domain/event.h"
#include "dripr/store/sqlite/sqlite_rows.h"
#include "dripr/store/sqlite/sqlite_store.h"
#include "dripr/store/store_common.h"

namespace dripr {

using sqlite::Connection;
using sqlite::Statement;

namespace {

// Rows per multi-row INSERT: 50 * 19 parameters stays under SQLite's historic 999 limit.
constexpr size_t kInsertChunk = 50;

// Binds without copying (Statement::BindTextBorrowed): `campaign_id` and `r` outlive the
// statement's run in ReplaceRecords.
void BindRecord(Statement& s, const CampaignId& campaign_id, const RankedRecord& r,
                const RecordTable& t) {
  const PropertyRecord& p = r.record;
  s.BindTextBorrowed(campaign_id.str()).BindInt(r.rank).BindReal(r.score).BindInt(p.price);
  s.BindTextBorrowed(p.formatted_address).BindTextBorrowed(p.address_line1);
  s.BindTextBorrowed(p.city).BindTextBorrowed(p.state).BindTextBorrowed(p.zip_code);
  if (p.location) {
    s.BindReal(p.location->lat).BindReal(p.location->lng);
  } else {
    s.BindNull().BindNull();
  }
  s.BindTextBorrowed(p.property_type).BindInt(p.bedrooms).BindReal(p.bathrooms);
  s.BindInt(p.square_footage).BindTextBorrowed(p.event_date);
  if (t.has_days_on_market) s.BindInt(p.days_on_market);
  s.BindReal(r.distance_miles).BindTextBorrowed(p.source_id);
}

void BindMonth(Statement& s, const MarketMonth& m) {
  s.BindText(m.month).BindReal(m.average_price).BindReal(m.average_price_per_sqft);
  s.BindReal(m.average_days_on_market).BindInt(m.total_listings);
}

// The next row of `s`, if any.
Result<std::optional<MarketData>> StepMarketData(Statement& s) {
  DRIPR_ASSIGN_OR_RETURN(bool row, s.Step());
  if (!row) return std::optional<MarketData>();
  DRIPR_ASSIGN_OR_RETURN(MarketData m, ReadMarketData(sqlite::StatementRow(s)));
  return std::optional<MarketData>(std::move(m));
}

// The multi-row INSERT of `rows` rows of `t`, built once per thread: it runs in the writer's
// turn, and the same few texts (~1.5 KB each) come back every campaign.
const std::string& InsertRowsSql(const RecordTable& t, size_t rows) {
  thread_local std::map<std::pair<std::string_view, size_t>, std::string> built;
  auto [it, fresh] = built.try_emplace({t.name, rows});
  if (!fresh) return it->second;
  std::string one_row = "(?";
  for (int i = 1; i < t.column_count; ++i) one_row += ", ?";
  one_row += ")";
  std::string& sql = it->second;
  sql = "INSERT INTO " + std::string(t.name) + " (campaign_id, " + std::string(t.columns) +
        ") VALUES " + one_row;
  for (size_t i = 1; i < rows; ++i) sql += ", " + one_row;
  return sql;
}

Result<bool> ZipTableEmpty(Connection& c) {
  DRIPR_ASSIGN_OR_RETURN(auto s, c.Prepare("SELECT NOT EXISTS (SELECT 1 FROM zip_codes)"));
  DRIPR_TRY(s.Step());
  return s.Int(0) != 0;
}

}  // namespace

Status SqliteStore::ReplaceRecords(Connection& c, const CampaignId& campaign_id, DataPart part,
                                   const std::vector<RankedRecord>& records) {
  const RecordTable& t = RecordTableFor(part);
  DRIPR_ASSIGN_OR_RETURN(
      auto del, c.Prepare("DELETE FROM " + std::string(t.name) + " WHERE campaign_id = ?"));
  DRIPR_TRY(del.BindText(campaign_id.str()).Run());
  for (size_t start = 0; start < records.size(); start += kInsertChunk) {
    size_t n = std::min(kInsertChunk, records.size() - start);
    DRIPR_ASSIGN_OR_RETURN(auto ins, c.Prepare(InsertRowsSql(t, n)));
    for (size_t i = 0; i < n; ++i) BindRecord(ins, campaign_id, records[start + i], t);
    auto r = ins.Run();
    if (!r) return Fail(r.error().Wrap("insert " + std::string(t.name)));
  }
  return Ok();
}

Status SqliteStore::InsertMarketData(Connection& c, const MarketData& m, SysTime now) {
  if (m.current.month.empty()) {
    return Fail(ErrorCode::kInvalidArgument, "market data for zip " + m.zip_code + " has no month");
  }
  DRIPR_ASSIGN_OR_RETURN(auto s,
                         c.Prepare("INSERT INTO local_market_data (" + std::string(kMarketColumns) +
                                   ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"));
  s.BindText(m.zip_code);
  BindMonth(s, m.current);
  BindMonth(s, m.previous);
  s.BindText(FormatIso8601(now));
  return s.Run();
}

Result<std::vector<RankedRecord>> SqliteStore::GetActiveListings(const CampaignId& campaign_id) {
  return GetRecords(campaign_id, DataPart::kActiveListings);
}

Result<std::vector<RankedRecord>> SqliteStore::GetRecentSales(const CampaignId& campaign_id) {
  return GetRecords(campaign_id, DataPart::kRecentSales);
}

Result<std::vector<RankedRecord>> SqliteStore::GetRecords(const CampaignId& campaign_id,
                                                          DataPart part) {
  const RecordTable& t = RecordTableFor(part);
  DRIPR_ASSIGN_OR_RETURN(auto c, pool_.Acquire());
  DRIPR_ASSIGN_OR_RETURN(
      auto s, c->Prepare("SELECT " + std::string(t.columns) + " FROM " + std::string(t.name) +
                         " WHERE campaign_id = ? ORDER BY rank, id"));
  s.BindText(campaign_id.str());
  return s.ReadAll<RankedRecord>(
      [&](sqlite::Statement& row) { return ReadRecord(sqlite::StatementRow(row), t); });
}

Result<std::optional<MarketData>> SqliteStore::GetMarketData(const std::string& zip,
                                                             std::chrono::seconds max_age) {
  DRIPR_ASSIGN_OR_RETURN(auto c, pool_.Acquire());
  DRIPR_ASSIGN_OR_RETURN(auto s, c->Prepare("SELECT " + std::string(kMarketColumns) +
                                            " FROM local_market_data WHERE zip_code = ? AND "
                                            "created_at >= ? ORDER BY created_at DESC, id DESC "
                                            "LIMIT 1"));
  s.BindText(zip).BindText(FormatIso8601(Now() - max_age));
  return StepMarketData(s);
}

Result<std::optional<MarketData>> SqliteStore::LatestMarketData(const std::string& zip) {
  DRIPR_ASSIGN_OR_RETURN(auto c, pool_.Acquire());
  DRIPR_ASSIGN_OR_RETURN(auto s, c->Prepare("SELECT " + std::string(kMarketColumns) +
                                            " FROM local_market_data WHERE zip_code = ? "
                                            "ORDER BY created_at DESC, id DESC LIMIT 1"));
  s.BindText(zip);
  return StepMarketData(s);
}

Result<std::optional<GeoPoint>> SqliteStore::ZipCentroid(const std::string& zip) {
  auto five = NormalizeZip(zip);
  if (!five) return Fail(five.error().Wrap("zip_code"));
  DRIPR_ASSIGN_OR_RETURN(auto c, pool_.Acquire());
  DRIPR_ASSIGN_OR_RETURN(
      auto s, c->Prepare("SELECT latitude, longitude FROM zip_codes WHERE zip_code = ?"));
  s.BindText(*five);
  DRIPR_ASSIGN_OR_RETURN(bool row, s.Step());
  if (!row) return std::optional<GeoPoint>();
  return std::optional<GeoPoint>(GeoPoint{s.Real(0), s.Real(1)});
}

Status SqliteStore::SelectExistingIds(std::span<const std::string> ids,
                                      std::vector<CampaignId>& out) {
  DRIPR_ASSIGN_OR_RETURN(auto c, pool_.Acquire());
  DRIPR_ASSIGN_OR_RETURN(auto s,
                         c->Prepare("SELECT id FROM campaigns WHERE id IN " + InList(ids.size())));
  for (const auto& id : ids) s.BindText(id);
  return s.ForEachRow(
      [&](sqlite::Statement& row) { out.push_back(CampaignId::FromStoredRow(row.Text(0))); });
}

Status SqliteStore::SelectZipCentroids(std::span<const std::string> zips,
                                       std::map<std::string, GeoPoint>& out) {
  DRIPR_ASSIGN_OR_RETURN(auto c, pool_.Acquire());
  DRIPR_ASSIGN_OR_RETURN(auto s, c->Prepare("SELECT zip_code, latitude, longitude FROM zip_codes "
                                            "WHERE zip_code IN " +
                                            InList(zips.size())));
  for (const auto& zip : zips) s.BindText(zip);
  return s.ForEachRow([&](sqlite::Statement& row) {
    out[row.Text(0)] = GeoPoint{row.Real(1), row.Real(2)};
  });
}

Status SqliteStore::LoadZipCodes(const std::string& csv_path) {
  {
    // Cheap check first: a loaded table (the normal case on every start) skips the file.
    DRIPR_ASSIGN_OR_RETURN(auto c, pool_.Acquire());
    DRIPR_ASSIGN_OR_RETURN(bool empty, ZipTableEmpty(*c));
    if (!empty) return Ok();
  }
  DRIPR_ASSIGN_OR_RETURN(std::vector<ZipRow> rows, ReadZipCodeCsv(csv_path));
  return InWriteTransaction("load zip codes", [&](Connection& c) -> Status {
    DRIPR_ASSIGN_OR_RETURN(bool empty, ZipTableEmpty(c));
    if (!empty) return Ok();  // another process loaded it meanwhile
    DRIPR_ASSIGN_OR_RETURN(
        auto s,
        c.Prepare("INSERT INTO zip_codes (zip_code, latitude, longitude) VALUES (?, ?, ?)"));
    for (const ZipRow& r : rows) {
      s.Reset();
      auto done = s.BindText(r.zip).BindReal(r.lat).BindReal(r.lng).Run();
      if (!done) {
        if (done.error().code == ErrorCode::kAlreadyExists) {
          return Fail(ErrorCode::kInvalidArgument, csv_path + ": duplicate zip code " + r.zip);
        }
        return done;
      }
    }
    return Ok();
  });
}

}  // namespace dripr
