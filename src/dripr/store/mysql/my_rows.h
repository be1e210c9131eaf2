#pragma once
// Row <-> struct conversions shared by the MysqlStore source files (internal). Timestamps go
// in as DATETIME(6) parameters (UTC) and come back as epoch milliseconds (DRIPR_MY_MS), so
// nothing depends on the client library's date conversions.

#include <string>
#include <string_view>

#include "dripr/core/clock.h"
#include "dripr/core/error.h"
#include "dripr/domain/types.h"
#include "dripr/store/mysql/my_conn.h"
#include "dripr/store/store.h"

namespace dripr::my {

// SQL for a DATETIME(6) column read as epoch milliseconds (NULL stays NULL). Pure DATETIME
// arithmetic: independent of the session time zone.
#define DRIPR_MY_MS(col) "(TIMESTAMPDIFF(MICROSECOND, '1970-01-01 00:00:00', " col ") DIV 1000)"

inline constexpr std::string_view kCampaignColumns =
    "id, user_id, zip_code, no_address_newsletter, campaign_status, local_market_data_status, "
    "active_listing_status, recent_sale_status, data_cycle, error_text, " DRIPR_MY_MS(
        "created_at") ", " DRIPR_MY_MS("updated_at") ", " DRIPR_MY_MS("status_changed_at") ", " DRIPR_MY_MS(
        "parts_changed_at") ", republish_count, restart_count";

inline constexpr std::string_view kOutboxColumns =
    "id, topic, campaign_id, event_type, body, attributes, " DRIPR_MY_MS("created_at") ", attempts";

// Epoch milliseconds (NULL: the epoch) -> SysTime.
SysTime TimeAt(const Rows& rows, int row, int col);

Result<Campaign> ReadCampaign(const Rows& rows, int row);
Result<OutboxRow> ReadOutbox(const Rows& rows, int row);
// kNotFound when absent. `lock`: SELECT ... FOR UPDATE (inside a transaction).
Result<Campaign> LoadCampaign(Connection& c, const std::string& id, bool lock);

// A shared column list (store_common.h) with `rank` quoted (reserved in MySQL 8).
std::string Quoted(std::string_view columns);

}  // namespace dripr::my
