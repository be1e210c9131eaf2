// The WAL checkpoint off the writer's turn (docs/decisions/store.md, "The checkpoint off the
// writer's turn"): the writer connection does not auto-checkpoint; a Checkpointer thread with
// its own connection runs PASSIVE checkpoints when the WAL has grown by the threshold, the WAL
// restarts once one has caught up, and stays bounded under a stream of commits. Waits are
// polled with a deadline.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "bus/temp_dir.h"
#include "dripr/sqlite/writer.h"
#include "support/poll.h"

namespace dripr::testing {
namespace {

using sqlite::Checkpointer;
using sqlite::Connection;
using sqlite::Writer;
using std::chrono::seconds;

constexpr int kThreshold = Checkpointer::kThresholdFrames;

int ThreadsOfThisProcess() {
  int n = 0;
  for ([[maybe_unused]] const auto& e : std::filesystem::directory_iterator("/proc/self/task")) ++n;
  return n;
}

// The nice value of each thread of this process (/proc/self/task/*/stat, field 19), by tid.
std::map<int, int> NiceValuesOfThisProcess() {
  std::map<int, int> out;
  for (const auto& e : std::filesystem::directory_iterator("/proc/self/task")) {
    std::ifstream f(e.path() / "stat");
    std::string stat((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
    const size_t paren = stat.rfind(')');
    if (paren == std::string::npos) continue;
    std::istringstream rest(stat.substr(paren + 2));  // from field 3, the state
    std::string field;
    for (int i = 3; i <= 19 && rest >> field; ++i) {
      if (i == 19) out[std::stoi(e.path().filename().string())] = std::stoi(field);
    }
  }
  return out;
}

class WriterCheckpointTest : public ::testing::Test {
 protected:
  void SetUp() override {
    path_ = dir_.File("c.db");
    auto created = Connection::Open(path_, {});
    ASSERT_TRUE(created);
    ASSERT_TRUE((*created)->Exec("CREATE TABLE blobs(b BLOB NOT NULL)"));
    auto w = Writer::For(path_, seconds(5));
    ASSERT_TRUE(w);
    writer_ = *w;
  }

  // One commit of `bytes` (~bytes / 4 KiB WAL frames).
  Status Write(int bytes = 40000) {
    return writer_->InWriteTransaction("write", [&](Connection& c) -> Status {
      return c.Exec("INSERT INTO blobs VALUES (randomblob(" + std::to_string(bytes) + "))");
    });
  }

  // Commits until the WAL has grown past the checkpointer's threshold (the last commit asks
  // for a checkpoint).
  void GrowPastThreshold() {
    for (int i = 0; i < 1000 && writer_->wal_frames() < kThreshold; ++i) ASSERT_TRUE(Write());
    ASSERT_GE(writer_->wal_frames(), kThreshold);
  }

  TempDir dir_;
  std::string path_;
  std::shared_ptr<Writer> writer_;
};

TEST_F(WriterCheckpointTest, TheThreadCheckpointsAndTheWalRestarts) {
  const int before = ThreadsOfThisProcess();
  GrowPastThreshold();
  // Nothing else writes: the checkpointer copies every frame and says so.
  ASSERT_TRUE(Eventually([&] { return writer_->checkpoint_stats().caught_up >= 1; }));
  const auto stats = writer_->checkpoint_stats();
  EXPECT_GE(stats.background, 1u);
  EXPECT_EQ(stats.in_turn, 0u);  // the commits never checkpointed
  EXPECT_EQ(stats.failures, 0u);
  EXPECT_EQ(ThreadsOfThisProcess(), before + 1);
  // The next write starts the WAL over: it holds that write's frames only.
  ASSERT_TRUE(Write(100));
  EXPECT_LT(writer_->wal_frames(), 10);
  // The checkpointer is joined with its writer.
  writer_.reset();
  EXPECT_EQ(ThreadsOfThisProcess(), before);
}

// The checkpoint is background work: its thread, and it alone, runs kNice lower in priority
// than the thread that started it, so that a full CPU goes to the writer's turn first.
TEST_F(WriterCheckpointTest, TheCheckpointThreadAloneRunsAtALowerPriority) {
  const std::map<int, int> before = NiceValuesOfThisProcess();
  const int mine = before.at(static_cast<int>(::gettid()));
  GrowPastThreshold();
  ASSERT_TRUE(Eventually([&] { return writer_->checkpoint_stats().background >= 1; }));
  std::vector<int> started;  // the nice values of the threads started since
  for (const auto& [tid, nice] : NiceValuesOfThisProcess()) {
    if (before.contains(tid)) {
      EXPECT_EQ(nice, before.at(tid)) << "thread " << tid;
    } else {
      started.push_back(nice);
    }
  }
  EXPECT_EQ(started, std::vector<int>{std::min(19, mine + Checkpointer::kNice)});
}

TEST_F(WriterCheckpointTest, OtherConnectionsKeepTheirAutoCheckpoint) {
  auto other = Connection::Open(path_, {});
  ASSERT_TRUE(other);
  auto s = (*other)->Prepare("PRAGMA wal_autocheckpoint");
  ASSERT_TRUE(s);
  auto row = s->Step();
  ASSERT_TRUE(row && *row);
  EXPECT_EQ(s->Int(0), kThreshold);
}

TEST_F(WriterCheckpointTest, TheWalStaysBoundedUnderAStreamOfCommits) {
  // 4 callers × 150 commits of ~10 frames: ~6 thresholds' worth, batched by the writer.
  constexpr int kCallers = 4;
  constexpr int kCommits = 150;
  std::vector<std::thread> callers;
  std::atomic<int> failed{0};
  for (int t = 0; t < kCallers; ++t) {
    callers.emplace_back([&] {
      for (int i = 0; i < kCommits; ++i) {
        if (!Write()) failed.fetch_add(1);
      }
    });
  }
  for (auto& t : callers) t.join();
  EXPECT_EQ(failed.load(), 0);
  EXPECT_GE(writer_->checkpoint_stats().background, 1u);
  // The WAL restarted on the way (SQLite counts frames since the last restart), and its file
  // (never truncated: SQLite reuses it) never grew past 4 thresholds' frames.
  EXPECT_LT(writer_->wal_frames(), 4 * kThreshold);
  const auto wal_bytes = std::filesystem::file_size(path_ + "-wal");
  EXPECT_LE(wal_bytes, 32u + 4u * kThreshold * (4096u + 24u));
}

TEST_F(WriterCheckpointTest, AForkedChildLeavesTheParentsCheckpointerAlone) {
  GrowPastThreshold();
  ASSERT_TRUE(Eventually([&] { return writer_->checkpoint_stats().caught_up >= 1; }));
  const pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    int code = 0;
    auto own = Writer::For(path_, seconds(5));
    if (!own || own->get() == writer_.get()) code = 1;
    if (code == 0 && !(*own)->InWriteTransaction("child", [](Connection& c) {
          return c.Exec("INSERT INTO blobs VALUES (x'00')");
        })) {
      code = 2;
    }
    writer_.reset();  // the parent's writer: its checkpointer thread is not in this process
    ::_exit(code);
  }
  int status = 0;
  ASSERT_EQ(::waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0);
  // The parent's checkpointer goes on.
  const auto before = writer_->checkpoint_stats().background;
  GrowPastThreshold();
  for (int i = 0; i < 200 && writer_->checkpoint_stats().background == before; ++i) {
    ASSERT_TRUE(Write());
  }
  EXPECT_TRUE(Eventually([&] { return writer_->checkpoint_stats().background > before; }));
}

}  // namespace
}  // namespace dripr::testing
