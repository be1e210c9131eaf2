#pragma once
// The password a DATABASE_URL may hold, found as its parsers read it, so that what dripr
// prints about the URL (`dripr config`, error messages) never shows it.

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace dripr {

// [begin, end) offsets into a text.
struct TextSpan {
  size_t begin = 0;
  size_t end = 0;
};

// Where the user-info password of a scheme://user:password@host/... URL is written (as
// written: percent-encoding included), or nullopt when there is none. It runs from the ':'
// after the user to the '@' before the host, and the parsers disagree on which '@' that is:
// the MySQL URL parser takes the LAST '@' before the query (a password may hold an unencoded
// '/' or '@'), libpq the first '@' before any '/' (a password may hold an unencoded '?'). The
// span ends at whichever is later, so masking it hides the password as either reads it.
std::optional<TextSpan> UrlPasswordSpan(std::string_view url);

// `url` for display: the user-info password (UrlPasswordSpan) and the value of every
// `password` or `sslpassword` query parameter (libpq reads those; the name may be
// percent-encoded) replaced by "****"; anything else unchanged.
//   "postgresql://u:pw@db/x"                    -> "postgresql://u:****@db/x"
//   "postgresql://u@db/x?password=pw&sslmode=a" -> "postgresql://u@db/x?password=****&sslmode=a"
std::string MaskUrlPassword(std::string_view url);

}  // namespace dripr
