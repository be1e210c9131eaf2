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

Result<Campaign> LoadCampaign(Connection& c, const CampaignId& id) {
  DRIPR_ASSIGN_OR_RETURN(auto s, c.Prepare("SELECT " + std::string(kCampaignColumns) +
                                           " FROM campaigns WHERE id = ?"));
  s.BindText(id.str());
  DRIPR_ASSIGN_OR_RETURN(bool row, s.Step());
  if (!row) return Fail(ErrorCode::kNotFound, "campaign " + id.str() + " not found");
  return ReadCampaignRow(s);
}

}  // namespace dripr::sqlite
