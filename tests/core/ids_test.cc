// NewUuid: RFC 4122 version-4 ids from per-thread blocks of CSPRNG bytes; no id repeats across
// threads, and a forked child does not hand out the bytes its parent buffered.

#include "dripr/core/ids.h"

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <mutex>
#include <regex>
#include <set>
#include <string>
#include <thread>
#include <vector>

namespace dripr {
namespace {

TEST(NewUuid, IsALowercaseVersion4Uuid) {
  const std::regex v4("[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}");
  // More than one block of the per-thread buffer, so refills are covered.
  std::set<char> variants;
  for (int i = 0; i < 200; ++i) {
    const std::string id = NewUuid();
    ASSERT_TRUE(std::regex_match(id, v4)) << id;
    variants.insert(id[19]);
  }
  EXPECT_GE(variants.size(), 2u) << "the variant nibble's two random bits vary";
}

TEST(NewUuid, NeverRepeatsAcrossThreads) {
  constexpr int kThreads = 4, kPerThread = 5000;
  std::mutex mu;
  std::set<std::string> seen;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      std::vector<std::string> mine;
      for (int i = 0; i < kPerThread; ++i) mine.push_back(NewUuid());
      std::lock_guard lock(mu);
      seen.insert(mine.begin(), mine.end());
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(seen.size(), static_cast<size_t>(kThreads * kPerThread));
}

TEST(NewUuid, AForkedChildDoesNotRepeatItsParentsBufferedBytes) {
  (void)NewUuid();  // the parent's block is filled and mostly unused now
  int fds[2];
  ASSERT_EQ(pipe(fds), 0);
  const pid_t child = fork();
  ASSERT_NE(child, -1);
  if (child == 0) {
    const std::string id = NewUuid();
    const ssize_t n = write(fds[1], id.data(), id.size());
    _exit(n == static_cast<ssize_t>(id.size()) ? 0 : 1);
  }
  close(fds[1]);
  const std::string parent = NewUuid();
  char buf[64] = {};
  ssize_t got = 0;
  while (got < 36) {
    const ssize_t n = read(fds[0], buf + got, sizeof buf - 1 - got);
    if (n <= 0) break;
    got += n;
  }
  close(fds[0]);
  int status = 0;
  ASSERT_EQ(waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  ASSERT_EQ(got, 36);
  EXPECT_NE(std::string(buf, 36), parent) << "the child handed out the parent's next id";
}

}  // namespace
}  // namespace dripr
