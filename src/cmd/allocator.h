// The process's heap allocator: jemalloc when the build links it (the default, CMake option
// DRIPR_JEMALLOC), glibc's malloc otherwise (ASan/fuzz builds, which bring their own).
// docs/decisions/performance.md "Allocator pass".
#pragma once

#include <string_view>

namespace dripr::cli {

// "jemalloc" or "glibc".
std::string_view AllocatorName();

// Gives the heap's free pages back to the OS (jemalloc: purges every arena; glibc:
// malloc_trim). Called once after start-up, whose temporaries are larger than what the
// process keeps (B4 idle memory).
void ReleaseFreeMemory();

}  // namespace dripr::cli
