#pragma once
// Injectable randomness for decisions (retry jitter). The real source is seeded from
// std::random_device, the only place in src/ that reads it; tests inject a fixed or scripted
// sequence so schedules can be asserted exactly. Not for secrets (ids.cc uses OpenSSL).

#include <cstdint>
#include <mutex>
#include <random>
#include <vector>

namespace dripr {

class Random {
 public:
  virtual ~Random() = default;
  // Uniform in [0, 1). Thread-safe.
  virtual double Uniform() = 0;
  // Uniform in [lo, hi).
  double Uniform(double lo, double hi) { return lo + (hi - lo) * Uniform(); }
};

// A Mersenne twister behind a mutex; seeded from std::random_device when seed is 0.
class SeededRandom final : public Random {
 public:
  explicit SeededRandom(uint64_t seed = 0);
  double Uniform() override;

 private:
  std::mutex mu_;
  std::mt19937_64 rng_;  // guarded by mu_
};

// The process-wide real source, for wiring code (src/cmd/, the composition root); components
// take a Random& (or null for this one).
Random& SystemRandom();

// The one place a component's optional `Random*` (null: the real one) is resolved, so that
// library code never names the real source itself (scripts/check-time-sources.py).
inline Random& OrRealRandom(Random* random) { return random != nullptr ? *random : SystemRandom(); }

// A fresh non-deterministic seed (std::random_device), for components that keep their own
// generator.
uint64_t RandomSeed();

// For tests: returns `values` in order, then repeats the last one (0.5 when empty).
class ScriptedRandom final : public Random {
 public:
  explicit ScriptedRandom(std::vector<double> values = {}) : values_(std::move(values)) {}
  double Uniform() override;

 private:
  std::mutex mu_;
  std::vector<double> values_;  // guarded by mu_
  size_t next_ = 0;             // guarded by mu_
};

}  // namespace dripr
