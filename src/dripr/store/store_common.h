#pragma once
// Backend-independent pieces every Store implementation shares (no database code): input
// validation, the outbox row of a STATUS_CHANGE event, and the attributes' JSON form.

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "dripr/core/clock.h"
#include "dripr/core/error.h"
#include "dripr/domain/event.h"
#include "dripr/domain/types.h"

namespace dripr {

using OutboxAttributes = std::vector<std::pair<std::string, std::string>>;

// Checks a campaign before it is inserted and returns it with the zip in 5-digit form.
// kInvalidArgument naming the field: id empty, longer than 64 or not printable ASCII
// without spaces; bad zip (domain NormalizeZip); property coordinates out of range or not
// finite; negative current value.
Result<NewCampaign> ValidateNewCampaign(const NewCampaign& c);

// The message attributes of a STATUS_CHANGE event: event_type and to_status (DESIGN §2).
OutboxAttributes StatusChangeAttributes(const StatusChangeEvent& e);

// Attributes as stored in outbox.attributes: a JSON array of [name, value] pairs,
// e.g. [["event_type","STATUS_CHANGE"],["to_status","WAITING_FOR_DATA"]].
std::string EncodeOutboxAttributes(const OutboxAttributes& attributes);
// kDataLoss when the text is not such an array.
Result<OutboxAttributes> DecodeOutboxAttributes(std::string_view json);

// Timestamps are stored with millisecond precision; stores truncate "now" first so that
// what a transition returns equals what a later read returns.
inline SysTime TruncateToMillis(SysTime t) {
  return std::chrono::floor<std::chrono::milliseconds>(t);
}

}  // namespace dripr
