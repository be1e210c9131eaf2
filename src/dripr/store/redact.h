#pragma once
// DATABASE_URL for display (logs, messages): its passwords replaced by "****", as `dripr
// config` shows it. One implementation for every layer: MaskUrlPassword (core/url_password.h).

#include <string>
#include <string_view>

#include "dripr/core/url_password.h"

namespace dripr {

inline std::string RedactDatabaseUrl(std::string_view url) { return MaskUrlPassword(url); }

}  // namespace dripr
