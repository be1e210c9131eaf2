#include "dripr/core/env.h"

#include <gtest/gtest.h>

namespace dripr {
namespace {

TEST(ParseEnvFile, ReadsQuotedExportedAndCommentedLines) {
  auto vars = ParseEnvFile(
      "# comment\n\nexport A=1\nB='two words'\nC=\"x=y\"\nD=plain # trailing\n", "t.env");
  ASSERT_TRUE(vars) << vars.error().ToString();
  EXPECT_EQ(vars->at("A"), "1");
  EXPECT_EQ(vars->at("B"), "two words");
  EXPECT_EQ(vars->at("C"), "x=y");
  EXPECT_EQ(vars->at("D"), "plain");
}

TEST(ParseEnvFile, RejectsLineWithoutEqualsNamingFileAndLine) {
  auto vars = ParseEnvFile("A=1\nnot a var\n", "x.env");
  ASSERT_FALSE(vars);
  EXPECT_EQ(vars.error().code, ErrorCode::kInvalidArgument);
  EXPECT_EQ(vars.error().message, "x.env:2: expected NAME=value");
}

TEST(Env, IntegerValidation) {
  Env env = Env::FromMap({{"N", "12"}, {"BAD", "12x"}, {"BIG", "99"}});
  EXPECT_EQ(*env.GetInt("N", 1, 0, 50), 12);
  EXPECT_EQ(*env.GetInt("MISSING", 7, 0, 50), 7);
  EXPECT_EQ(env.GetInt("BAD", 1, 0, 50).error().code, ErrorCode::kInvalidArgument);
  EXPECT_EQ(env.GetInt("BIG", 1, 0, 50).error().message,
            "BIG: must be a whole number from 0 to 50, got \"99\"");
  // Decimal only and never clamped: the same parser as the command line (core/number.h).
  Env lenient = Env::FromMap(
      {{"OCT", "010"}, {"HEX", "0x10"}, {"HUGE", "99999999999999999999"}, {"NEG", "-1"}});
  EXPECT_EQ(*lenient.GetInt("OCT", 1, 0, 50), 10);
  EXPECT_FALSE(lenient.GetInt("HEX", 1, 0, 50));
  EXPECT_FALSE(lenient.GetInt("HUGE", 1, 0, INT64_MAX));
  EXPECT_FALSE(lenient.GetInt("NEG", 1, 0, 50));
}

TEST(Env, Utf8OfDriprVariablesIsChecked) {
  EXPECT_TRUE(Env::FromMap({{"OTHER", "\xff"}, {"DATABASE_URL", "sqlite:x.db"}}).CheckUtf8());
  auto st = Env::FromMap({{"DRIPR_LOG_LEVEL", "in\xff"}}).CheckUtf8();
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().message, "DRIPR_LOG_LEVEL: not valid UTF-8 at byte 2 (value not shown)");
  auto file = ParseEnvFile("A=1\nB=\xc3\x28\n", "x.env");
  ASSERT_FALSE(file);
  EXPECT_EQ(file.error().message, "x.env:2: B is not valid UTF-8");
}

}  // namespace
}  // namespace dripr
