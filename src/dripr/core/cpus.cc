#include "dripr/core/cpus.h"

#include <sched.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <limits>
#include <sstream>
#include <string>
#include <thread>

#include "dripr/core/number.h"
#include "dripr/core/text.h"

namespace dripr {
namespace {

namespace fs = std::filesystem;

constexpr int64_t kMaxMicros = std::numeric_limits<int64_t>::max() / 2;

// The first line of file `p`.
std::optional<std::string> ReadLine(const fs::path& p) {
  std::ifstream in(p);
  std::string line;
  if (!std::getline(in, line)) return std::nullopt;
  return line;
}

// The first blank-separated word of file `p`.
std::optional<std::string> ReadWord(const fs::path& p) {
  std::ifstream in(p);
  std::string word;
  if (!(in >> word)) return std::nullopt;
  return word;
}

std::optional<double> Quota(int64_t quota, int64_t period) {
  if (quota <= 0 || period <= 0) return std::nullopt;
  return static_cast<double>(quota) / static_cast<double>(period);
}

std::optional<double> ReadCpuMax(const fs::path& dir) {
  auto text = ReadLine(dir / "cpu.max");
  return text ? ParseCpuMax(*text) : std::nullopt;
}

std::optional<double> ReadCfsQuota(const fs::path& dir) {
  auto quota_text = ReadWord(dir / "cpu.cfs_quota_us");
  auto period_text = ReadWord(dir / "cpu.cfs_period_us");
  if (!quota_text || !period_text) return std::nullopt;
  auto quota = ParseInt(*quota_text, -1, kMaxMicros);  // -1: no limit
  auto period = ParseInt(*period_text, 1, kMaxMicros);
  if (!quota || !period) return std::nullopt;
  return Quota(*quota, *period);
}

std::optional<double> Min(std::optional<double> a, std::optional<double> b) {
  if (!a) return b;
  if (!b) return a;
  return std::min(*a, *b);
}

// The smallest quota `read` finds in `base`/`path` and its ancestors up to `base`; when that
// directory does not exist (the path is the host's view, the mount the container's), at
// `base` alone.
template <class Read>
std::optional<double> AlongPath(const fs::path& base, std::string_view path, Read read) {
  fs::path rel = fs::path(std::string(path)).relative_path().lexically_normal();
  // A path leaving its mount ("/../.." in a cgroup namespace) is not followed.
  if (!rel.empty() && *rel.begin() == "..") rel.clear();
  std::error_code ec;
  if (!fs::is_directory(base / rel, ec)) return read(base);
  std::optional<double> best = read(base);
  for (; !rel.empty(); rel = rel.parent_path()) best = Min(best, read(base / rel));
  return best;
}

// Whether the comma-separated `list` names `controller`.
bool HasController(std::string_view list, std::string_view controller) {
  while (true) {
    const auto comma = list.find(',');
    if (list.substr(0, comma) == controller) return true;
    if (comma == std::string_view::npos) return false;
    list.remove_prefix(comma + 1);
  }
}

}  // namespace

std::optional<double> ParseCpuMax(std::string_view text) {
  std::istringstream in{std::string(text)};
  std::string quota_text, period_text, rest;
  if (!(in >> quota_text) || quota_text == "max") return std::nullopt;
  if (!(in >> period_text)) period_text = "100000";  // the kernel's default period
  if (in >> rest) return std::nullopt;
  auto quota = ParseInt(quota_text, 1, kMaxMicros);
  auto period = ParseInt(period_text, 1, kMaxMicros);
  if (!quota || !period) return std::nullopt;
  return Quota(*quota, *period);
}

std::optional<double> CgroupCpuQuota(const fs::path& root, std::string_view proc_self_cgroup) {
  std::optional<double> best;
  LineReader lines(proc_self_cgroup);
  for (std::string_view line; lines.Next(line);) {
    // "hierarchy-id:controllers:path"; the path may itself hold ':'.
    const auto first = line.find(':');
    if (first == std::string_view::npos) continue;
    const auto second = line.find(':', first + 1);
    if (second == std::string_view::npos) continue;
    const std::string_view id = line.substr(0, first);
    const std::string_view controllers = line.substr(first + 1, second - first - 1);
    const std::string_view path = line.substr(second + 1);
    if (id == "0" && controllers.empty()) {
      best = Min(best, AlongPath(root, path, ReadCpuMax));
      continue;
    }
    if (!HasController(controllers, "cpu")) continue;
    for (const char* mount : {"cpu,cpuacct", "cpu"}) {
      std::error_code ec;
      if (fs::is_directory(root / mount, ec)) {
        best = Min(best, AlongPath(root / mount, path, ReadCfsQuota));
        break;
      }
    }
  }
  return best;
}

unsigned UsableCores(unsigned online, unsigned affinity, std::optional<double> quota) {
  unsigned n = std::numeric_limits<unsigned>::max();
  if (online > 0) n = std::min(n, online);
  if (affinity > 0) n = std::min(n, affinity);
  if (quota && *quota > 0) {
    const double up = std::ceil(*quota - 1e-9);
    if (up < static_cast<double>(n)) n = static_cast<unsigned>(std::max(1.0, up));
  }
  return n == std::numeric_limits<unsigned>::max() ? 1 : std::max(1U, n);
}

unsigned UsableCores() {
  static const unsigned cores = [] {
    unsigned affinity = 0;
    cpu_set_t set;
    CPU_ZERO(&set);
    if (sched_getaffinity(0, sizeof(set), &set) == 0) {
      affinity = static_cast<unsigned>(CPU_COUNT(&set));
    }
    std::string self;
    if (std::ifstream in("/proc/self/cgroup"); in) {
      std::ostringstream text;
      text << in.rdbuf();
      self = text.str();
    }
    return UsableCores(std::thread::hardware_concurrency(), affinity,
                       CgroupCpuQuota("/sys/fs/cgroup", self));
  }();
  return cores;
}

}  // namespace dripr
