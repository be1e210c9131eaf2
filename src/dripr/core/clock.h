#pragma once
// Injectable time (docs/decisions/README.md: tests inject time; nothing reads a clock
// directly). Two kinds of time:
//  - Clock: wall time, for timestamps written to the database and to events.
//  - Ticker: monotonic time plus waiting, for everything that decides *when* (deadlines,
//    backoff, leases, pacing, log throttling). It never jumps with the wall clock.
// The real implementations (SystemClock, SteadyTicker) are the only code in src/ that reads
// std::chrono's clocks; tests drive ManualClock / ManualTicker by hand.

#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <mutex>
#include <vector>

namespace dripr {

using SysTime = std::chrono::system_clock::time_point;

class Clock {
 public:
  virtual ~Clock() = default;
  // Wall-clock time, used for timestamps written to the database and to events.
  virtual SysTime Now() const = 0;
};

class SystemClock final : public Clock {
 public:
  SysTime Now() const override { return std::chrono::system_clock::now(); }
  // A process-wide instance for wiring code; components take a Clock& instead.
  static const Clock& Instance();
};

// A clock tests move by hand. Thread-safe.
class ManualClock final : public Clock {
 public:
  explicit ManualClock(SysTime start) : now_(start) {}
  SysTime Now() const override {
    std::lock_guard lock(mu_);
    return now_;
  }
  void Advance(std::chrono::system_clock::duration d) {
    std::lock_guard lock(mu_);
    now_ += d;
  }
  void Set(SysTime t) {
    std::lock_guard lock(mu_);
    now_ = t;
  }

 private:
  mutable std::mutex mu_;
  SysTime now_;
};

// Monotonic time, sleeping and timed waits on a condition variable. Thread-safe.
class Ticker {
 public:
  using TimePoint = std::chrono::steady_clock::time_point;
  using Duration = std::chrono::steady_clock::duration;
  using Predicate = std::function<bool()>;

  virtual ~Ticker() = default;
  virtual TimePoint Now() const = 0;
  // Returns once Now() >= t (immediately when t is in the past).
  virtual void SleepUntil(TimePoint t) = 0;
  // Waits on `cv` (`lock` holds its mutex) until `done()` or until Now() >= deadline;
  // returns done(). Like std::condition_variable::wait_until with a predicate.
  virtual bool WaitUntil(std::unique_lock<std::mutex>& lock, std::condition_variable& cv,
                         TimePoint deadline, const Predicate& done) = 0;

  void SleepFor(Duration d) { SleepUntil(Now() + d); }
  bool WaitFor(std::unique_lock<std::mutex>& lock, std::condition_variable& cv, Duration d,
               const Predicate& done) {
    return WaitUntil(lock, cv, Now() + d, done);
  }
};

// std::chrono::steady_clock, std::this_thread::sleep_until, condition_variable::wait_until.
class SteadyTicker final : public Ticker {
 public:
  TimePoint Now() const override { return std::chrono::steady_clock::now(); }
  void SleepUntil(TimePoint t) override;
  bool WaitUntil(std::unique_lock<std::mutex>& lock, std::condition_variable& cv,
                 TimePoint deadline, const Predicate& done) override;
  // The process-wide instance; components take a Ticker& (or null for this one).
  static Ticker& Instance();
};

// Shorthand for SteadyTicker::Instance(), for wiring code (src/cmd/, the composition root).
inline Ticker& RealTicker() { return SteadyTicker::Instance(); }

// The one place a component's optional `Ticker*` (null: the real one) is resolved, so that
// library code never names the real ticker itself (scripts/check-time-sources.py).
inline Ticker& OrRealTicker(Ticker* ticker) {
  return ticker != nullptr ? *ticker : SteadyTicker::Instance();
}

// For tests: time moves only when the test calls Advance, or when a thread sleeps
// (SleepUntil(t) moves the time to t and records the sleep, so pacing code runs at full
// speed). WaitUntil blocks until the predicate holds or the test advances the time past
// the deadline; tests see who waits for what through Deadlines(). Thread-safe.
class ManualTicker final : public Ticker {
 public:
  TimePoint Now() const override;
  void SleepUntil(TimePoint t) override;
  bool WaitUntil(std::unique_lock<std::mutex>& lock, std::condition_variable& cv,
                 TimePoint deadline, const Predicate& done) override;

  void Advance(Duration d);
  // Moves the time to `t` when it is later.
  void AdvanceTo(TimePoint t);
  // Offset of Now() from the ticker's start.
  Duration Elapsed() const;
  // Every SleepUntil target so far, in call order, as offsets from the ticker's start.
  std::vector<Duration> Sleeps() const;
  // Deadlines of the WaitUntil calls blocked right now, as offsets from the start, sorted.
  std::vector<Duration> Deadlines() const;
  TimePoint start() const { return start_; }

 private:
  mutable std::mutex mu_;
  const TimePoint start_{std::chrono::hours(1)};
  TimePoint now_{std::chrono::hours(1)};
  std::vector<Duration> sleeps_;
  std::multimap<TimePoint, int> waits_;  // deadline -> (unused); one entry per blocked wait
};

}  // namespace dripr
