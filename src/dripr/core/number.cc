#include "dripr/core/number.h"

#include <fmt/format.h>

#include <charconv>
#include <cmath>
#include <string>

#include "dripr/core/text.h"

namespace dripr {
namespace {

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

// '-'? digits ('.' digits*)? ([eE] [+-]? digits)? — what a person writes for a decimal.
bool DecimalShape(std::string_view s, bool allow_fraction) {
  size_t i = 0;
  if (i < s.size() && s[i] == '-') ++i;
  size_t digits = 0;
  while (i < s.size() && IsDigit(s[i])) ++i, ++digits;
  if (digits == 0) return false;
  if (!allow_fraction) return i == s.size();
  if (i < s.size() && s[i] == '.') {
    ++i;
    while (i < s.size() && IsDigit(s[i])) ++i;
  }
  if (i < s.size() && (s[i] == 'e' || s[i] == 'E')) {
    ++i;
    if (i < s.size() && (s[i] == '+' || s[i] == '-')) ++i;
    size_t exp_digits = 0;
    while (i < s.size() && IsDigit(s[i])) ++i, ++exp_digits;
    if (exp_digits == 0) return false;
  }
  return i == s.size();
}

}  // namespace

Result<int64_t> ParseInt(std::string_view text, int64_t min, int64_t max) {
  auto bad = [&] {
    return Fail(
        ErrorCode::kInvalidArgument,
        fmt::format("must be a whole number from {} to {}, got {}", min, max, QuotedEcho(text)));
  };
  if (!DecimalShape(text, false)) return bad();
  int64_t out = 0;
  auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), out, 10);
  if (ec != std::errc() || p != text.data() + text.size() || out < min || out > max) return bad();
  return out;
}

Result<double> ParseDouble(std::string_view text, double min, double max) {
  auto bad = [&] {
    return Fail(ErrorCode::kInvalidArgument,
                fmt::format("must be a number from {} to {}, got {}", min, max, QuotedEcho(text)));
  };
  if (!DecimalShape(text, true)) return bad();
  double out = 0;
  auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  if (ec != std::errc() || p != text.data() + text.size() || !std::isfinite(out) ||
      !(out >= min && out <= max)) {
    return bad();
  }
  return out;
}

}  // namespace dripr
