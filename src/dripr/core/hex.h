#pragma once
// Hexadecimal digits of bytes: signatures and digests (lowercase), percent-encoding (uppercase).

#include <string>

namespace dripr {

enum class HexCase { kLower, kUpper };

// Appends the two hexadecimal digits of `byte` to `out`, high nibble first ("0f" / "0F").
inline void AppendHexByte(std::string& out, unsigned char byte, HexCase hex_case) {
  const char* digits = hex_case == HexCase::kLower ? "0123456789abcdef" : "0123456789ABCDEF";
  out.push_back(digits[byte >> 4]);
  out.push_back(digits[byte & 0xF]);
}

}  // namespace dripr
