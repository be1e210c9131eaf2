// LineReader splits text into numbered lines; TruncateUtf8: cuts for storage and output never
// split a UTF-8 character.

#include "dripr/core/text.h"

#include <gtest/gtest.h>

#include <sstream>
#include <string>
#include <utility>
#include <vector>

namespace dripr {
namespace {

// Each line LineReader returns, with its number.
std::vector<std::pair<int, std::string>> LinesOf(std::string_view text) {
  std::vector<std::pair<int, std::string>> out;
  LineReader lines(text);
  for (std::string_view line; lines.Next(line);) out.emplace_back(lines.number(), line);
  return out;
}

TEST(LineReader, SplitsAtNewlinesAndCountsALastLineWithoutOne) {
  using L = std::vector<std::pair<int, std::string>>;
  EXPECT_EQ(LinesOf(""), L{});
  EXPECT_EQ(LinesOf("\n"), (L{{1, ""}}));
  EXPECT_EQ(LinesOf("a\nb"), (L{{1, "a"}, {2, "b"}}));
  EXPECT_EQ(LinesOf("a\nb\n"), (L{{1, "a"}, {2, "b"}}));
  EXPECT_EQ(LinesOf("a\r\n\n c"), (L{{1, "a\r"}, {2, ""}, {3, " c"}}));
}

TEST(ReadAtMost, ReadsUpToTheLimitAndRefusesMoreWithoutReadingIt) {
  std::istringstream exact(std::string(200000, 'a'));
  auto all = ReadAtMost(exact, 200000);
  ASSERT_TRUE(all.has_value());
  EXPECT_EQ(all->size(), 200000u);
  std::istringstream empty("");
  EXPECT_EQ(ReadAtMost(empty, 10), std::optional<std::string>(""));
  std::istringstream over(std::string(200001, 'b'));
  EXPECT_EQ(ReadAtMost(over, 200000), std::nullopt);
  // The refusal comes within one read past the limit: the rest stays unread.
  std::istringstream big(std::string(1 << 20, 'c'));
  EXPECT_EQ(ReadAtMost(big, 1000), std::nullopt);
  EXPECT_GT(big.rdbuf()->in_avail(), 900000);
}

TEST(TruncateUtf8, NeverSplitsACharacter) {
  const std::string e = "\xc3\xa9";              // é, 2 bytes
  const std::string euro = "\xe2\x82\xac";       // €, 3 bytes
  const std::string emoji = "\xf0\x9f\x98\x80";  // U+1F600, 4 bytes
  EXPECT_EQ(TruncateUtf8("abc", 5), "abc");
  EXPECT_EQ(TruncateUtf8("abc", 3), "abc");
  EXPECT_EQ(TruncateUtf8("abcd", 3), "abc");
  EXPECT_EQ(TruncateUtf8("ab" + e, 3), "ab");
  EXPECT_EQ(TruncateUtf8("ab" + e, 4), "ab" + e);
  EXPECT_EQ(TruncateUtf8("a" + euro, 2), "a");
  EXPECT_EQ(TruncateUtf8("a" + euro, 3), "a");
  EXPECT_EQ(TruncateUtf8("a" + euro + "b", 4), "a" + euro);
  for (size_t n = 1; n < 5; ++n) EXPECT_EQ(TruncateUtf8("x" + emoji, n), "x") << n;
  EXPECT_EQ(TruncateUtf8("x" + emoji, 5), "x" + emoji);
  EXPECT_EQ(TruncateUtf8(emoji, 3), "");
  EXPECT_EQ(TruncateUtf8("abc", 0), "");
}

TEST(TruncateUtf8, InvalidBytesAreCutAnywhere) {
  EXPECT_EQ(TruncateUtf8("ab\xc3\x28z", 3), "ab\xc3");          // \xc3 starts nothing valid
  EXPECT_EQ(TruncateUtf8("ab\x80\x80\x80z", 4), "ab\x80\x80");  // stray continuations
  EXPECT_EQ(TruncateUtf8("a\xe2\x82", 2), "a\xe2");             // truncated sequence at the end
}

TEST(TruncateUtf8, EveryCutOfValidTextIsValid) {
  const std::string text =
      "Caf\xc3\xa9 \xe2\x82\xac 12 \xf0\x9f\x98\x80 Stra\xc3\x9f"
      "e";
  for (size_t n = 0; n <= text.size() + 1; ++n) {
    std::string_view cut = TruncateUtf8(text, n);
    EXPECT_LE(cut.size(), n);
    EXPECT_GE(cut.size() + 3, std::min(n, text.size())) << n;  // loses at most one character
    EXPECT_EQ(FindInvalidUtf8(cut), std::string_view::npos) << n;
    EXPECT_EQ(text.substr(0, cut.size()), cut);
  }
}

TEST(TruncateUtf8, WithEllipsisMarksOnlyRealCuts) {
  EXPECT_EQ(TruncateUtf8WithEllipsis("abc", 3), "abc");
  EXPECT_EQ(TruncateUtf8WithEllipsis("ab\xc3\xa9", 3), "ab...");
}

}  // namespace
}  // namespace dripr
