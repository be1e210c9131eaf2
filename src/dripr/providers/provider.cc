#include "dripr/providers/provider.h"

#include "dripr/core/clock.h"
#include "dripr/providers/rentcast/rentcast_provider.h"
#include "dripr/providers/sample/sample_provider.h"

namespace dripr {

Result<ProviderPtr> OpenProvider(const Env& env) {
  const std::string name = env.GetOr("DATA_PROVIDER", "sample");
  if (name == "sample") {
    DRIPR_ASSIGN_OR_RETURN(auto options, SampleProviderOptions::FromEnv(env));
    return std::make_unique<SampleProvider>(SystemClock::Instance(), std::move(options));
  }
  if (name == "rentcast") {
    // rentcast: added by the rentcast helper (this branch only).
    return OpenRentCastProvider(env);
  }
  return Fail(ErrorCode::kInvalidArgument,
              "DATA_PROVIDER must be sample or rentcast, got '" + name + "'");
}

}  // namespace dripr
