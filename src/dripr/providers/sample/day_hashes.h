#pragma once
// The hashes of a cell's days, many at once: MakeCell (sample_provider.cc) hashes every day of
// a cell's listing and sales windows (120 and 90+ days) to find the few days with homes.
// Every value has HashMore's bits (geography.h); eight days at a time with AVX-512 where the
// CPU has it, else one by one (`vector` false forces that, for tests). Shifts, xors and
// 64-bit multiplies are exact, so both give the same bits.

#include <cstddef>
#include <cstdint>

namespace dripr::sample {

inline constexpr size_t kDayBatch = 8;

// day_hash[i] = HashMore(cell_hash, {today - i}) for i < n, a multiple of kDayBatch.
void DayHashes(uint64_t cell_hash, int64_t today, size_t n, uint64_t* day_hash, bool vector = true);
// out[i] = HashMore(day_hash[i], {salt}) for i < n, a multiple of kDayBatch; bit i % 64 of
// above[i / 64] ((n + 63) / 64 words, all written) is set iff (out[i] >> 11) > threshold.
void SaltedHashes(const uint64_t* day_hash, int64_t salt, uint64_t threshold, size_t n,
                  uint64_t* out, uint64_t* above, bool vector = true);

}  // namespace dripr::sample
