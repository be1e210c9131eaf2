// libFuzzer target: the CLI's and the environment's number parser (core/number.h;
// docs/decisions/fuzzing.md). Input: one byte choosing the range, then the text.
//
// Checked beyond "no crash": results lie in the asked range; a parsed integer round-trips
// through its decimal text; a parsed double is finite; failures are kInvalidArgument with a
// bounded, valid UTF-8 message.

#include <cmath>
#include <cstdint>
#include <limits>
#include <string>

#include "dripr/core/number.h"
#include "fuzz_support.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace dripr;
  if (size < 1) return 0;
  std::string_view text(reinterpret_cast<const char*>(data) + 1, size - 1);
  static constexpr int64_t kMin[] = {std::numeric_limits<int64_t>::min(), 0, 1, -5};
  static constexpr int64_t kMax[] = {std::numeric_limits<int64_t>::max(), 65535, 86400, 5};
  const int r = data[0] % 4;
  auto i = ParseInt(text, kMin[r], kMax[r]);
  if (i) {
    fuzz::Check(*i >= kMin[r] && *i <= kMax[r]);
    auto again = ParseInt(std::to_string(*i), kMin[r], kMax[r]);
    fuzz::Check(again && *again == *i);
  } else {
    fuzz::CheckError(i.error());
    fuzz::Check(i.error().code == ErrorCode::kInvalidArgument);
  }
  const double lo = r == 0 ? -std::numeric_limits<double>::max() : -90.0;
  const double hi = r == 0 ? std::numeric_limits<double>::max() : 90.0;
  auto d = ParseDouble(text, lo, hi);
  if (d) {
    fuzz::Check(std::isfinite(*d) && *d >= lo && *d <= hi);
    // Whatever parses as an integer parses as the same double.
    if (i && r == 0)
      fuzz::Check(*d == static_cast<double>(*i) || std::abs(*i) > (int64_t{1} << 53));
  } else {
    fuzz::CheckError(d.error());
    fuzz::Check(d.error().code == ErrorCode::kInvalidArgument);
  }
  return 0;
}
