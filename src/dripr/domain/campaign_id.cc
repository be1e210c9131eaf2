#include "dripr/domain/campaign_id.h"

#include <ostream>

#include "dripr/domain/campaign_rules.h"

namespace dripr {

Result<CampaignId> CampaignId::Parse(std::string_view text) {
  if (auto st = CheckCampaignId(text); !st) return Fail(std::move(st.error()));
  return CampaignId(std::string(text));
}

std::ostream& operator<<(std::ostream& os, const CampaignId& id) { return os << id.view(); }

}  // namespace dripr
