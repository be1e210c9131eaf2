#include "cmd/allocator.h"

#ifdef DRIPR_JEMALLOC
#include <jemalloc/jemalloc.h>
#else
#include <malloc.h>
#endif

#ifdef DRIPR_JEMALLOC
// jemalloc reads this once, at its first allocation (MALLOC_CONF, read after it, still wins
// for an operator's experiment). Dirty pages freed by a burst go back to the OS after 1 s of
// further activity instead of 10 s, without the "muzzy" second stage (MADV_FREE pages still
// count in RSS until the kernel wants them); each thread caches only blocks up to 4 KiB
// (the default 32 KiB cost ~10 MiB of peak RSS over the demo's 60+ threads). Measured:
// docs/decisions/performance.md "Allocator pass".
extern "C" {
const char* malloc_conf = "dirty_decay_ms:1000,muzzy_decay_ms:0,tcache_max:4096";
}
#endif

namespace dripr::cli {

std::string_view AllocatorName() {
#ifdef DRIPR_JEMALLOC
  return "jemalloc";
#else
  return "glibc";
#endif
}

void ReleaseFreeMemory() {
#ifdef DRIPR_JEMALLOC
  // This thread's cache first, so that its blocks are in the arenas the purge empties.
  // Failures are ignored: the purge only lowers RSS, nothing depends on it.
  (void)mallctl("thread.tcache.flush", nullptr, nullptr, nullptr, 0);
  static_assert(MALLCTL_ARENAS_ALL == 4096, "\"arena.4096\" names all arenas");
  (void)mallctl("arena.4096.purge", nullptr, nullptr, nullptr, 0);
#else
  malloc_trim(0);
#endif
}

}  // namespace dripr::cli
