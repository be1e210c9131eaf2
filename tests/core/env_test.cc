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
            "BIG must be an integer in [0, 50], got '99'");
}

}  // namespace
}  // namespace dripr
