#pragma once
// STATUS_CHANGE event codec (docs/contracts.md §2, wire contract shared with the Python services).

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "dripr/core/clock.h"
#include "dripr/core/error.h"
#include "dripr/domain/campaign_id.h"
#include "dripr/domain/status.h"

namespace dripr {

inline constexpr std::string_view kStatusChangeEventType = "STATUS_CHANGE";

struct StatusChangeEvent {
  CampaignId campaign_id;
  std::string zip_code;                       // 5 digits (ZIP+4 input is cut to 5)
  std::optional<CampaignStatus> from_status;  // absent/null accepted on input
  CampaignStatus to_status = CampaignStatus::kDormant;
  SysTime timestamp{};
  std::optional<std::string> event_id;
  std::optional<int64_t> data_cycle;
  bool operator==(const StatusChangeEvent&) const = default;
};

// {"event_type":"STATUS_CHANGE","payload":{...}} with all present fields; compact JSON.
std::string EncodeStatusChange(const StatusChangeEvent& e);

// Decodes an SQS message body: either the event itself (raw delivery) or an SNS envelope
// ({"Type":"Notification","Message":"<event json string>",...}). Every problem is
// kInvalidArgument with a message naming it (e.g. "zip_code: must be 5 digits, got \"1234\"").
// Never throws, whatever the input.
Result<StatusChangeEvent> DecodeStatusChange(std::string_view body);

// Checks a zip code and returns its 5-digit form ("12345" or "12345-6789" → "12345").
Result<std::string> NormalizeZip(std::string_view zip);

}  // namespace dripr
