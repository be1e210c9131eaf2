#pragma once
// Safe echoes of untrusted input for error messages and logs.

#include <string>
#include <string_view>

namespace dripr {

// Quoted echo of untrusted text: at most 40 bytes, anything outside printable ASCII (and
// quotes/backslashes) escaped as \xNN, so hostile input can never put control bytes or
// megabytes into a log line. E.g. "ab\x0a..." .
std::string QuotedEcho(std::string_view text);

}  // namespace dripr
