// MysqlStore: a campaign's listing/sale rows (replaced with DELETE + multi-row INSERTs),
// zip-level market data and zip centroids (loaded with multi-row INSERTs in one transaction).

#include <charconv>

#include "dripr/domain/event.h"
#include "dripr/store/mysql/my_rows.h"
#include "dripr/store/mysql/mysql_store.h"
#include "dripr/store/store_common.h"

namespace dripr {

using my::Connection;
using my::Params;
using my::Rows;

namespace {

struct RecordTable {
  std::string_view name;
  std::string_view columns;  // without campaign_id
  int column_count;          // with campaign_id
  bool has_days_on_market;
};

constexpr RecordTable kListingsTable = {"active_listings", kListingColumns, 19, true};
constexpr RecordTable kSalesTable = {"recent_sales", kSaleColumns, 18, false};

const RecordTable& TableFor(DataPart part) {
  return part == DataPart::kRecentSales ? kSalesTable : kListingsTable;
}

void AddRecord(Params& out, const std::string& campaign_id, const RankedRecord& r,
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
}

// "INSERT INTO t (campaign_id, ...) VALUES (?, ...), (?, ...)" for `rows` rows.
std::string InsertSql(const RecordTable& t, size_t rows) {
  std::string one = "(?";
  for (int i = 1; i < t.column_count; ++i) one += ", ?";
  one += ")";
  std::string sql = "INSERT INTO " + std::string(t.name) + " (campaign_id, " +
                    my::Quoted(t.columns) + ") VALUES " + one;
  for (size_t i = 1; i < rows; ++i) sql += ", " + one;
  return sql;
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
    cols.replace(cols.rfind("created_at"), 10, DRIPR_MY_MS("created_at"));
    return "SELECT " + cols + " FROM local_market_data WHERE zip_code = ?";
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
  m.created_at = my::TimeAt(rows, 0, 11);
  return m;
}

// Shortest text that reads back as the same double.
std::string Number(double v) {
  char buf[32];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
  return ec == std::errc() ? std::string(buf, end) : "0";
}

Result<bool> ZipTableEmpty(Connection& c) {
  DRIPR_ASSIGN_OR_RETURN(Rows rows,
                         c.Exec("SELECT COUNT(*) FROM (SELECT zip_code FROM zip_codes LIMIT 1) z"));
  return rows.Int(0, 0) == 0;
}

}  // namespace

Status MysqlStore::ReplaceRecords(Connection& c, const std::string& campaign_id, DataPart part,
                                  const std::vector<RankedRecord>& records) {
  const RecordTable& t = TableFor(part);
  DRIPR_TRY(c.Exec("DELETE FROM " + std::string(t.name) + " WHERE campaign_id = ?",
                   Params().Text(campaign_id)));
  // Full batches share one cached statement; the remainder has its own (at most
  // kInsertBatchRows distinct statements per table and connection).
  for (size_t first = 0; first < records.size(); first += kInsertBatchRows) {
    size_t n = std::min<size_t>(kInsertBatchRows, records.size() - first);
    Params p;
    for (size_t i = first; i < first + n; ++i) AddRecord(p, campaign_id, records[i], t);
    auto inserted = c.Exec(InsertSql(t, n), p);
    if (!inserted) return Fail(inserted.error().Wrap("insert into " + std::string(t.name)));
  }
  return Ok();
}

Status MysqlStore::ReplaceRecordsForBench(const std::string& campaign_id, DataPart part,
                                          const std::vector<RankedRecord>& records,
                                          bool row_by_row) {
  return InTransaction("replace rows", [&](Connection& c) -> Status {
    if (!row_by_row) return ReplaceRecords(c, campaign_id, part, records);
    const RecordTable& t = TableFor(part);
    DRIPR_TRY(c.Exec("DELETE FROM " + std::string(t.name) + " WHERE campaign_id = ?",
                     Params().Text(campaign_id)));
    for (const RankedRecord& r : records) {
      Params p;
      AddRecord(p, campaign_id, r, t);
      DRIPR_TRY(c.Exec(InsertSql(t, 1), p));
    }
    return Ok();
  });
}

Status MysqlStore::InsertMarketData(Connection& c, const MarketData& m, SysTime now) {
  if (m.current.month.empty()) {
    return Fail(ErrorCode::kInvalidArgument, "market data for zip " + m.zip_code + " has no month");
  }
  Params p;
  p.Text(m.zip_code);
  AddMonth(p, m.current);
  AddMonth(p, m.previous);
  p.Time(now);
  DRIPR_TRY(c.Exec("INSERT INTO local_market_data (" + std::string(kMarketColumns) +
                       ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                   p));
  return Ok();
}

Result<std::vector<RankedRecord>> MysqlStore::GetActiveListings(const std::string& campaign_id) {
  return GetRecords(campaign_id, DataPart::kActiveListings);
}

Result<std::vector<RankedRecord>> MysqlStore::GetRecentSales(const std::string& campaign_id) {
  return GetRecords(campaign_id, DataPart::kRecentSales);
}

Result<std::vector<RankedRecord>> MysqlStore::GetRecords(const std::string& campaign_id,
                                                         DataPart part) {
  const RecordTable& t = TableFor(part);
  std::vector<RankedRecord> out;
  DRIPR_TRY(Read("get " + std::string(t.name), [&](Connection& c) -> Status {
    DRIPR_ASSIGN_OR_RETURN(
        Rows rows, c.Exec("SELECT " + my::Quoted(t.columns) + " FROM " + std::string(t.name) +
                              " WHERE campaign_id = ? ORDER BY `rank`, id",
                          Params().Text(campaign_id)));
    out.clear();
    for (int i = 0; i < rows.size(); ++i) out.push_back(ReadRecord(rows, i, t));
    return Ok();
  }));
  return out;
}

Result<std::optional<MarketData>> MysqlStore::GetMarketData(const std::string& zip,
                                                            std::chrono::seconds max_age) {
  std::optional<MarketData> out;
  const SysTime since = Now() - max_age;
  DRIPR_TRY(Read("get market data", [&](Connection& c) -> Status {
    DRIPR_ASSIGN_OR_RETURN(
        Rows rows,
        c.Exec(MarketSelect() + " AND created_at >= ? ORDER BY created_at DESC, id DESC LIMIT 1",
               Params().Text(zip).Time(since)));
    out = ReadMarketData(rows);
    return Ok();
  }));
  return out;
}

Result<std::optional<MarketData>> MysqlStore::LatestMarketData(const std::string& zip) {
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

Result<std::optional<GeoPoint>> MysqlStore::ZipCentroid(const std::string& zip) {
  auto five = NormalizeZip(zip);
  if (!five) return Fail(five.error().Wrap("zip_code"));
  std::optional<GeoPoint> out;
  DRIPR_TRY(Read("zip centroid", [&](Connection& c) -> Status {
    DRIPR_ASSIGN_OR_RETURN(Rows rows,
                           c.Exec("SELECT latitude, longitude FROM zip_codes WHERE zip_code = ?",
                                  Params().Text(*five)));
    out.reset();
    if (!rows.empty()) out = GeoPoint{rows.Real(0, 0), rows.Real(0, 1)};
    return Ok();
  }));
  return out;
}

Status MysqlStore::LoadZipCodes(const std::string& csv_path) {
  bool empty = false;
  // Cheap check first: a loaded table (the normal case on every start) skips the file.
  DRIPR_TRY(Read("load zip codes", [&](Connection& c) -> Status {
    DRIPR_ASSIGN_OR_RETURN(empty, ZipTableEmpty(c));
    return Ok();
  }));
  if (!empty) return Ok();
  DRIPR_ASSIGN_OR_RETURN(std::vector<ZipRow> rows, ReadZipCodeCsv(csv_path));
  // Values are validated (5 digits, finite numbers in range), so the statements are built
  // as text: 1000 rows per INSERT, 34 statements for data/zip_codes.csv.
  std::vector<std::string> batches;
  constexpr size_t kZipBatch = 1000;
  for (size_t first = 0; first < rows.size(); first += kZipBatch) {
    std::string sql = "INSERT INTO zip_codes (zip_code, latitude, longitude) VALUES ";
    for (size_t i = first; i < std::min(rows.size(), first + kZipBatch); ++i) {
      if (i > first) sql += ", ";
      sql += "('" + rows[i].zip + "', " + Number(rows[i].lat) + ", " + Number(rows[i].lng) + ")";
    }
    batches.push_back(std::move(sql));
  }
  // One loader at a time: a named lock held across the transaction and its COMMIT; a second
  // loader then finds the table filled and stops. (Not InTransaction: the lock must outlive
  // the COMMIT.) Closing the session releases the lock too.
  return Read("load zip codes", [&](Connection& c) -> Status {
    DRIPR_ASSIGN_OR_RETURN(
        Rows locked, c.Exec("SELECT GET_LOCK(CONCAT('dripr_zip_codes_', MD5(DATABASE())), 60)"));
    if (locked.Int(0, 0) != 1) {
      return Fail(ErrorCode::kUnavailable, "another process has been loading zip codes for 60 s");
    }
    Status st = [&]() -> Status {
      DRIPR_ASSIGN_OR_RETURN(bool still_empty, ZipTableEmpty(c));
      if (!still_empty) return Ok();
      DRIPR_TRY(c.Query("START TRANSACTION"));
      for (const std::string& sql : batches) {
        auto inserted = c.Query(sql);
        if (!inserted) {
          if (c.Healthy() && !c.Query("ROLLBACK")) c.MarkBroken();
          if (inserted.error().code == ErrorCode::kAlreadyExists) {
            return Fail(ErrorCode::kInvalidArgument, csv_path + ": duplicate zip code");
          }
          return inserted;
        }
      }
      return c.Query("COMMIT");
    }();
    if (!c.Exec("SELECT RELEASE_LOCK(CONCAT('dripr_zip_codes_', MD5(DATABASE())))")) c.MarkBroken();
    return st;
  });
}

}  // namespace dripr
