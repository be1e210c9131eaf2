#pragma once
// Row <-> struct conversions shared by the SqliteStore source files (internal).

#include <string>
#include <string_view>

#include "dripr/core/clock.h"
#include "dripr/core/error.h"
#include "dripr/domain/types.h"
#include "dripr/sqlite/db.h"
#include "dripr/store/row_reader.h"
#include "dripr/store/store.h"

namespace dripr::sqlite {

// Column list for ReadCampaignRow, in its order.
inline constexpr std::string_view kCampaignColumns =
    "id, user_id, zip_code, no_address_newsletter, campaign_status, local_market_data_status, "
    "active_listing_status, recent_sale_status, data_cycle, error_text, created_at, updated_at, "
    "status_changed_at, parts_changed_at, republish_count, restart_count";

// An ISO-8601 text column; NULL reads as the epoch. kDataLoss naming `what` when unparsable.
Result<SysTime> ReadTime(const Statement& s, int col, std::string_view what);
// The current row of `s` for the shared readers (store/row_reader.h); timestamps are
// ISO-8601 text (ReadTime).
class StatementRow final : public RowReader {
 public:
  explicit StatementRow(const Statement& s) : s_(s) {}
  bool IsNull(int col) const override { return s_.IsNull(col); }
  std::string Text(int col) const override { return s_.Text(col); }
  int64_t Int(int col) const override { return s_.Int(col); }
  double Real(int col) const override { return s_.Real(col); }
  Result<SysTime> Time(int col, std::string_view what) const override {
    return ReadTime(s_, col, what);
  }

 private:
  const Statement& s_;
};

// The columns of kCampaignColumns starting at column 0.
inline Result<Campaign> ReadCampaignRow(const Statement& s) {
  return ReadCampaign(StatementRow(s));
}
// kNotFound "campaign ID not found" when absent.
Result<Campaign> LoadCampaign(Connection& c, const CampaignId& id);

// Column list for ReadOutboxRow, in its order.
inline constexpr std::string_view kOutboxColumns =
    "id, topic, campaign_id, event_type, body, attributes, created_at, attempts";
inline Result<OutboxRow> ReadOutboxRow(const Statement& s) { return ReadOutbox(StatementRow(s)); }

}  // namespace dripr::sqlite
