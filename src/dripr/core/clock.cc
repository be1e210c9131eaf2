#include "dripr/core/clock.h"

namespace dripr {

const Clock& SystemClock::Instance() {
  static const SystemClock clock;
  return clock;
}

}  // namespace dripr
