#pragma once
// Row <-> struct conversions shared by the PostgresStore source files (internal).
// Timestamps travel as ISO-8601 UTC text into timestamptz columns and come back as epoch
// milliseconds (see kCampaignColumns), so nothing depends on the session's DateStyle.

#include <string>
#include <string_view>

#include "dripr/core/clock.h"
#include "dripr/core/error.h"
#include "dripr/domain/types.h"
#include "dripr/store/postgres/pg_conn.h"
#include "dripr/store/store.h"

namespace dripr::pg {

// SQL for a timestamptz column read as epoch milliseconds (NULL stays NULL).
#define DRIPR_PG_MS(col) "(extract(epoch FROM " col ") * 1000)::bigint"

inline constexpr std::string_view kCampaignColumns =
    "id, user_id, zip_code, no_address_newsletter, campaign_status, local_market_data_status, "
    "active_listing_status, recent_sale_status, data_cycle, error_text, " DRIPR_PG_MS(
        "created_at") ", " DRIPR_PG_MS("updated_at") ", " DRIPR_PG_MS("status_changed_at") ", " DRIPR_PG_MS(
        "parts_changed_at") ", republish_count, restart_count";

inline constexpr std::string_view kOutboxColumns =
    "id, topic, campaign_id, event_type, body, attributes, " DRIPR_PG_MS("created_at") ", attempts";

// Epoch milliseconds (NULL: the epoch) -> SysTime.
SysTime TimeAt(const Rows& rows, int row, int col);
// Bound as text; the SQL casts it ($n::timestamptz).
std::string TimeParam(SysTime t);

Result<Campaign> ReadCampaign(const Rows& rows, int row);
Result<OutboxRow> ReadOutbox(const Rows& rows, int row);
// kNotFound when absent. `lock`: SELECT ... FOR UPDATE (inside a transaction).
Result<Campaign> LoadCampaign(Connection& c, const std::string& id, bool lock);

}  // namespace dripr::pg
