#include "dripr/domain/campaign_rules.h"

#include <cmath>
#include <string>

#include "dripr/core/text.h"
#include "dripr/domain/event.h"

namespace dripr {

bool IsValidCampaignId(std::string_view id) {
  if (id.empty() || id.size() > kMaxCampaignIdChars) return false;
  for (unsigned char ch : id) {
    if (ch <= 0x20 || ch >= 0x7f) return false;
  }
  return true;
}

Status CheckCampaignId(std::string_view id) {
  if (id.empty()) return FailInvalid("must not be empty");
  if (id.size() > kMaxCampaignIdChars) {
    return FailInvalid("at most " + std::to_string(kMaxCampaignIdChars) + " characters, got " +
                       std::to_string(id.size()));
  }
  if (!IsValidCampaignId(id)) {
    return FailInvalid("only printable ASCII characters without spaces are allowed, got " +
                       QuotedEcho(id));
  }
  return Ok();
}

Status CheckCurrentValue(int64_t dollars) {
  if (dollars <= 0) {
    return FailInvalid("must be a positive number of dollars, got " + std::to_string(dollars));
  }
  return Ok();
}

Status CheckLatitude(double lat) {
  if (!std::isfinite(lat) || lat < -90 || lat > 90) {
    return FailInvalid("must be between -90 and 90");
  }
  return Ok();
}

Status CheckLongitude(double lng) {
  if (!std::isfinite(lng) || lng < -180 || lng > 180) {
    return FailInvalid("must be between -180 and 180");
  }
  return Ok();
}

Status CheckFreeText(std::string_view text, size_t max_bytes) {
  if (text.size() > max_bytes) {
    return FailInvalid("at most " + std::to_string(max_bytes) + " bytes, got " +
                       std::to_string(text.size()));
  }
  if (auto st = CheckText("text", text); !st) {
    // Drop CheckText's "text: " prefix: the caller names the field.
    return FailInvalid(st.error().message.substr(6));
  }
  return Ok();
}

Result<NewCampaign> ValidateNewCampaign(const NewCampaign& c) {
  NewCampaign out = c;
  if (auto st = CheckCampaignId(c.id); !st) return Fail(st.error().Wrap("campaign id"));
  auto zip = NormalizeZip(c.zip_code);
  if (!zip) return Fail(zip.error().Wrap("zip_code"));
  out.zip_code = *zip;
  if (auto st = CheckFreeText(c.user_id, kMaxUserIdChars); !st) {
    return Fail(st.error().Wrap("user id"));
  }
  if (c.property) {
    if (auto st = CheckFreeText(c.property->formatted_address, kMaxAddressChars); !st) {
      return Fail(st.error().Wrap("address"));
    }
    if (auto st = CheckLatitude(c.property->location.lat); !st) {
      return Fail(st.error().Wrap("latitude"));
    }
    if (auto st = CheckLongitude(c.property->location.lng); !st) {
      return Fail(st.error().Wrap("longitude"));
    }
    if (c.property->current_value) {
      if (auto st = CheckCurrentValue(*c.property->current_value); !st) {
        return Fail(st.error().Wrap("current value"));
      }
    }
  }
  return out;
}

}  // namespace dripr
