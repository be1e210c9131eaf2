#include "dripr/store/mysql/my_rows.h"

#include "dripr/store/store_common.h"

namespace dripr::my {

SysTime TimeAt(const Rows& rows, int row, int col) {
  return SysTime{} + std::chrono::milliseconds(rows.Int(row, col));
}

Result<Campaign> ReadCampaign(const Rows& rows, int row) {
  Campaign c;
  c.id = rows.Text(row, 0);
  c.user_id = rows.Text(row, 1);
  c.zip_code = rows.Text(row, 2);
  c.no_address_newsletter = rows.Int(row, 3) != 0;
  auto bad_status = [&](std::string_view column, const std::string& value) {
    return Fail(ErrorCode::kDataLoss,
                "campaign " + c.id + ": unknown " + std::string(column) + " \"" + value + "\"");
  };
  std::string status = rows.Text(row, 4);
  auto cs = ParseCampaignStatus(status);
  if (!cs) return bad_status("campaign_status", status);
  c.status = *cs;
  for (DataPart p : kAllDataParts) {
    std::string text = rows.Text(row, 5 + static_cast<int>(p));
    auto ps = ParsePartStatus(text);
    if (!ps) return bad_status(StatusColumn(p), text);
    c.part(p) = *ps;
  }
  c.data_cycle = rows.Int(row, 8);
  c.error_text = rows.Text(row, 9);
  c.created_at = TimeAt(rows, row, 10);
  c.updated_at = TimeAt(rows, row, 11);
  c.status_changed_at = TimeAt(rows, row, 12);
  // NULL: a row another producer wrote.
  c.parts_changed_at = rows.IsNull(row, 13) ? c.status_changed_at : TimeAt(rows, row, 13);
  c.republish_count = static_cast<int>(rows.Int(row, 14));
  c.restart_count = static_cast<int>(rows.Int(row, 15));
  return c;
}

Result<OutboxRow> ReadOutbox(const Rows& rows, int row) {
  OutboxRow r;
  r.id = rows.Int(row, 0);
  r.topic = rows.Text(row, 1);
  r.campaign_id = rows.Text(row, 2);
  r.event_type = rows.Text(row, 3);
  r.body = rows.Text(row, 4);
  DRIPR_ASSIGN_OR_RETURN(r.attributes, DecodeOutboxAttributes(rows.Text(row, 5)));
  r.created_at = TimeAt(rows, row, 6);
  r.attempts = static_cast<int>(rows.Int(row, 7));
  return r;
}

Result<Campaign> LoadCampaign(Connection& c, const std::string& id, bool lock) {
  std::string sql = "SELECT " + std::string(kCampaignColumns) + " FROM campaigns WHERE id = ?";
  if (lock) sql += " FOR UPDATE";
  DRIPR_ASSIGN_OR_RETURN(Rows rows, c.Exec(sql, Params().Text(id)));
  if (rows.empty()) return Fail(ErrorCode::kNotFound, "campaign " + id + " not found");
  return ReadCampaign(rows, 0);
}

std::string Quoted(std::string_view columns) {
  std::string out(columns);
  if (out.starts_with("rank,")) out.replace(0, 4, "`rank`");
  return out;
}

}  // namespace dripr::my
