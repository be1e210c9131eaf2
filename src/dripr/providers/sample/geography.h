#pragma once
// Deterministic synthetic geography for the sample provider: how urban a place is, what
// homes there typically cost, and the state and city names of a zip code. Everything is a
// pure function of its arguments (no randomness, no global state).

#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>

#include "dripr/domain/types.h"

namespace dripr::sample {

// 64-bit mixing hash (SplitMix64 finaliser) over a few integers; the only "randomness" the
// sample provider uses.
// Inline: the sample provider hashes every (cell, day) it generates, so a call per hash
// would cost more than the hash.
// MixEach also takes a GCC vector of uint64_t and mixes each lane (sample/day_hashes.cc; by
// reference: a 64-byte vector passed by value would change the ABI without AVX-512).
template <class T>
inline __attribute__((always_inline)) void MixEach(T& x) {
  x ^= x >> 30;
  x *= 0xbf58476d1ce4e5b9ULL;
  x ^= x >> 27;
  x *= 0x94d049bb133111ebULL;
  x ^= x >> 31;
}
inline uint64_t Mix(uint64_t x) {
  MixEach(x);
  return x;
}
// Continues a Hash: HashMore(Hash({a, b}), {c, d}) == Hash({a, b, c, d}), so a common
// prefix is hashed once.
inline uint64_t HashMore(uint64_t h, std::initializer_list<int64_t> parts) {
  for (int64_t p : parts) h = Mix(h ^ (static_cast<uint64_t>(p) + 0x9e3779b97f4a7c15ULL));
  return h;
}
inline uint64_t Hash(std::initializer_list<int64_t> parts) {
  return HashMore(0x2545f4914f6cdd1dULL, parts);
}
uint64_t HashString(std::string_view s);
// Uniform in [0, 1) from a hash.
inline double Unit(uint64_t h) { return static_cast<double>(h >> 11) * 0x1.0p-53; }

// A small deterministic generator seeded from a Hash(); each call advances it.
class Rng {
 public:
  explicit Rng(uint64_t seed) : state_(seed) {}
  uint64_t Next() { return Mix(state_ += 0x9e3779b97f4a7c15ULL); }
  double Uniform() { return Unit(Next()); }
  double Uniform(double lo, double hi) { return lo + (hi - lo) * Uniform(); }
  int Int(int lo, int hi) { return lo + static_cast<int>(Next() % uint64_t(hi - lo + 1)); }

 private:
  uint64_t state_;
};

// 0 (open country) .. 1 (the centre of a large metro area), from the distance to the
// nearest of ~30 big US metros plus a few deterministic small towns.
double Urbanness(GeoPoint p);

// Typical home value around `p` in dollars: high near expensive metros (San Francisco,
// San Jose, New York, Boston, Los Angeles, Seattle...), lower in the country; within
// [120k, 2.5M].
double PriceLevel(GeoPoint p);
// Bounds of PriceLevel(p), lo <= PriceLevel(p) <= hi, within a few cents of it and much
// cheaper: the metros whose pull is surely below a tenth of a cent are left out. A result
// rounded from a monotonic function of the level (a price to the nearest $500) that is the
// same at both bounds is the exact one; else compute PriceLevel.
struct LevelRange {
  double lo, hi;
};
LevelRange PriceLevelRange(GeoPoint p);

// Typical living area of a home in a place this urban (condos in cities, houses outside);
// PriceLevel() is the price of a home of this size.
double TypicalSquareFeet(double urbanness);

// Fallbacks when a zip's location is unknown: a metro's centre when the zip's first three
// digits are that metro's main prefix.
std::optional<GeoPoint> MetroCenterForZip(std::string_view zip);

// Two-letter state (or territory) from the zip's first three digits; "" when unassigned.
std::string StateForZip(std::string_view zip);
// A city name: the metro's main city for its main prefix, otherwise a common US town name
// chosen deterministically from the zip.
std::string CityForZip(std::string_view zip);
// A street address line ("1234 Maple Ave") from a seed.
std::string StreetAddress(Rng& rng);

}  // namespace dripr::sample
