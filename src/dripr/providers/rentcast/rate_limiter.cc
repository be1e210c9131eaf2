#include "dripr/providers/rentcast/rate_limiter.h"

#include <openssl/sha.h>

#include <algorithm>

#include "dripr/core/hex.h"
#include "dripr/core/log.h"

namespace dripr {

namespace {

Ticker::Duration IntervalFor(const RateLimiterOptions& o) {
  double rps = o.max_rps > 0 ? o.max_rps : 1;
  double margin = std::clamp(o.safety_margin, 0.0, 1.0);
  return std::chrono::duration_cast<Ticker::Duration>(
      std::chrono::duration<double>((1.0 + margin) / rps));
}

// How late after its slot a request may still go out: half of the 100 ms that the 10 %
// spacing margin leaves in any 1-second window; the other half is for the network.
constexpr Ticker::Duration kMaxLateness = std::chrono::milliseconds(50);

}  // namespace

std::string RentCastBudgetName(const std::string& api_key) {
  unsigned char md[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(api_key.data()), api_key.size(), md);
  std::string name = "rentcast:";
  for (int i = 0; i < 8; ++i) AppendHexByte(name, md[i], HexCase::kLower);
  return name;
}

RateLimiter::RateLimiter(RateLimiterOptions options, std::shared_ptr<Ticker> ticker,
                         std::shared_ptr<SharedBudget> shared)
    : options_(std::move(options)),
      ticker_(ticker ? std::move(ticker)
                     : std::shared_ptr<Ticker>(std::shared_ptr<Ticker>(), &OrRealTicker(nullptr))),
      interval_(IntervalFor(options)),
      tolerance_(interval_ * (std::max(options_.burst, 1) - 1)),
      shared_(std::move(shared)) {}

Status RateLimiter::Acquire(Ticker::TimePoint deadline) {
  Ticker::TimePoint slot;
  {
    std::lock_guard lock(mu_);
    Ticker::TimePoint now = ticker_->Now();
    slot = std::max(now, next_ - tolerance_);
    if (slot > deadline) {
      return Fail(ErrorCode::kDeadlineExceeded, "no request slot before the deadline");
    }
    next_ = std::max(next_, slot) + interval_;
  }
  ticker_->SleepUntil(slot);
  if (!shared_) return Ok();
  // The cluster's stage: one reservation per request, spaced like the local one. The local
  // stage above already keeps this process's reservations to one per interval.
  using std::chrono::duration_cast;
  using std::chrono::microseconds;
  while (true) {
    const auto max_wait = duration_cast<microseconds>(deadline - ticker_->Now());
    auto wait = shared_->Reserve(options_.budget_name, duration_cast<microseconds>(interval_),
                                 std::max(max_wait, microseconds(0)));
    if (!wait) {
      return Fail(ErrorCode::kUnavailable,
                  "the cluster's RentCast request budget is unavailable: " + wait.error().message);
    }
    if (!*wait) {
      return Fail(ErrorCode::kDeadlineExceeded, "no cluster request slot before the deadline");
    }
    // Counted from the answer, not the question: never before the slot the store measured.
    const Ticker::TimePoint cluster_slot = ticker_->Now() + **wait;
    ticker_->SleepUntil(cluster_slot);
    // A thread that wakes much later than its slot (an overloaded machine) would send next to
    // the requests of the slots after it and crowd the server's 1-second window
    // (docs/decisions/cluster.md): it lets that slot go and takes a new one.
    if (ticker_->Now() - cluster_slot <= kMaxLateness) return Ok();
  }
}

void RateLimiter::PauseUntil(Ticker::TimePoint until) {
  {
    std::lock_guard lock(mu_);
    // The first grant after the pause may be at `until`: the GCRA slot is next_ - tolerance_.
    next_ = std::max(next_, until + tolerance_);
  }
  if (!shared_) return;
  auto pause = std::chrono::duration_cast<std::chrono::microseconds>(until - ticker_->Now());
  if (pause <= std::chrono::microseconds(0)) return;
  if (auto ok = shared_->Pause(options_.budget_name, pause); !ok) {
    // This process still pauses; the others find out from their own 429s.
    DRIPR_LOG_WARN("could not pause the cluster's RentCast budget: {}", ok.error().message);
  }
}

}  // namespace dripr
