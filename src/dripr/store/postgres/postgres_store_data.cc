// PostgresStore: a campaign's listing/sale rows (replaced with multi-row INSERTs, the first one
// deleting the old rows, sent with the transaction's COMMIT), zip-level market data and zip
// centroids (loaded with one COPY).

#include <map>
#include <string>
#include <string_view>
#include <tuple>
#include <utility>

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

// Rows per INSERT: full batches share one prepared statement per table and connection; the
// remainder has its own (at most kInsertBatchRows statements per table and connection).
constexpr size_t kInsertBatchRows = 64;

// "INSERT INTO t (campaign_id, ...) VALUES ($1, ...), ($20, ...)" for `rows` rows.
std::string InsertSql(const RecordTable& t, size_t rows) {
  std::string sql = "INSERT INTO " + std::string(t.name) + " (campaign_id, " +
                    std::string(t.columns) + ") VALUES ";
  int n = 0;
  for (size_t r = 0; r < rows; ++r) {
    sql += r == 0 ? "(" : ", (";
    for (int col = 0; col < t.column_count; ++col) {
      if (col > 0) sql += ", ";
      sql += '$';
      sql += std::to_string(++n);
    }
    sql += ')';
  }
  return sql;
}

// InsertSql with the DELETE of the campaign's old rows (campaign_id = $1) as its WITH.
std::string ReplaceSql(const RecordTable& t, size_t rows) {
  return "WITH old AS (DELETE FROM " + std::string(t.name) + " WHERE campaign_id = $1) " +
         InsertSql(t, rows);
}

// ReplaceSql (`replace`) or InsertSql of `rows` rows of `t`, built once per thread: a part's
// statement has hundreds of placeholders, and the same few texts come back every campaign.
const std::string& RowsSql(const RecordTable& t, size_t rows, bool replace) {
  thread_local std::map<std::tuple<std::string_view, size_t, bool>, std::string> built;
  auto [it, fresh] = built.try_emplace({t.name, rows, replace});
  if (fresh) it->second = replace ? ReplaceSql(t, rows) : InsertSql(t, rows);
  return it->second;
}

}  // namespace

Status PostgresStore::ReplaceRows(Connection& c, const CampaignId& campaign_id,
                                  const RecordTable& t, const std::vector<RankedRecord>& records) {
  if (records.empty()) return Write(c, DeleteRowsSql(t), Params().Text(campaign_id.str()));
  // Multi-row INSERTs queued to travel with the COMMIT (pg::Connection::Queue): one round trip
  // with the rest of the transition's writes, where COPY costs two of its own. The first one
  // carries the DELETE of the old rows as a WITH (one statement fewer): the WITH's DELETE runs
  // on the statement's snapshot, so it never sees the rows its INSERT adds ($1 is the first
  // row's campaign_id, the DELETE's too; no unique key on these rows for the two to collide on).
  for (size_t first = 0; first < records.size(); first += kInsertBatchRows) {
    const size_t n = std::min(kInsertBatchRows, records.size() - first);
    Params p;
    for (size_t i = first; i < first + n; ++i) AddRecordValues(p, campaign_id, records[i], t);
    auto queued = c.Queue(RowsSql(t, n, /*replace=*/first == 0), std::move(p));
    if (!queued) return Fail(queued.error().Wrap("insert into " + std::string(t.name)));
  }
  return Ok();
}

Status PostgresStore::LoadZipRows(const std::string& csv_path, const std::vector<ZipRow>& rows) {
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
