// The CPUs a process may use: cgroup quotas (v1 and v2) written into a scratch directory laid
// out as /sys/fs/cgroup is, and the smallest of the three limits.

#include "dripr/core/cpus.h"

#include <gtest/gtest.h>

#include <fstream>
#include <initializer_list>
#include <thread>
#include <utility>

#include "bus/temp_dir.h"

namespace dripr {
namespace {

namespace fs = std::filesystem;

class CgroupTree {
 public:
  fs::path root() const { return root_; }
  void Write(const fs::path& rel, const std::string& text) const {
    fs::create_directories((root_ / rel).parent_path());
    std::ofstream(root_ / rel) << text;
  }
  // Each {path under the root, text}.
  void Write(std::initializer_list<std::pair<const char*, const char*>> files) const {
    for (const auto& [rel, text] : files) Write(rel, text);
  }

 private:
  testing::TempDir dir_;
  fs::path root_ = fs::path(dir_.File("cgroup"));
};

TEST(CpuMaxTest, QuotaOverPeriodOrNoLimit) {
  EXPECT_EQ(ParseCpuMax("150000 100000\n"), 1.5);
  EXPECT_EQ(ParseCpuMax("50000 100000"), 0.5);
  EXPECT_EQ(ParseCpuMax("200000"), 2.0);  // the default period
  EXPECT_EQ(ParseCpuMax("max 100000\n"), std::nullopt);
  EXPECT_EQ(ParseCpuMax("max"), std::nullopt);
}

TEST(CpuMaxTest, TextThatIsNotAQuotaMeansNoLimit) {
  for (const char* bad : {"", "\n", "0 100000", "-5 100000", "100000 0", "1.5 100000",
                          "100000 100000 7", "lots 100000", "99999999999999999999999 100000"}) {
    EXPECT_EQ(ParseCpuMax(bad), std::nullopt) << bad;
  }
}

TEST(CgroupCpuQuotaTest, V2ReadsTheProcessCgroupAndItsAncestors) {
  CgroupTree t;
  t.Write({{"cpu.max", "max 100000\n"},
           {"kubepods/cpu.max", "300000 100000\n"},
           {"kubepods/pod1/cpu.max", "max 100000\n"},
           {"kubepods/pod1/app/cpu.max", "max 100000\n"}});
  EXPECT_EQ(CgroupCpuQuota(t.root(), "0::/kubepods/pod1/app\n"), 3.0);
  t.Write("kubepods/pod1/cpu.max", "125000 100000\n");
  EXPECT_EQ(CgroupCpuQuota(t.root(), "0::/kubepods/pod1/app\n"), 1.25);
}

TEST(CgroupCpuQuotaTest, V2InsideAContainerReadsTheMountsRoot) {
  // A container's cgroup namespace shows "/" (or the host's path, absent from its mount).
  CgroupTree t;
  t.Write("cpu.max", "200000 100000\n");
  EXPECT_EQ(CgroupCpuQuota(t.root(), "0::/\n"), 2.0);
  EXPECT_EQ(CgroupCpuQuota(t.root(), "0::/system.slice/docker-abc.scope\n"), 2.0);
  EXPECT_EQ(CgroupCpuQuota(t.root(), "0::/../../escape\n"), 2.0);
}

TEST(CgroupCpuQuotaTest, V1ReadsCfsQuotaUnderTheCpuController) {
  CgroupTree t;
  t.Write({{"cpu,cpuacct/cpu.cfs_quota_us", "-1\n"},
           {"cpu,cpuacct/cpu.cfs_period_us", "100000\n"},
           {"cpu,cpuacct/docker/abc/cpu.cfs_quota_us", "50000\n"},
           {"cpu,cpuacct/docker/abc/cpu.cfs_period_us", "100000\n"}});
  const char* self =
      "12:memory:/docker/abc\n"
      "4:cpu,cpuacct:/docker/abc\n"
      "1:name=systemd:/docker/abc\n";
  EXPECT_EQ(CgroupCpuQuota(t.root(), self), 0.5);
}

TEST(CgroupCpuQuotaTest, NoQuotaOrNothingReadableIsNoLimit) {
  CgroupTree t;
  t.Write("cpu.max", "max 100000\n");
  EXPECT_EQ(CgroupCpuQuota(t.root(), "0::/\n"), std::nullopt);
  EXPECT_EQ(CgroupCpuQuota(t.root() / "absent", "0::/\n"), std::nullopt);
  EXPECT_EQ(CgroupCpuQuota(t.root(), ""), std::nullopt);
  EXPECT_EQ(CgroupCpuQuota(t.root(), "garbage without colons\n::\n"), std::nullopt);
  EXPECT_EQ(CgroupCpuQuota(t.root(), "3:memory:/\n"), std::nullopt);  // v1, no cpu controller
}

TEST(UsableCoresTest, TheSmallestLimitRoundedUpAtLeastOne) {
  EXPECT_EQ(UsableCores(64, 64, std::nullopt), 64u);
  EXPECT_EQ(UsableCores(64, 4, std::nullopt), 4u);  // --cpuset-cpus
  EXPECT_EQ(UsableCores(64, 64, 2.0), 2u);          // --cpus=2
  EXPECT_EQ(UsableCores(64, 64, 1.5), 2u);          // a part of a CPU rounds up
  EXPECT_EQ(UsableCores(64, 64, 0.25), 1u);
  EXPECT_EQ(UsableCores(2, 64, 8.0), 2u);          // a quota above the machine
  EXPECT_EQ(UsableCores(0, 0, std::nullopt), 1u);  // nothing known
  EXPECT_EQ(UsableCores(0, 3, std::nullopt), 3u);
}

TEST(UsableCoresTest, ThisProcessGetsAtLeastOneAndNoMoreThanOnline) {
  const unsigned n = UsableCores();
  EXPECT_GE(n, 1u);
  if (std::thread::hardware_concurrency() > 0) {
    EXPECT_LE(n, std::thread::hardware_concurrency());
  }
}

}  // namespace
}  // namespace dripr
