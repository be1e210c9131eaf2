// Compiled by scripts/check-compile-fails.sh (ctest conventions.nodiscard), never linked: with
// DRIPR_CASE set to one of the cases below this file must FAIL to compile under
// -Werror=unused-result, and without it it must compile. That keeps Result<T> and Status
// [[nodiscard]] (src/dripr/core/error.h, docs/style.md).
#include "dripr/core/error.h"

namespace {

dripr::Status DoSomething() { return dripr::Ok(); }
dripr::Result<int> Compute() { return 1; }

struct Widget {
  dripr::Status Save() { return {}; }
};

}  // namespace

int Use() {
#if DRIPR_CASE == 1
  DoSomething();  // a dropped Status
#elif DRIPR_CASE == 2
  Compute();  // a dropped Result<T>
#elif DRIPR_CASE == 3
  Widget().Save();  // a dropped Status from a member function
#endif
  (void)DoSomething();  // explicitly ignored: allowed
  auto r = Compute();
  return r.value_or(0);
}
