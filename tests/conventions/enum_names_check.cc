// Compiled by scripts/check-compile-fails.sh (ctest conventions.enum_names), never linked: as
// it is this file must compile, and with DRIPR_CASE set to one of the cases below it must
// FAIL to compile naming the "enum name table". That keeps what -Wswitch gave the switches
// the name tables replaced: a value added to an enum without its name does not build
// (src/dripr/core/enum_names.h, docs/decisions/code-structure.md "Enum names").
#include "dripr/core/enum_names.h"

namespace {

enum class Color {
  kRed,
  kGreen,
  kBlue,
#if DRIPR_CASE == 1
  kPurple,  // appended, and left out of the table below
#endif
};

constexpr auto kColorNames = dripr::EnumNames<Color>({
  {Color::kRed, "red"}, {Color::kGreen, "green"},
#if DRIPR_CASE != 2
      {Color::kBlue, "blue"},  // case 2: the last value is missing
#endif
});

// An enum that ends in a count names it as its sentinel; a value added after the count is
// caught, and so is a table that forgets to name the sentinel.
enum class Level : int {
  kLow,
  kHigh,
  kCount,
#if DRIPR_CASE == 3
  kExtra,
#endif
};

constexpr auto kLevelNames = dripr::EnumNames<Level>({{Level::kLow, "low"}, {Level::kHigh, "high"}}
#if DRIPR_CASE != 4
                                                     ,
                                                     Level::kCount
#endif
);

}  // namespace

int Use() {
  return static_cast<int>(dripr::NameOf(kColorNames, Color::kRed, "?").size() +
                          dripr::NameOf(kLevelNames, Level::kLow, "?").size());
}
