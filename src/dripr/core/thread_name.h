#pragma once
// Names for the process's threads, as `top -H`, `ps -L`, `perf`, gdb and
// /proc/PID/task/TID/comm show them (docs/operations.md, "The process's threads"). Linux keeps
// at most 15 bytes of a name: longer ones are cut, never refused.

#include <string>
#include <string_view>

namespace dripr {

// Linux's limit on a thread's name, without the terminating NUL.
inline constexpr size_t kMaxThreadNameBytes = 15;

// `name` cut to kMaxThreadNameBytes bytes (at a byte: names here are ASCII). A role and its
// subject, e.g. ThreadName("work", "active_listings") is "work:active_lis".
std::string ThreadName(std::string_view role, std::string_view subject = {});

// Names the calling thread (ThreadName's cut applies). Best effort: naming only helps the
// tools above, so a failure is ignored.
void NameThisThread(std::string_view name);

}  // namespace dripr
