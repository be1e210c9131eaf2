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

// Shortest text that reads back as the same double.
std::string Number(double v) {
  char buf[32];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
  return ec == std::errc() ? std::string(buf, end) : "0";
}

}  // namespace

Status MysqlStore::ReplaceRows(Connection& c, const CampaignId& campaign_id, const RecordTable& t,
                               const std::vector<RankedRecord>& records) {
  DRIPR_TRY(c.Exec(DeleteRowsSql(t), Params().Text(campaign_id.str())));
  // Full batches share one cached statement; the remainder has its own (at most
  // kInsertBatchRows distinct statements per table and connection).
  for (size_t first = 0; first < records.size(); first += kInsertBatchRows) {
    size_t n = std::min<size_t>(kInsertBatchRows, records.size() - first);
    Params p;
    for (size_t i = first; i < first + n; ++i) AddRecordValues(p, campaign_id, records[i], t);
    auto inserted = c.Exec(InsertSql(t, n), p);
    if (!inserted) return Fail(inserted.error().Wrap("insert into " + std::string(t.name)));
  }
  return Ok();
}

Status MysqlStore::ReplaceRecordsForBench(const CampaignId& campaign_id, DataPart part,
                                          const std::vector<RankedRecord>& records,
                                          bool row_by_row) {
  return InTransaction("replace rows", [&](Connection& c) -> Status {
    if (!row_by_row) return ReplaceRecords(c, campaign_id, part, records);
    const RecordTable& t = RecordTableFor(part);
    DRIPR_TRY(c.Exec("DELETE FROM " + std::string(t.name) + " WHERE campaign_id = ?",
                     Params().Text(campaign_id.str())));
    for (const RankedRecord& r : records) {
      Params p;
      AddRecordValues(p, campaign_id, r, t);
      DRIPR_TRY(c.Exec(InsertSql(t, 1), p));
    }
    return Ok();
  });
}

Status MysqlStore::LoadZipRows(const std::string& csv_path, const std::vector<ZipRow>& rows) {
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
