// libFuzzer target: the text checks and safe echoes of untrusted text (core/text.h;
// docs/decisions/fuzzing.md).
//
// Checked: TerminalSafe's output is valid UTF-8 without control characters and unchanged for
// printable ASCII; QuotedEcho's output is short printable ASCII; CheckUtf8/CheckText
// agree with FindInvalidUtf8/FindControlChar; their messages are bounded, valid UTF-8.

#include "dripr/core/text.h"
#include "fuzz_support.h"

namespace {

bool PrintableAscii(std::string_view s) {
  for (unsigned char c : s)
    if (c < 0x20 || c >= 0x7f) return false;
  return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace dripr;
  std::string_view text(reinterpret_cast<const char*>(data), size);
  std::string safe = TerminalSafe(text);
  fuzz::Check(FindInvalidUtf8(safe) == std::string::npos);
  fuzz::Check(FindControlChar(safe) == std::string::npos);

  std::string echo = QuotedEcho(text);
  fuzz::Check(PrintableAscii(echo) && echo.size() <= 2 + 40 * 4 + 3);

  const bool utf8 = FindInvalidUtf8(text) == std::string::npos;
  Status u = CheckUtf8("fuzz", text);
  fuzz::Check(u.has_value() == utf8);
  if (!u) fuzz::CheckError(u.error(), 300);
  Status t = CheckText("fuzz", text);
  fuzz::Check(t.has_value() == (utf8 && FindControlChar(text) == std::string::npos));
  if (!t) fuzz::CheckError(t.error(), 300);
  if (t && PrintableAscii(text)) fuzz::Check(safe == text);
  return 0;
}
