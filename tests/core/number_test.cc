#include "dripr/core/number.h"

#include <gtest/gtest.h>

#include "dripr/core/text.h"

namespace dripr {
namespace {

TEST(ParseInt, DecimalOnlyLeadingZerosAreDecimal) {
  EXPECT_EQ(*ParseInt("750000", 1, 1'000'000), 750000);
  EXPECT_EQ(*ParseInt("0750000", 1, 1'000'000), 750000);  // not octal 249856
  EXPECT_EQ(*ParseInt("-5", -10, 10), -5);
  for (const char* bad :
       {"0x10", "0X10", "0b1", "+5", " 5", "5 ", "", "-", "1e3", "1.0", "12x", "\xc3\x28"}) {
    auto r = ParseInt(bad, -1'000'000, 1'000'000);
    ASSERT_FALSE(r) << bad;
    EXPECT_EQ(r.error().code, ErrorCode::kInvalidArgument) << bad;
  }
}

TEST(ParseInt, OverflowAndRangeAreErrorsNotClamped) {
  auto r = ParseInt("99999999999999999999", INT64_MIN, INT64_MAX);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message,
            "must be a whole number from -9223372036854775808 to 9223372036854775807, got "
            "\"99999999999999999999\"");
  auto neg = ParseInt("-1", 1, 600);
  ASSERT_FALSE(neg);
  EXPECT_EQ(neg.error().message, "must be a whole number from 1 to 600, got \"-1\"");
  EXPECT_EQ(*ParseInt("600", 1, 600), 600);
}

TEST(ParseInt, QuotesOnlyAShortPrefixOfHugeInput) {
  std::string huge(100'000, '7');
  auto r = ParseInt(huge, 0, 10);
  ASSERT_FALSE(r);
  EXPECT_LT(r.error().message.size(), 120u) << r.error().message;
}

TEST(ParseDouble, FiniteDecimalInRange) {
  EXPECT_DOUBLE_EQ(*ParseDouble("42.3625", -90, 90), 42.3625);
  EXPECT_DOUBLE_EQ(*ParseDouble("-71", -180, 180), -71);
  EXPECT_DOUBLE_EQ(*ParseDouble("1e1", 0, 100), 10);
  for (const char* bad : {"nan", "inf", "-inf", "0x1p3", "1,5", "", ".5", "91", "+1", "1e"}) {
    EXPECT_FALSE(ParseDouble(bad, -90, 90)) << bad;
  }
  EXPECT_EQ(ParseDouble("91", -90, 90).error().message,
            "must be a number from -90 to 90, got \"91\"");
}

TEST(Text, FindsInvalidUtf8AndControlCharacters) {
  EXPECT_EQ(FindInvalidUtf8("caf\xc3\xa9"), std::string_view::npos);
  EXPECT_EQ(FindInvalidUtf8("ab\xc3\x28"), 2u);
  EXPECT_EQ(FindInvalidUtf8("\xed\xa0\x80"), 0u);  // surrogate
  EXPECT_EQ(FindControlChar("a\tb"), 1u);
  EXPECT_EQ(FindControlChar("caf\xc3\xa9"), std::string_view::npos);
  auto st = CheckText("--user-id", "\xc3\x28");
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().message, "--user-id: not valid UTF-8 at byte 0: \"\\xc3(\"");
  auto ctl = CheckText("--address", "12 Main\x1b[2J");
  ASSERT_FALSE(ctl);
  EXPECT_EQ(ctl.error().message,
            "--address: contains a control character at byte 7: \"12 Main\\x1b[2J\"");
}

TEST(Text, TerminalSafeEscapesControlsAndInvalidBytesKeepsUtf8) {
  EXPECT_EQ(TerminalSafe("caf\xc3\xa9 12"), "caf\xc3\xa9 12");
  EXPECT_EQ(TerminalSafe("a\x1b[31mred\n"), "a\\x1b[31mred\\x0a");
  EXPECT_EQ(TerminalSafe("\xc3\x28"), "\\xc3(");
  EXPECT_EQ(TerminalSafe("\xc2\x9b"), "\\xc2\\x9b");    // C1 CSI
  EXPECT_EQ(TerminalSafe("\"a\\x01\""), "\"a\\x01\"");  // a QuotedEcho passes unchanged
  std::string all;
  for (int i = 0; i < 256; ++i) all += static_cast<char>(i);
  std::string safe = TerminalSafe(all);
  EXPECT_EQ(FindInvalidUtf8(safe), std::string_view::npos);
  EXPECT_EQ(FindControlChar(safe), std::string_view::npos);
}

TEST(Text, ExcerptCutsBetweenCharactersAndEscapes) {
  EXPECT_EQ(Excerpt("short", 10), "short");
  EXPECT_EQ(Excerpt("0123456789abc", 10), "0123456789...");
  // "é" is two bytes: it is never split, the excerpt stops before it.
  EXPECT_EQ(Excerpt("123456789\xc3\xa9", 10), "123456789...");
  EXPECT_EQ(Excerpt("12345678\xc3\xa9x", 10), "12345678\xc3\xa9...");
  // Invalid bytes and controls come out escaped (valid UTF-8, no control characters).
  EXPECT_EQ(Excerpt("a\xc3\n", 10), "a\\xc3\\x0a");
  std::string all;
  for (int i = 0; i < 256; ++i) all += static_cast<char>(i);
  std::string ex = Excerpt(all, 120);
  EXPECT_EQ(FindInvalidUtf8(ex), std::string_view::npos);
  EXPECT_EQ(FindControlChar(ex), std::string_view::npos);
  EXPECT_LE(ex.size(), 4u * 120 + 3);
}

}  // namespace
}  // namespace dripr
