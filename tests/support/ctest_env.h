#pragma once
// The variables ctest sets for every unit suite (tests/CMakeLists.txt: DRIPR_DATA_DIR, DRIPR_BIN).
// A test that needs one FAILS, naming it, when it is missing, never skips or guesses: a broken
// ENVIRONMENT list in tests/CMakeLists.txt then shows at once.

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <string>

namespace dripr::testing {

// The value of `name`, or "" after recording a test failure that names it.
inline std::string CtestEnv(const char* name) {
  const char* value = std::getenv(name);
  if (value == nullptr || *value == '\0') {
    ADD_FAILURE() << name << " is not set: run the suite through ctest, or set it by hand "
                  << "(tests/CMakeLists.txt lists the variables)";
    return "";
  }
  return value;
}

#ifdef DRIPR_SOURCE_DIR
// The shipped data directory (zip_codes.csv, ...): DRIPR_DATA_DIR when set (ctest sets it),
// else the source tree's data/ that the suite was built from (DRIPR_SOURCE_DIR, a compile
// definition of every unit suite): a test binary run by hand, outside ctest, finds it too.
inline std::string DataDir() {
  if (const char* d = std::getenv("DRIPR_DATA_DIR"); d != nullptr && *d != '\0') return d;
  return (std::filesystem::path(DRIPR_SOURCE_DIR) / "data").string();
}
#endif

}  // namespace dripr::testing
