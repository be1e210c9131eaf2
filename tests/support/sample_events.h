#pragma once
// STATUS_CHANGE bodies for tests of `dripr publish` on either bus: one the pipeline's
// subscriptions take (to WAITING_FOR_DATA) and one none of them takes (to DORMANT).

namespace dripr::testing {

inline constexpr const char* kWaitingEvent =
    R"({"event_type":"STATUS_CHANGE","payload":{"campaign_id":"c-1","zip_code":"02139",)"
    R"("from_status":"DORMANT","to_status":"WAITING_FOR_DATA","timestamp":"2026-11-29T10:00:00Z"}})";
inline constexpr const char* kDormantEvent =
    R"({"event_type":"STATUS_CHANGE","payload":{"campaign_id":"c-1","zip_code":"02139",)"
    R"("from_status":"ERROR","to_status":"DORMANT","timestamp":"2026-11-29T10:00:00Z"}})";

}  // namespace dripr::testing
