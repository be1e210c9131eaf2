#pragma once
// DATABASE_URL for display (logs, `dripr config`): the password of a
// scheme://user:password@host/... URL replaced by "***"; anything else unchanged.
// (Implemented in store/factory.cc, next to the URL schemes it knows.)

#include <string>
#include <string_view>

namespace dripr {

std::string RedactDatabaseUrl(std::string_view url);

}  // namespace dripr
