#include "dripr/core/text.h"

#include <algorithm>
#include <cstdio>

namespace dripr {
namespace {

void AppendHex(std::string& out, unsigned char c) {
  char buf[8];
  std::snprintf(buf, sizeof buf, "\\x%02x", c);
  out += buf;
}

// Length of the valid UTF-8 sequence starting at s[i], or 0 when it is not one.
size_t Utf8SequenceLength(std::string_view s, size_t i) {
  auto b = [&](size_t k) { return static_cast<unsigned char>(s[k]); };
  unsigned char c = b(i);
  size_t len;
  unsigned char lo = 0x80, hi = 0xbf;  // allowed range of the second byte
  if (c < 0x80) {
    return 1;
  } else if (c >= 0xc2 && c <= 0xdf) {
    len = 2;
  } else if (c >= 0xe0 && c <= 0xef) {
    len = 3;
    if (c == 0xe0) lo = 0xa0;  // overlong
    if (c == 0xed) hi = 0x9f;  // surrogates
  } else if (c >= 0xf0 && c <= 0xf4) {
    len = 4;
    if (c == 0xf0) lo = 0x90;  // overlong
    if (c == 0xf4) hi = 0x8f;  // above U+10FFFF
  } else {
    return 0;
  }
  if (i + len > s.size()) return 0;
  if (b(i + 1) < lo || b(i + 1) > hi) return 0;
  for (size_t k = 2; k < len; ++k) {
    if (b(i + k) < 0x80 || b(i + k) > 0xbf) return 0;
  }
  return len;
}

}  // namespace

int HexDigitValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::string QuotedEcho(std::string_view text) {
  std::string out = "\"";
  size_t n = 0;
  for (unsigned char c : text) {
    if (n++ == 40) {
      out += "...";
      break;
    }
    if (c >= 0x20 && c < 0x7f && c != '"' && c != '\\') {
      out += static_cast<char>(c);
    } else {
      AppendHex(out, c);
    }
  }
  out += '"';
  return out;
}

size_t FindInvalidUtf8(std::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    if (static_cast<unsigned char>(s[i]) < 0x80) {  // ASCII, most of any text: no call
      ++i;
      continue;
    }
    size_t len = Utf8SequenceLength(s, i);
    if (len == 0) return i;
    i += len;
  }
  return std::string_view::npos;
}

size_t FindControlChar(std::string_view s) {
  for (size_t i = 0; i < s.size(); ++i) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    if (c < 0x20 || c == 0x7f) return i;
  }
  return std::string_view::npos;
}

Status CheckUtf8(std::string_view what, std::string_view text) {
  if (size_t bad = FindInvalidUtf8(text); bad != std::string_view::npos) {
    return Fail(ErrorCode::kInvalidArgument, std::string(what) + ": not valid UTF-8 at byte " +
                                                 std::to_string(bad) + ": " + QuotedEcho(text));
  }
  return Ok();
}

Status CheckText(std::string_view what, std::string_view text) {
  DRIPR_TRY(CheckUtf8(what, text));
  if (size_t bad = FindControlChar(text); bad != std::string_view::npos) {
    return Fail(ErrorCode::kInvalidArgument, std::string(what) +
                                                 ": contains a control character at byte " +
                                                 std::to_string(bad) + ": " + QuotedEcho(text));
  }
  return Ok();
}

std::string_view TruncateUtf8(std::string_view text, size_t max_bytes) {
  if (text.size() <= max_bytes) return text;
  // text[max_bytes] is the first byte cut off: find the sequence that holds it.
  for (size_t back = 1; back <= 3 && back <= max_bytes; ++back) {
    const size_t start = max_bytes - back;
    const auto c = static_cast<unsigned char>(text[start]);
    if (c < 0x80) break;  // ASCII ends before the cut
    if (c >= 0xc0) {      // a lead byte: cut before its sequence if the cut splits it
      if (Utf8SequenceLength(text, start) > back) return text.substr(0, start);
      break;
    }
  }
  return text.substr(0, max_bytes);
}

std::string TruncateUtf8WithEllipsis(std::string_view text, size_t max_bytes) {
  std::string out(TruncateUtf8(text, max_bytes));
  if (out.size() < text.size()) out += "...";
  return out;
}

std::string TerminalSafe(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  size_t i = 0;
  while (i < text.size()) {
    unsigned char c = static_cast<unsigned char>(text[i]);
    size_t len = Utf8SequenceLength(text, i);
    if (len == 0 || c < 0x20 || c == 0x7f) {
      AppendHex(out, c);
      ++i;
    } else if (len == 2 && c == 0xc2 && static_cast<unsigned char>(text[i + 1]) < 0xa0) {
      // C1 controls U+0080..U+009F (e.g. CSI) steer terminals too.
      AppendHex(out, c);
      AppendHex(out, static_cast<unsigned char>(text[i + 1]));
      i += 2;
    } else {
      out.append(text.substr(i, len));
      i += len;
    }
  }
  return out;
}

std::string Excerpt(std::string_view text, size_t max_bytes) {
  std::string_view kept = TruncateUtf8(text, max_bytes);
  std::string out = TerminalSafe(kept);
  if (kept.size() < text.size()) out += "...";
  return out;
}

bool LineReader::Next(std::string_view& line) {
  if (pos_ >= text_.size()) return false;
  size_t end = text_.find('\n', pos_);
  if (end == std::string_view::npos) end = text_.size();
  line = text_.substr(pos_, end - pos_);
  pos_ = end + 1;
  ++number_;
  return true;
}

std::optional<std::string> ReadAtMost(std::istream& in, size_t max_bytes) {
  std::string out;
  char buf[1 << 16];
  while (in.read(buf, sizeof buf) || in.gcount() > 0) {
    const auto n = static_cast<size_t>(in.gcount());
    if (n > max_bytes - std::min(max_bytes, out.size())) return std::nullopt;
    out.append(buf, n);
  }
  return out;
}

}  // namespace dripr
