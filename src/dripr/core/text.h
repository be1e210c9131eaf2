#pragma once
// Untrusted text: UTF-8 validation at the boundary, and safe echoes for error messages, logs
// and terminals (docs/decisions/cli.md "Text").

#include <cstddef>
#include <istream>
#include <optional>
#include <string>
#include <string_view>

#include "dripr/core/error.h"

namespace dripr {

// The lines of `text`, split at '\n' (not included; a '\r' before it stays): a last line
// without '\n' counts, so "a\nb" and "a\nb\n" both have two lines, "" has none.
//   LineReader lines(text);
//   for (std::string_view line; lines.Next(line);) { ... lines.number() ... }
class LineReader {
 public:
  explicit LineReader(std::string_view text) : text_(text) {}
  // The next line into `line`; false after the last one.
  bool Next(std::string_view& line);
  // The 1-based number of the line Next returned last.
  int number() const { return number_; }

 private:
  std::string_view text_;
  size_t pos_ = 0;
  int number_ = 0;
};

// Quoted echo of untrusted text: at most 40 bytes, anything outside printable ASCII (and
// quotes/backslashes) escaped as \xNN, so hostile input can never put control bytes or
// megabytes into a log line. E.g. "ab\x0a..." .
std::string QuotedEcho(std::string_view text);

// Reads `in` to its end, or until more than `max_bytes` have arrived: nullopt then, and the
// rest is not read, so that a huge or endless input (/dev/zero) cannot exhaust memory. The
// caller checks in.bad() for a read error.
std::optional<std::string> ReadAtMost(std::istream& in, size_t max_bytes);

// The value of a hexadecimal digit (0-9, a-f, A-F), or -1 for any other character.
int HexDigitValue(char c);

// Offset of the first byte that does not start a valid UTF-8 sequence (overlong forms,
// surrogates and code points above U+10FFFF are invalid), or npos.
size_t FindInvalidUtf8(std::string_view s);

// Offset of the first control character (U+0000..U+001F, U+007F), or npos.
size_t FindControlChar(std::string_view s);

// Checks one piece of text a user or a file supplied: valid UTF-8 and no control characters.
// kInvalidArgument "<what>: not valid UTF-8 at byte N: "..."" (or "contains a control
// character at byte N: ..."), echoing at most a short prefix.
Status CheckText(std::string_view what, std::string_view text);
// Same, but only UTF-8 (tabs/newlines allowed, e.g. a whole event body).
Status CheckUtf8(std::string_view what, std::string_view text);

// `text` made safe to print on a terminal: control characters (C0, DEL, C1) and bytes that
// are not valid UTF-8 become \xNN; valid UTF-8 (backslashes included, so messages that
// already hold a QuotedEcho pass unchanged) is kept as is. Total: any byte string in,
// printable text out.
std::string TerminalSafe(std::string_view text);

// An excerpt of text from outside (a server's error message, a reply body) for an error
// message or a log line: at most `max_bytes` of `text`, cut between characters (never inside
// a UTF-8 sequence), made TerminalSafe, with "..." appended when cut. Always valid UTF-8 of
// at most 4 * max_bytes + 3 bytes.
std::string Excerpt(std::string_view text, size_t max_bytes);

// The longest prefix of `text` of at most `max_bytes` bytes that does not end inside a valid
// UTF-8 sequence (a cut never splits a character, so valid UTF-8 stays valid; invalid bytes
// count as one character each). A view into `text`.
std::string_view TruncateUtf8(std::string_view text, size_t max_bytes);

// TruncateUtf8, plus "..." when anything was cut (the result may then be max_bytes + 3
// bytes long).
std::string TruncateUtf8WithEllipsis(std::string_view text, size_t max_bytes);

}  // namespace dripr
