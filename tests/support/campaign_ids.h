#pragma once
// Cid("c1"): the CampaignId of a test's literal id. The literal is parsed like any outside
// input; one that breaks the rule is a mistake in the test, so it stops the test binary with
// the reason instead of carrying on with an id no production path could make.

#include <cstdio>
#include <cstdlib>
#include <string_view>

#include "dripr/domain/campaign_id.h"

namespace dripr {

inline CampaignId Cid(std::string_view text) {
  auto id = CampaignId::Parse(text);
  if (!id) {
    std::fprintf(stderr, "Cid(\"%.*s\"): %s\n", static_cast<int>(text.size()), text.data(),
                 id.error().message.c_str());
    std::abort();
  }
  return *id;
}

}  // namespace dripr
