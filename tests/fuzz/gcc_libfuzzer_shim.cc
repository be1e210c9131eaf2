// Lets libFuzzer drive code compiled by g++.
//
// Why: the project needs C++23 std::expected, which libstdc++ 12 only offers to compilers with
// P0848 (conditionally trivial destructors); clang 14 (Debian 12's default) lacks it, so the
// sources cannot be built with `clang -fsanitize=fuzzer`. g++ can instrument code with
// `-fsanitize-coverage=trace-pc` (a call per basic block) and `trace-cmp` (comparison
// operands), and libFuzzer's runtime (libclang_rt.fuzzer) implements the trace-cmp hooks
// but not trace-pc. This file implements trace-pc by hashing the caller's address into an
// inline 8-bit counter array that it registers with libFuzzer before main(), which is what
// clang's `-fsanitize-coverage=inline-8bit-counters` does at compile time.
//
// Still true with Debian 12's clang 14 and libstdc++ 12 (checked again for
// docs/decisions/fuzzing.md: `#include <expected>` compiles but std::expected is not declared).
// tests/fuzz/CMakeLists.txt links it (compiled WITHOUT coverage flags) into every target.

#include <cstddef>
#include <cstdint>

namespace {

constexpr size_t kCounters = size_t{1} << 16;
uint8_t counters[kCounters];
// libFuzzer's PC table: one (pc, flags) pair per counter; flags 1 = function entry.
uintptr_t pc_table[2 * kCounters];

}  // namespace

extern "C" {

void __sanitizer_cov_8bit_counters_init(uint8_t* start, uint8_t* stop);
void __sanitizer_cov_pcs_init(const uintptr_t* pcs_beg, const uintptr_t* pcs_end);

__attribute__((no_sanitize_address, no_sanitize_undefined)) void __sanitizer_cov_trace_pc() {
  auto pc = reinterpret_cast<uintptr_t>(__builtin_return_address(0));
  size_t slot = (pc ^ (pc >> 16)) & (kCounters - 1);
  counters[slot]++;
  pc_table[2 * slot] = pc;
}

// g++ also traces floating-point comparisons, which libFuzzer has no hooks for.
void __sanitizer_cov_trace_cmpf(float, float) {}
void __sanitizer_cov_trace_cmpd(double, double) {}

__attribute__((constructor)) static void DriprRegisterGccCoverage() {
  __sanitizer_cov_8bit_counters_init(counters, counters + kCounters);
  __sanitizer_cov_pcs_init(pc_table, pc_table + 2 * kCounters);
}

}  // extern "C"
