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

Status PostgresStore::InsertRecords(Connection& c, const CampaignId& campaign_id,
                                    const RecordTable& t,
                                    const std::vector<RankedRecord>& records) {
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
