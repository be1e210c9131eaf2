#pragma once
// How many CPUs this process may use, for the defaults sized by the machine (the PostgreSQL
// pool for a server on this machine, the sample provider's concurrent searches). In a
// container, std::thread::hardware_concurrency() counts the host's CPUs; the container's
// CPU limit is its cgroup's quota (`docker run --cpus`, a Kubernetes CPU limit) or its CPU
// set (`--cpuset-cpus`, the affinity mask). docs/decisions/postgres.md "The pool's default
// size".

#include <filesystem>
#include <optional>
#include <string_view>

namespace dripr {

// The cgroup v2 `cpu.max` file's text ("QUOTA PERIOD", or "max PERIOD" for no limit) as a
// number of CPUs (QUOTA / PERIOD); nullopt when there is no limit or the text is not that.
std::optional<double> ParseCpuMax(std::string_view text);

// The CPU quota, in CPUs, of the cgroup described by `proc_self_cgroup` (the text of
// /proc/self/cgroup) under the cgroup file system mounted at `root` (/sys/fs/cgroup): the
// smallest quota of that cgroup and its ancestors, cgroup v2 (`cpu.max`) or v1
// (`cpu.cfs_quota_us` / `cpu.cfs_period_us` under `cpu` or `cpu,cpuacct`). A path that does
// not exist under `root` (a container sees its own cgroup as the root) is read at the root.
// nullopt when no quota is set or nothing can be read.
std::optional<double> CgroupCpuQuota(const std::filesystem::path& root,
                                     std::string_view proc_self_cgroup);

// The smallest of `online`, `affinity` and `quota` rounded up, at least 1; 0 for `online` or
// `affinity` means unknown.
unsigned UsableCores(unsigned online, unsigned affinity, std::optional<double> quota);

// UsableCores of this process: hardware_concurrency(), sched_getaffinity() and the quota of
// /proc/self/cgroup under /sys/fs/cgroup. Read once; later calls return the first answer.
unsigned UsableCores();

}  // namespace dripr
