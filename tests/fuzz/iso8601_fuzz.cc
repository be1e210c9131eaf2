// libFuzzer target: ISO 8601 timestamps from the wire (event bodies, RentCast dates,
// credential expirations; docs/decisions/fuzzing.md).
//
// Checked beyond "no crash": failures are kInvalidArgument with a bounded, valid UTF-8
// message; whatever parses formats to text that parses back to the same instant at the
// millisecond precision the formatter writes, and formatting is stable.

#include <chrono>

#include "dripr/core/time.h"
#include "fuzz_support.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace dripr;
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto t = ParseIso8601(text);
  if (!t) {
    fuzz::CheckError(t.error());
    fuzz::Check(t.error().code == ErrorCode::kInvalidArgument);
    return 0;
  }
  std::string formatted = FormatIso8601(*t);
  auto again = ParseIso8601(formatted);
  fuzz::Check(again.has_value());
  fuzz::Check(ToUnixMillis(*again) == ToUnixMillis(*t));
  fuzz::Check(FormatIso8601(*again) == formatted);
  return 0;
}
