#pragma once
// The one parser of numbers that come from outside (command-line flags, environment
// variables, import files). Decimal only: an optional '-' then digits (a double may have a
// fraction and an exponent). No '+', no spaces, no 0x/0b prefixes, no octal: leading zeros
// are plain decimal ("0750000" is 750000). Overflow and out-of-range values are errors, never
// clamped. Messages quote at most a short prefix of the input (QuotedEcho).

#include <cstdint>
#include <string_view>

#include "dripr/core/error.h"

namespace dripr {

// kInvalidArgument "must be a whole number from MIN to MAX, got "text"".
Result<int64_t> ParseInt(std::string_view text, int64_t min, int64_t max);
// Finite decimal number in [min, max]; "nan", "inf" and hex floats are refused.
// kInvalidArgument "must be a number from MIN to MAX, got "text"".
Result<double> ParseDouble(std::string_view text, double min, double max);

}  // namespace dripr
