// Every variable tests/CMakeLists.txt lists in the suites' ENVIRONMENT reaches the tests
// (gtest_discover_tests once passed only the first one).

#include "support/ctest_env.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>

namespace dripr::testing {
namespace {

TEST(CtestEnvironment, DataDirPointsAtTheShippedData) {
  const std::string dir = CtestEnv("DRIPR_DATA_DIR");
  ASSERT_FALSE(dir.empty());
  EXPECT_TRUE(std::filesystem::is_regular_file(std::filesystem::path(dir) / "zip_codes.csv"))
      << dir;
}

// A suite run by hand, without ctest's variables, still finds the shipped data.
TEST(CtestEnvironment, DataDirFallsBackToTheSourceTreeOutsideCtest) {
  const std::string from_ctest = DataDir();
  const char* set = std::getenv("DRIPR_DATA_DIR");
  const std::string saved = set != nullptr ? set : "";
  ASSERT_EQ(::unsetenv("DRIPR_DATA_DIR"), 0);
  const std::string outside = DataDir();
  if (!saved.empty()) {
    ASSERT_EQ(::setenv("DRIPR_DATA_DIR", saved.c_str(), 1), 0);
  }
  EXPECT_EQ(outside, std::string(DRIPR_SOURCE_DIR) + "/data");
  EXPECT_TRUE(std::filesystem::is_regular_file(std::filesystem::path(outside) / "zip_codes.csv"));
  EXPECT_TRUE(std::filesystem::equivalent(from_ctest, outside)) << from_ctest << " vs " << outside;
}

TEST(CtestEnvironment, BinPointsAtTheDriprBinary) {
  const std::string bin = CtestEnv("DRIPR_BIN");
  ASSERT_FALSE(bin.empty());
  EXPECT_EQ(std::filesystem::path(bin).filename(), "dripr");
  EXPECT_TRUE(std::filesystem::is_regular_file(bin)) << bin;
}

}  // namespace
}  // namespace dripr::testing
