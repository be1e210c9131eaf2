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

Result<bool> ZipTableEmpty(Connection& c) {
  DRIPR_ASSIGN_OR_RETURN(Rows rows, c.Exec("SELECT NOT EXISTS (SELECT 1 FROM zip_codes)"));
  return rows.Text(0, 0) == "t";
}

}  // namespace

Status PostgresStore::ReplaceRecords(Connection& c, const std::string& campaign_id, DataPart part,
                                     const std::vector<RankedRecord>& records) {
  const RecordTable& t = RecordTableFor(part);
  DRIPR_TRY(c.Exec("DELETE FROM " + std::string(t.name) + " WHERE campaign_id = $1",
                   Params().Text(campaign_id)));
  if (records.empty()) return Ok();
  CopyText rows;
  for (const RankedRecord& r : records) {
    AddRecordValues(rows, campaign_id, r, t);
    rows.EndRow();
  }
  auto copied = c.CopyIn(
      "COPY " + std::string(t.name) + " (campaign_id, " + std::string(t.columns) + ") FROM STDIN",
      rows);
  if (!copied) return Fail(copied.error().Wrap("copy into " + std::string(t.name)));
  return Ok();
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
