#include "dripr/providers/sample/day_hashes.h"

#include <immintrin.h>

#include <cstring>

#include "dripr/providers/sample/geography.h"

namespace dripr::sample {
namespace {

constexpr uint64_t kGolden = 0x9e3779b97f4a7c15ULL;  // HashMore's increment

#define DRIPR_AVX512 __attribute__((target("avx512f,avx512dq")))

// Eight lanes; MixEach's shifts, xors and multiplies are GCC's vector operations (vpmullq is
// AVX512DQ; the intrinsics' shifts warn in GCC 12: -Wmaybe-uninitialized in avx512fintrin.h).
using U64x8 = uint64_t __attribute__((vector_size(64)));

DRIPR_AVX512 void DayHashesAvx512(uint64_t cell_hash, int64_t today, size_t n, uint64_t* day_hash) {
  // Lane k of batch i holds day today - i - k, plus kGolden (modulo 2^64, as HashMore adds).
  const U64x8 lanes = {0, 1, 2, 3, 4, 5, 6, 7};
  for (size_t i = 0; i < n; i += kDayBatch) {
    const uint64_t first = static_cast<uint64_t>(today) - i + kGolden;
    U64x8 v = (first - lanes) ^ cell_hash;
    MixEach(v);
    std::memcpy(day_hash + i, &v, sizeof v);
  }
}

DRIPR_AVX512 void SaltedHashesAvx512(const uint64_t* day_hash, int64_t salt, uint64_t threshold,
                                     size_t n, uint64_t* out, uint64_t* above) {
  const uint64_t x = static_cast<uint64_t>(salt) + kGolden;
  const __m512i t = _mm512_set1_epi64(static_cast<int64_t>(threshold));
  for (size_t i = 0; i < n; i += kDayBatch) {
    U64x8 v;
    std::memcpy(&v, day_hash + i, sizeof v);
    v ^= x;
    MixEach(v);
    std::memcpy(out + i, &v, sizeof v);
    const U64x8 high = v >> 11;
    const __mmask8 m = _mm512_cmpgt_epu64_mask(reinterpret_cast<const __m512i&>(high), t);
    above[i / 64] |= static_cast<uint64_t>(m) << (i % 64);
  }
}

bool HasAvx512() {
  static const bool has = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512dq");
  return has;
}

}  // namespace

void DayHashes(uint64_t cell_hash, int64_t today, size_t n, uint64_t* day_hash, bool vector) {
  if (vector && HasAvx512()) return DayHashesAvx512(cell_hash, today, n, day_hash);
  for (size_t i = 0; i < n; ++i) {
    day_hash[i] = HashMore(cell_hash, {today - static_cast<int64_t>(i)});
  }
}

void SaltedHashes(const uint64_t* day_hash, int64_t salt, uint64_t threshold, size_t n,
                  uint64_t* out, uint64_t* above, bool vector) {
  for (size_t w = 0; w < (n + 63) / 64; ++w) above[w] = 0;
  if (vector && HasAvx512()) return SaltedHashesAvx512(day_hash, salt, threshold, n, out, above);
  for (size_t i = 0; i < n; ++i) {
    out[i] = HashMore(day_hash[i], {salt});
    if ((out[i] >> 11) > threshold) above[i / 64] |= uint64_t{1} << (i % 64);
  }
}

}  // namespace dripr::sample
