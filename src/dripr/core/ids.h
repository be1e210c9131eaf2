#pragma once
// Random identifiers (event ids, receipt handles, message ids).

#include <string>

namespace dripr {

// A random RFC 4122 version-4 UUID in lowercase hex, e.g. "3f0c…-4…". Thread-safe.
std::string NewUuid();

}  // namespace dripr
