// PostgresStore: a campaign's listing/sale rows (replaced with DELETE + COPY), zip-level market
// data and zip centroids (loaded with one COPY).

#include "dripr/domain/event.h"
#include "dripr/store/postgres/pg_rows.h"
#include "dripr/store/postgres/postgres_store.h"
#include "dripr/store/store_common.h"

namespace dripr {

using pg::Connection;
using pg::CopyText;
using pg::Params;
using pg::Rows;

namespace {

struct RecordTable {
  std::string_view name;
  std::string_view columns;  // without campaign_id
  bool has_days_on_market;
};

constexpr RecordTable kListingsTable = {"active_listings", kListingColumns, true};
constexpr RecordTable kSalesTable = {"recent_sales", kSaleColumns, false};

const RecordTable& TableFor(DataPart part) {
  return part == DataPart::kRecentSales ? kSalesTable : kListingsTable;
}

void AddRecord(CopyText& out, const std::string& campaign_id, const RankedRecord& r,
               const RecordTable& t) {
  const PropertyRecord& p = r.record;
  out.Text(campaign_id).Int(r.rank).Real(r.score).OptInt(p.price);
  out.TextOrNull(p.formatted_address).TextOrNull(p.address_line1).TextOrNull(p.city);
  out.TextOrNull(p.state).TextOrNull(p.zip_code);
  if (p.location) {
    out.Real(p.location->lat).Real(p.location->lng);
  } else {
    out.Null().Null();
  }
  out.TextOrNull(p.property_type).OptInt(p.bedrooms).OptReal(p.bathrooms);
  out.OptInt(p.square_footage).TextOrNull(p.event_date);
  if (t.has_days_on_market) out.OptInt(p.days_on_market);
  out.Real(r.distance_miles).TextOrNull(p.source_id);
  out.EndRow();
}

RankedRecord ReadRecord(const Rows& rows, int row, const RecordTable& t) {
  RankedRecord r;
  PropertyRecord& p = r.record;
  r.rank = static_cast<int>(rows.Int(row, 0));
  r.score = rows.Real(row, 1);
  p.price = rows.OptInt(row, 2);
  p.formatted_address = rows.Text(row, 3);
  p.address_line1 = rows.Text(row, 4);
  p.city = rows.Text(row, 5);
  p.state = rows.Text(row, 6);
  p.zip_code = rows.Text(row, 7);
  if (!rows.IsNull(row, 8) && !rows.IsNull(row, 9)) {
    p.location = GeoPoint{rows.Real(row, 8), rows.Real(row, 9)};
  }
  p.property_type = rows.Text(row, 10);
  if (auto v = rows.OptInt(row, 11)) p.bedrooms = static_cast<int>(*v);
  p.bathrooms = rows.OptReal(row, 12);
  if (auto v = rows.OptInt(row, 13)) p.square_footage = static_cast<int>(*v);
  p.event_date = rows.Text(row, 14);
  int col = 15;
  if (t.has_days_on_market) {
    if (auto v = rows.OptInt(row, col)) p.days_on_market = static_cast<int>(*v);
    ++col;
  }
  r.distance_miles = rows.Real(row, col++);
  p.source_id = rows.Text(row, col);
  return r;
}

// kMarketColumns with created_at read as epoch milliseconds.
const std::string& MarketSelect() {
  static const std::string sql = [] {
    std::string cols(kMarketColumns);
    cols.replace(cols.rfind("created_at"), 10, DRIPR_PG_MS("created_at"));
    return "SELECT " + cols + " FROM local_market_data WHERE zip_code = $1";
  }();
  return sql;
}

void AddMonth(Params& p, const MarketMonth& m) {
  p.TextOrNull(m.month).OptReal(m.average_price).OptReal(m.average_price_per_sqft);
  p.OptReal(m.average_days_on_market).OptInt(m.total_listings);
}

MarketMonth ReadMonth(const Rows& rows, int first) {
  MarketMonth m;
  m.month = rows.Text(0, first);
  m.average_price = rows.OptReal(0, first + 1);
  m.average_price_per_sqft = rows.OptReal(0, first + 2);
  m.average_days_on_market = rows.OptReal(0, first + 3);
  m.total_listings = rows.OptInt(0, first + 4);
  return m;
}

std::optional<MarketData> ReadMarketData(const Rows& rows) {
  if (rows.empty()) return std::nullopt;
  MarketData m;
  m.zip_code = rows.Text(0, 0);
  m.current = ReadMonth(rows, 1);
  m.previous = ReadMonth(rows, 6);
  m.created_at = pg::TimeAt(rows, 0, 11);
  return m;
}

Result<bool> ZipTableEmpty(Connection& c) {
  DRIPR_ASSIGN_OR_RETURN(Rows rows, c.Exec("SELECT NOT EXISTS (SELECT 1 FROM zip_codes)"));
  return rows.Text(0, 0) == "t";
}

}  // namespace

Status PostgresStore::ReplaceRecords(Connection& c, const std::string& campaign_id, DataPart part,
                                     const std::vector<RankedRecord>& records) {
  const RecordTable& t = TableFor(part);
  DRIPR_TRY(c.Exec("DELETE FROM " + std::string(t.name) + " WHERE campaign_id = $1",
                   Params().Text(campaign_id)));
  if (records.empty()) return Ok();
  CopyText rows;
  for (const RankedRecord& r : records) AddRecord(rows, campaign_id, r, t);
  auto copied = c.CopyIn(
      "COPY " + std::string(t.name) + " (campaign_id, " + std::string(t.columns) + ") FROM STDIN",
      rows);
  if (!copied) return Fail(copied.error().Wrap("copy into " + std::string(t.name)));
  return Ok();
}

Status PostgresStore::InsertMarketData(Connection& c, const MarketData& m, SysTime now) {
  if (m.current.month.empty()) {
    return Fail(ErrorCode::kInvalidArgument, "market data for zip " + m.zip_code + " has no month");
  }
  Params p;
  p.Text(m.zip_code);
  AddMonth(p, m.current);
  AddMonth(p, m.previous);
  p.Text(pg::TimeParam(now));
  DRIPR_TRY(c.Exec("INSERT INTO local_market_data (" + std::string(kMarketColumns) +
                       ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, "
                       "$12::timestamptz)",
                   p));
  return Ok();
}

Result<std::vector<RankedRecord>> PostgresStore::GetActiveListings(const std::string& campaign_id) {
  return GetRecords(campaign_id, DataPart::kActiveListings);
}

Result<std::vector<RankedRecord>> PostgresStore::GetRecentSales(const std::string& campaign_id) {
  return GetRecords(campaign_id, DataPart::kRecentSales);
}

Result<std::vector<RankedRecord>> PostgresStore::GetRecords(const std::string& campaign_id,
                                                            DataPart part) {
  const RecordTable& t = TableFor(part);
  std::vector<RankedRecord> out;
  DRIPR_TRY(Read("get " + std::string(t.name), [&](Connection& c) -> Status {
    DRIPR_ASSIGN_OR_RETURN(
        Rows rows, c.Exec("SELECT " + std::string(t.columns) + " FROM " + std::string(t.name) +
                              " WHERE campaign_id = $1 ORDER BY rank, id",
                          Params().Text(campaign_id)));
    out.clear();
    for (int i = 0; i < rows.size(); ++i) out.push_back(ReadRecord(rows, i, t));
    return Ok();
  }));
  return out;
}

Result<std::optional<MarketData>> PostgresStore::GetMarketData(const std::string& zip,
                                                               std::chrono::seconds max_age) {
  std::optional<MarketData> out;
  const std::string since = pg::TimeParam(Now() - max_age);
  DRIPR_TRY(Read("get market data", [&](Connection& c) -> Status {
    DRIPR_ASSIGN_OR_RETURN(Rows rows,
                           c.Exec(MarketSelect() + " AND created_at >= $2::timestamptz "
                                                   "ORDER BY created_at DESC, id DESC LIMIT 1",
                                  Params().Text(zip).Text(since)));
    out = ReadMarketData(rows);
    return Ok();
  }));
  return out;
}

Result<std::optional<MarketData>> PostgresStore::LatestMarketData(const std::string& zip) {
  std::optional<MarketData> out;
  DRIPR_TRY(Read("get market data", [&](Connection& c) -> Status {
    DRIPR_ASSIGN_OR_RETURN(
        Rows rows,
        c.Exec(MarketSelect() + " ORDER BY created_at DESC, id DESC LIMIT 1", Params().Text(zip)));
    out = ReadMarketData(rows);
    return Ok();
  }));
  return out;
}

Result<std::optional<GeoPoint>> PostgresStore::ZipCentroid(const std::string& zip) {
  auto five = NormalizeZip(zip);
  if (!five) return Fail(five.error().Wrap("zip_code"));
  std::optional<GeoPoint> out;
  DRIPR_TRY(Read("zip centroid", [&](Connection& c) -> Status {
    DRIPR_ASSIGN_OR_RETURN(Rows rows,
                           c.Exec("SELECT latitude, longitude FROM zip_codes WHERE zip_code = $1",
                                  Params().Text(*five)));
    out.reset();
    if (!rows.empty()) out = GeoPoint{rows.Real(0, 0), rows.Real(0, 1)};
    return Ok();
  }));
  return out;
}

Status PostgresStore::LoadZipCodes(const std::string& csv_path) {
  bool empty = false;
  // Cheap check first: a loaded table (the normal case on every start) skips the file.
  DRIPR_TRY(Read("load zip codes", [&](Connection& c) -> Status {
    DRIPR_ASSIGN_OR_RETURN(empty, ZipTableEmpty(c));
    return Ok();
  }));
  if (!empty) return Ok();
  DRIPR_ASSIGN_OR_RETURN(std::vector<ZipRow> rows, ReadZipCodeCsv(csv_path));
  CopyText data;
  for (const ZipRow& r : rows) data.Text(r.zip).Real(r.lat).Real(r.lng).EndRow();
  return InTransaction("load zip codes", [&](Connection& c) -> Status {
    // One loader at a time; a second one finds the table filled and stops.
    DRIPR_TRY(c.Exec("LOCK TABLE zip_codes IN EXCLUSIVE MODE"));
    DRIPR_ASSIGN_OR_RETURN(bool still_empty, ZipTableEmpty(c));
    if (!still_empty) return Ok();
    auto copied = c.CopyIn("COPY zip_codes (zip_code, latitude, longitude) FROM STDIN", data);
    if (!copied) {
      if (copied.error().code == ErrorCode::kAlreadyExists) {
        return Fail(ErrorCode::kInvalidArgument, csv_path + ": duplicate zip code");
      }
      return copied;
    }
    return Ok();
  });
}

}  // namespace dripr
