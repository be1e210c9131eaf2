#include "dripr/core/ids.h"

#include <openssl/rand.h>
#include <pthread.h>

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <random>

#include "dripr/core/random.h"

namespace dripr {
namespace {

// Bumped in a forked child (pthread_atfork): a thread's buffered random bytes drawn before
// the fork belong to the parent too, so the child must not hand them out again.
std::atomic<uint64_t> fork_generation{0};

void OnForkChild() { fork_generation.fetch_add(1, std::memory_order_relaxed); }

const bool kForkHandlerRegistered = [] {
  return pthread_atfork(nullptr, nullptr, &OnForkChild) == 0;
}();

// Random bytes drawn from OpenSSL's CSPRNG a block at a time, per thread: one RAND_bytes call
// (its lock and DRBG set-up) per kIdsPerBlock ids instead of one per id.
class RandomBlock {
 public:
  // 16 fresh bytes into `out`; they are wiped from the block (not kept in memory after use).
  void Take16(unsigned char* out) {
    const uint64_t generation = fork_generation.load(std::memory_order_relaxed);
    if (used_ + 16 > bytes_.size() || generation != generation_) {
      Refill();
      generation_ = generation;
    }
    for (size_t i = 0; i < 16; ++i) {
      out[i] = bytes_[used_ + i];
      bytes_[used_ + i] = 0;
    }
    used_ += 16;
  }

 private:
  static constexpr size_t kIdsPerBlock = 32;

  void Refill() {
    if (RAND_bytes(bytes_.data(), static_cast<int>(bytes_.size())) != 1) {
      // OpenSSL's CSPRNG failing is not expected; fall back to a per-thread Mersenne twister.
      thread_local std::mt19937_64 gen{RandomSeed()};
      for (auto& x : bytes_) x = static_cast<unsigned char>(gen());
    }
    used_ = 0;
  }

  std::array<unsigned char, 16 * kIdsPerBlock> bytes_{};
  size_t used_ = 16 * kIdsPerBlock;  // empty: the first call fills it
  uint64_t generation_ = 0;
};

}  // namespace

std::string NewUuid() {
  (void)kForkHandlerRegistered;
  thread_local RandomBlock block;
  std::array<unsigned char, 16> b;
  block.Take16(b.data());
  b[6] = static_cast<unsigned char>((b[6] & 0x0F) | 0x40);
  b[8] = static_cast<unsigned char>((b[8] & 0x3F) | 0x80);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out(36, '-');
  size_t o = 0;
  for (size_t i = 0; i < b.size(); ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) ++o;  // the dashes
    out[o++] = kHex[b[i] >> 4];
    out[o++] = kHex[b[i] & 0x0F];
  }
  return out;
}

}  // namespace dripr
