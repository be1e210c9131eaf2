#include "dripr/store/sqlite/sqlite_rows.h"

#include "dripr/core/time.h"
#include "dripr/store/store_common.h"

namespace dripr::sqlite {

Result<SysTime> ReadTime(const Statement& s, int col, std::string_view what) {
  if (s.IsNull(col)) return SysTime{};
  std::string text = s.Text(col);
  auto t = ParseIso8601(text);
  if (!t) {
    Error e = t.error().Wrap(std::string(what)).Wrap("corrupt row");
    e.code = ErrorCode::kDataLoss;
    return Fail(std::move(e));
  }
  return *t;
}

Result<Campaign> ReadCampaignRow(const Statement& s) {
  Campaign c;
  c.id = s.Text(0);
  c.user_id = s.Text(1);
  c.zip_code = s.Text(2);
  c.no_address_newsletter = s.Int(3) != 0;
  auto bad_status = [&](std::string_view column, const std::string& value) {
    return Fail(ErrorCode::kDataLoss,
                "campaign " + c.id + ": unknown " + std::string(column) + " \"" + value + "\"");
  };
  std::string status = s.Text(4);
  auto cs = ParseCampaignStatus(status);
  if (!cs) return bad_status("campaign_status", status);
  c.status = *cs;
  for (DataPart p : kAllDataParts) {
    std::string ps_text = s.Text(5 + static_cast<int>(p));
    auto ps = ParsePartStatus(ps_text);
    if (!ps) return bad_status(StatusColumn(p), ps_text);
    c.part(p) = *ps;
  }
  c.data_cycle = s.Int(8);
  c.error_text = s.Text(9);
  DRIPR_ASSIGN_OR_RETURN(c.created_at, ReadTime(s, 10, "campaigns.created_at"));
  DRIPR_ASSIGN_OR_RETURN(c.updated_at, ReadTime(s, 11, "campaigns.updated_at"));
  DRIPR_ASSIGN_OR_RETURN(c.status_changed_at, ReadTime(s, 12, "campaigns.status_changed_at"));
  if (s.IsNull(13)) {
    c.parts_changed_at = c.status_changed_at;  // a row another producer wrote
  } else {
    DRIPR_ASSIGN_OR_RETURN(c.parts_changed_at, ReadTime(s, 13, "campaigns.parts_changed_at"));
  }
  c.republish_count = static_cast<int>(s.Int(14));
  c.restart_count = static_cast<int>(s.Int(15));
  return c;
}

Result<Campaign> LoadCampaign(Connection& c, const std::string& id) {
  DRIPR_ASSIGN_OR_RETURN(auto s, c.Prepare("SELECT " + std::string(kCampaignColumns) +
                                           " FROM campaigns WHERE id = ?"));
  s.BindText(id);
  DRIPR_ASSIGN_OR_RETURN(bool row, s.Step());
  if (!row) return Fail(ErrorCode::kNotFound, "campaign " + id + " not found");
  return ReadCampaignRow(s);
}

Result<OutboxRow> ReadOutboxRow(const Statement& s) {
  OutboxRow r;
  r.id = s.Int(0);
  r.topic = s.Text(1);
  r.campaign_id = s.Text(2);
  r.event_type = s.Text(3);
  r.body = s.Text(4);
  DRIPR_ASSIGN_OR_RETURN(r.attributes, DecodeOutboxAttributes(s.Text(5)));
  DRIPR_ASSIGN_OR_RETURN(r.created_at, ReadTime(s, 6, "outbox.created_at"));
  r.attempts = static_cast<int>(s.Int(7));
  return r;
}

}  // namespace dripr::sqlite
