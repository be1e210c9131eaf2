#include "dripr/store/networked_store.h"

#include <algorithm>
#include <cmath>

#include "dripr/core/log.h"

namespace dripr {

namespace {

bool Transient(const Error& e) {
  return e.code == ErrorCode::kAborted || e.code == ErrorCode::kUnavailable;
}

std::chrono::milliseconds Backoff(Random& random, int attempt) {
  int64_t cap = std::min<int64_t>(1000, int64_t{20} << std::min(attempt, 6));
  const auto half = static_cast<double>(cap) / 2;
  return std::chrono::milliseconds(std::llround(random.Uniform(half, half * 2)));
}

}  // namespace

Status RetryTransient(Ticker& ticker, Random& random, std::chrono::milliseconds retry_deadline,
                      std::string_view server, std::string_view what,
                      const std::function<Status()>& attempt_once) {
  const auto deadline = ticker.Now() + retry_deadline;
  for (int attempt = 1;; ++attempt) {
    Status st = attempt_once();
    if (st) return st;
    // Permanent errors are the caller's answer as they are (e.g. "campaign X already
    // exists"); transient ones that outlived the deadline say what was being done.
    if (!Transient(st.error())) return st;
    const auto wait = Backoff(random, attempt);
    if (ticker.Now() + wait > deadline) return Fail(st.error().Wrap(what));
    if (attempt == 1 || attempt % 10 == 0) {
      DRIPR_LOG_DEBUG("{}: {}: {} (retrying)", server, what, st.error().ToString());
    }
    ticker.SleepFor(wait);
  }
}

}  // namespace dripr
