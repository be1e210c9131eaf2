#pragma once
// The rules a campaign's fields obey, defined once and used by every boundary that accepts
// one: the CLI (`campaign create`, `campaign import`), the store (CreateCampaign) and the
// event decoder (campaign_id). See docs/decisions/domain.md "One rule per field".
//
// Check* functions return kInvalidArgument with a message that does not name the field
// ("must not be empty"), so each caller prefixes the name its user knows ("--id: ",
// "campaign_id: ", "row 3: id: ").

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "dripr/core/error.h"
#include "dripr/domain/types.h"

namespace dripr {

inline constexpr size_t kMaxCampaignIdChars = 64;
inline constexpr size_t kMaxUserIdChars = 128;
inline constexpr size_t kMaxAddressChars = 512;

// A campaign id is 1 to 64 bytes of printable ASCII without spaces (0x21..0x7e).
bool IsValidCampaignId(std::string_view id);
// "must not be empty" | "at most 64 characters, got N" |
// "only printable ASCII characters without spaces are allowed, got "a b"".
Status CheckCampaignId(std::string_view id);
// A property's value in dollars is positive (0 is "unknown": leave it out).
Status CheckCurrentValue(int64_t dollars);
Status CheckLatitude(double lat);   // finite, -90..90
Status CheckLongitude(double lng);  // finite, -180..180
// Free text (user id, address): valid UTF-8, no control characters, at most `max_bytes`.
Status CheckFreeText(std::string_view text, size_t max_bytes);

// Checks a whole campaign and returns it with the zip in 5-digit form (NormalizeZip).
// Messages name the field: "campaign id: ...", "zip_code: ...", "user id: ", "address: ",
// "latitude: ", "longitude: ", "current value: ".
Result<NewCampaign> ValidateNewCampaign(const NewCampaign& c);

}  // namespace dripr
