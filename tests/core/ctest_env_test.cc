// Every variable tests/CMakeLists.txt lists in the suites' ENVIRONMENT reaches the tests
// (gtest_discover_tests once passed only the first one).

#include "support/ctest_env.h"

#include <gtest/gtest.h>

#include <filesystem>

namespace dripr::testing {
namespace {

TEST(CtestEnvironment, DataDirPointsAtTheShippedData) {
  const std::string dir = CtestEnv("DRIPR_DATA_DIR");
  ASSERT_FALSE(dir.empty());
  EXPECT_TRUE(std::filesystem::is_regular_file(std::filesystem::path(dir) / "zip_codes.csv"))
      << dir;
}

TEST(CtestEnvironment, BinPointsAtTheDriprBinary) {
  const std::string bin = CtestEnv("DRIPR_BIN");
  ASSERT_FALSE(bin.empty());
  EXPECT_EQ(std::filesystem::path(bin).filename(), "dripr");
  EXPECT_TRUE(std::filesystem::is_regular_file(bin)) << bin;
}

}  // namespace
}  // namespace dripr::testing
