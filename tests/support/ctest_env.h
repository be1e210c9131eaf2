#pragma once
// The variables ctest sets for every unit suite (tests/CMakeLists.txt: DRIPR_DATA_DIR, DRIPR_BIN).
// A test that needs one FAILS, naming it, when it is missing, never skips or guesses: a broken
// ENVIRONMENT list in tests/CMakeLists.txt then shows at once.

#include <gtest/gtest.h>

#include <cstdlib>
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

}  // namespace dripr::testing
