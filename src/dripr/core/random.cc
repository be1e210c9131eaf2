#include "dripr/core/random.h"

#include <algorithm>

namespace dripr {

uint64_t RandomSeed() {
  std::random_device device;
  return (static_cast<uint64_t>(device()) << 32) ^ device();
}

SeededRandom::SeededRandom(uint64_t seed) : rng_(seed != 0 ? seed : RandomSeed()) {}

double SeededRandom::Uniform() {
  std::lock_guard lock(mu_);
  return std::uniform_real_distribution<double>(0.0, 1.0)(rng_);
}

Random& SystemRandom() {
  static SeededRandom random;
  return random;
}

double ScriptedRandom::Uniform() {
  std::lock_guard lock(mu_);
  if (values_.empty()) return 0.5;
  double v = values_[std::min(next_, values_.size() - 1)];
  ++next_;
  return v;
}

}  // namespace dripr
