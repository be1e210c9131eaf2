// Group commit in sqlite::Writer (docs/decisions/store.md, "Group commit in the one writer"):
// concurrent callers share one transaction; the caller holding the turn (the combiner) runs the
// queued parts, each a savepoint; a failed part is its own result at once; the others return
// only after the batch's real COMMIT, with its outcome. Batches are formed deterministically:
// the first caller holds its turn until the others are seen queued (Writer::waiting), polled
// with a deadline.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <latch>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "bus/temp_dir.h"
#include "dripr/sqlite/writer.h"
#include "support/poll.h"

namespace dripr::testing {
namespace {

using sqlite::Connection;
using sqlite::PendingInTransaction;
using sqlite::Writer;
using std::chrono::milliseconds;
using std::chrono::seconds;

class WriterGroupCommitTest : public ::testing::Test {
 protected:
  void SetUp() override {
    path_ = dir_.File("w.db");
    auto created = Connection::Open(path_, {});
    ASSERT_TRUE(created);
    ASSERT_TRUE((*created)->Exec(
        "CREATE TABLE parent(id INTEGER PRIMARY KEY);"
        "CREATE TABLE rows(who TEXT NOT NULL, parent INTEGER REFERENCES parent(id) "
        "DEFERRABLE INITIALLY DEFERRED);"
        "INSERT INTO parent VALUES (1)"));
    auto w = Writer::For(path_, seconds(5));
    ASSERT_TRUE(w);
    writer_ = *w;
  }

  // Inserts a row named `who` (pointing at `parent`: 2 has no parent row, which only the
  // COMMIT notices); fails after inserting when `fail`.
  Status Insert(const std::string& who, bool fail = false, int parent = 1) {
    return writer_->InWriteTransaction(who, [&](Connection& c) -> Status {
      DRIPR_TRY(c.Exec("INSERT INTO rows VALUES ('" + who + "', " + std::to_string(parent) + ")"));
      if (fail) return Fail(ErrorCode::kInternal, who + " failed");
      return Ok();
    });
  }

  // The rows another connection sees (committed ones only), sorted.
  std::vector<std::string> Committed() {
    std::vector<std::string> out;
    auto reader = Connection::Open(path_, {});
    EXPECT_TRUE(reader);
    if (!reader) return out;
    auto s = (*reader)->Prepare("SELECT who FROM rows ORDER BY who");
    EXPECT_TRUE(s);
    if (!s) return out;
    while (true) {
      auto row = s->Step();
      EXPECT_TRUE(row);
      if (!row || !*row) break;
      out.push_back(s->Text(0));
    }
    return out;
  }

  // Runs `first` on a thread of its own; once it has the writer, starts one thread per entry
  // of `others` and makes `first` keep its turn until all of them wait for theirs, so that
  // the first caller finds them waiting when its part ends.
  void RunBatched(const std::function<Status(Connection&)>& first_part, Status& first_result,
                  const std::vector<std::function<void()>>& others) {
    std::latch in_part(1);
    const int want = static_cast<int>(others.size());
    std::thread first([&] {
      first_result = writer_->InWriteTransaction("first", [&](Connection& c) -> Status {
        in_part.count_down();
        EXPECT_TRUE(Eventually([&] { return writer_->waiting() == want; }));
        return first_part(c);
      });
    });
    in_part.wait();
    std::vector<std::thread> threads;
    for (const auto& f : others) threads.emplace_back(f);
    first.join();
    for (auto& t : threads) t.join();
  }

  static Status InsertFirst(Connection& c) {
    return c.Exec("INSERT INTO rows VALUES ('first', 1)");
  }

  // b's carried work (a PendingInTransaction's).
  static Status InsertBAck(Connection& c) { return c.Exec("INSERT INTO rows VALUES ('b-ack', 1)"); }

  // A database file of its own at `path` with a table t(x), and the connection that made it.
  static Result<std::unique_ptr<Connection>> CreateFileWithTableT(const std::string& path) {
    DRIPR_ASSIGN_OR_RETURN(auto c, Connection::Open(path, {}));
    DRIPR_TRY(c->Exec("CREATE TABLE t(x INTEGER)"));
    return c;
  }

  // A batch of two: "first" (InsertFirst) and "b", whose part is `b_part`; with the threads
  // each caller and b's part ran on.
  struct TwoCallers {
    Status first = Ok(), b = Ok();
    std::thread::id first_thread, b_thread, b_part_thread;
  };
  TwoCallers RunFirstAndB(const std::function<Status(Connection&)>& b_part) {
    TwoCallers out;
    RunBatched(
        [&](Connection& conn) -> Status {
          out.first_thread = std::this_thread::get_id();
          return InsertFirst(conn);
        },
        out.first, {[&] {
          out.b_thread = std::this_thread::get_id();
          out.b = writer_->InWriteTransaction("b", [&](Connection& c) -> Status {
            out.b_part_thread = std::this_thread::get_id();
            return b_part(c);
          });
        }});
    return out;
  }

  TempDir dir_;
  std::string path_;
  std::shared_ptr<Writer> writer_;
};

TEST_F(WriterGroupCommitTest, LoneCallerCommitsAtOnce) {
  const uint64_t before = writer_->commits();
  ASSERT_TRUE(writer_->InWriteTransaction("lone", [&](Connection& c) -> Status {
    EXPECT_EQ(writer_->waiting(), 0);
    return c.Exec("INSERT INTO rows VALUES ('lone', 1)");
  }));
  EXPECT_EQ(writer_->commits(), before + 1);
  EXPECT_EQ(Committed(), std::vector<std::string>{"lone"});
}

TEST_F(WriterGroupCommitTest, ConcurrentCallersShareOneCommit) {
  const uint64_t before = writer_->commits();
  Status first = Ok();
  Status b = Ok(), c = Ok(), d = Ok();
  std::vector<std::string> seen_by_b;  // what was committed when b's call returned
  RunBatched(InsertFirst, first,
             {[&] {
                b = Insert("b");
                seen_by_b = Committed();
              },
              [&] { c = Insert("c"); }, [&] { d = Insert("d"); }});
  EXPECT_TRUE(first);
  EXPECT_TRUE(b);
  EXPECT_TRUE(c);
  EXPECT_TRUE(d);
  EXPECT_EQ(writer_->commits(), before + 1);  // four callers, one COMMIT
  const std::vector<std::string> all{"b", "c", "d", "first"};
  EXPECT_EQ(seen_by_b, all);  // b returned only after the batch (all of it) committed
  EXPECT_EQ(Committed(), all);
}

// A batch of many members, some failing in their parts: each caller is told its own result
// exactly once (a failed part at once, the others after the one COMMIT).
TEST_F(WriterGroupCommitTest, EveryMemberOfABigBatchReturnsWithItsOwnResult) {
  const uint64_t before = writer_->commits();
  constexpr int kOthers = 8;
  std::vector<Status> results(kOthers, Ok());
  std::vector<std::function<void()>> others;
  for (int i = 0; i < kOthers; ++i) {
    // Every third fails in its part: its error at once, its savepoint undone.
    others.push_back([&, i] { results[i] = Insert("m" + std::to_string(i), i % 3 == 2); });
  }
  Status first = Ok();
  RunBatched(InsertFirst, first, others);
  EXPECT_TRUE(first);
  std::vector<std::string> want{"first"};
  for (int i = 0; i < kOthers; ++i) {
    if (i % 3 == 2) {
      ASSERT_FALSE(results[i]) << i;
      EXPECT_EQ(results[i].error().message, "m" + std::to_string(i) + " failed");
    } else {
      EXPECT_TRUE(results[i]) << i;
      want.push_back("m" + std::to_string(i));
    }
  }
  std::sort(want.begin(), want.end());
  EXPECT_EQ(writer_->commits(), before + 1);
  EXPECT_EQ(Committed(), want);
}

TEST_F(WriterGroupCommitTest, OneMembersFailureUndoesOnlyItsOwnWrites) {
  const uint64_t before = writer_->commits();
  Status first = Ok();
  Status b = Ok(), c = Ok();
  RunBatched(InsertFirst, first,
             {[&] { b = Insert("b", /*fail=*/true); }, [&] { c = Insert("c"); }});
  EXPECT_TRUE(first);
  ASSERT_FALSE(b);
  EXPECT_EQ(b.error().code, ErrorCode::kInternal);
  EXPECT_EQ(b.error().message, "b failed");
  EXPECT_TRUE(c);
  EXPECT_EQ(writer_->commits(), before + 1);
  EXPECT_EQ(Committed(), (std::vector<std::string>{"c", "first"}));
}

// The savepoints' sub-journal is kept in memory (PRAGMA temp_store=MEMORY on the writer's
// connection: by default it spills to a temporary file past 64 KiB, a pwrite per page inside
// the turn). A batched part that changed far more than that and fails is still undone exactly,
// from the in-memory journal, and the pages it shared with the parts before it keep theirs.
TEST_F(WriterGroupCommitTest, LargeFailedPartIsUndoneFromTheInMemoryJournal) {
  Status first = Ok();
  Status b = Ok(), c = Ok();
  int64_t temp_store = -1;
  RunBatched(
      [&](Connection& conn) -> Status {
        DRIPR_ASSIGN_OR_RETURN(auto s, conn.Prepare("PRAGMA temp_store"));
        DRIPR_ASSIGN_OR_RETURN(bool row, s.Step());
        if (row) temp_store = s.Int(0);
        return InsertFirst(conn);
      },
      first,
      {[&] {
         b = writer_->InWriteTransaction("b", [&](Connection& conn) -> Status {
           // ~1 MiB over ~250 pages, and a rewrite of the page "first" is on.
           DRIPR_TRY(conn.Exec(
               "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 1000) "
               "INSERT INTO rows SELECT 'big-' || i || hex(zeroblob(500)), 1 FROM n"));
           DRIPR_TRY(conn.Exec("UPDATE rows SET who = 'changed' WHERE who = 'first'"));
           return Fail(ErrorCode::kInternal, "b failed");
         });
       },
       [&] { c = Insert("c"); }});
  EXPECT_EQ(temp_store, 2);  // MEMORY
  EXPECT_TRUE(first);
  ASSERT_FALSE(b);
  EXPECT_EQ(b.error().message, "b failed");
  EXPECT_TRUE(c);
  EXPECT_EQ(Committed(), (std::vector<std::string>{"c", "first"}));
}

TEST_F(WriterGroupCommitTest, FailedFirstPartLeavesTheBatchToTheOthers) {
  const uint64_t before = writer_->commits();
  Status first = Ok();
  Status b = Ok(), c = Ok();
  RunBatched(
      [](Connection& conn) -> Status {
        DRIPR_TRY(InsertFirst(conn));
        return Fail(ErrorCode::kFailedPrecondition, "first failed");
      },
      first, {[&] { b = Insert("b"); }, [&] { c = Insert("c"); }});
  ASSERT_FALSE(first);
  EXPECT_EQ(first.error().code, ErrorCode::kFailedPrecondition);
  EXPECT_TRUE(b);
  EXPECT_TRUE(c);
  EXPECT_EQ(writer_->commits(), before + 1);
  EXPECT_EQ(Committed(), (std::vector<std::string>{"b", "c"}));
}

TEST_F(WriterGroupCommitTest, CommitFailureIsEveryMembersResult) {
  const uint64_t before = writer_->commits();
  Status first = Ok();
  Status b = Ok(), c = Ok();
  bool b_pending_committed = true;
  RunBatched(InsertFirst, first,
             {[&] {
                // A carried acknowledgement is not committed by a COMMIT that failed.
                PendingInTransaction ack(writer_, InsertBAck);
                b = writer_->InWriteTransaction(
                    "b", [](Connection& conn) { return conn.Exec("SELECT 1"); },
                    Writer::Carry::kPending);
                b_pending_committed = ack.committed();
              },
              // Parent 2 does not exist: the deferred foreign key fails the batch's COMMIT.
              [&] { c = Insert("c", false, /*parent=*/2); }});
  const std::vector<std::pair<std::string, Status*>> members{
      {"first", &first}, {"b", &b}, {"c", &c}};
  for (const auto& [what, st] : members) {
    ASSERT_FALSE(*st) << what;
    EXPECT_EQ(st->error().code, ErrorCode::kInvalidArgument) << what;
    EXPECT_EQ(st->error().message.rfind(what + ": commit: ", 0), 0u) << st->error().message;
    EXPECT_NE(st->error().message.find("FOREIGN KEY"), std::string::npos) << st->error().message;
  }
  EXPECT_FALSE(b_pending_committed);
  EXPECT_EQ(writer_->commits(), before);
  EXPECT_TRUE(Committed().empty());  // nothing of any member is kept
  // The writer goes on.
  ASSERT_TRUE(Insert("after"));
  EXPECT_EQ(Committed(), std::vector<std::string>{"after"});
}

TEST_F(WriterGroupCommitTest, PendingIsCommittedOnlyAfterTheRealCommit) {
  const uint64_t before = writer_->commits();
  Status first = Ok();
  Status b = Ok(), c = Ok();
  std::atomic<PendingInTransaction*> b_ack{nullptr};
  bool b_ack_committed_during_c = true;
  bool b_ack_committed_after = false;
  RunBatched(InsertFirst, first, {[&] {
               std::latch b_in_part(1);
               // c joins the batch after b's part, so b finds it waiting and leaves the
               // transaction open for it.
               std::thread c_thread([&] {
                 b_in_part.wait();
                 c = writer_->InWriteTransaction("c", [&](Connection&) -> Status {
                   PendingInTransaction* ack = b_ack.load();
                   b_ack_committed_during_c = ack == nullptr || ack->committed();
                   return Ok();
                 });
               });
               PendingInTransaction ack(writer_, InsertBAck);
               b_ack = &ack;
               b = writer_->InWriteTransaction(
                   "b",
                   [&](Connection&) -> Status {
                     b_in_part.count_down();
                     EXPECT_TRUE(Eventually([&] { return writer_->waiting() == 1; }));
                     return Ok();
                   },
                   Writer::Carry::kPending);
               b_ack_committed_after = ack.committed();
               c_thread.join();
               b_ack = nullptr;
             }});
  EXPECT_TRUE(first);
  EXPECT_TRUE(b);
  EXPECT_TRUE(c);
  EXPECT_FALSE(b_ack_committed_during_c);  // b's part and its ack ran; no COMMIT yet
  EXPECT_TRUE(b_ack_committed_after);
  EXPECT_EQ(writer_->commits(), before + 1);
  EXPECT_EQ(Committed(), (std::vector<std::string>{"b-ack", "first"}));
}

TEST_F(WriterGroupCommitTest, AfterCommitRunsAfterTheBatchCommitInQueueOrder) {
  std::mutex mu;
  std::vector<std::string> ran;  // guarded by mu: "<who>:<n>:<rows committed then>"
  auto queue = [&](const std::string& who, int n) {
    writer_->AfterCommit([&, who, n] {
      const size_t rows = Committed().size();
      std::lock_guard lock(mu);
      ran.push_back(who + ":" + std::to_string(n) + ":" + std::to_string(rows));
    });
  };
  auto part = [&](const std::string& who, bool fail) {
    return writer_->InWriteTransaction(who, [&](Connection& c) -> Status {
      DRIPR_TRY(c.Exec("INSERT INTO rows VALUES ('" + who + "', 1)"));
      queue(who, 1);
      // A nested call's callbacks go with its savepoint.
      EXPECT_FALSE(writer_->InWriteTransaction("nested", [&](Connection&) -> Status {
        queue(who, 99);
        return Fail(ErrorCode::kInternal, "nested failed");
      }));
      queue(who, 2);
      if (fail) return Fail(ErrorCode::kInternal, who + " failed");
      return Ok();
    });
  };
  Status first = Ok();
  Status b = Ok(), c = Ok();
  RunBatched(
      [&](Connection& conn) -> Status {
        queue("first", 1);
        return InsertFirst(conn);
      },
      first, {[&] { b = part("b", false); }, [&] { c = part("c", true); }});
  EXPECT_TRUE(first);
  EXPECT_TRUE(b);
  EXPECT_FALSE(c);
  std::sort(ran.begin(), ran.end());  // threads interleave; each one's order is checked below
  // Every callback saw the whole batch committed (2 rows: first and b); c's never ran.
  EXPECT_EQ(ran, (std::vector<std::string>{"b:1:2", "b:2:2", "first:1:2"}));
}

TEST_F(WriterGroupCommitTest, BatchIsBounded) {
  writer_->SetMaxBatch(2);
  const uint64_t before = writer_->commits();
  Status first = Ok();
  Status b = Ok(), c = Ok(), d = Ok();
  RunBatched(InsertFirst, first,
             {[&] { b = Insert("b"); }, [&] { c = Insert("c"); }, [&] { d = Insert("d"); }});
  EXPECT_TRUE(first && b && c && d);
  EXPECT_EQ(writer_->commits(), before + 2);  // {first, x} then {y, z}
  EXPECT_EQ(Committed(), (std::vector<std::string>{"b", "c", "d", "first"}));
}

// The change watcher's check takes a turn between two parts of a batch without ending it.
// The combiner runs the next batches itself while callers are queued (it is running; a
// hand-off would wake a sleeping thread per batch), kTurnBatches batches in all, then hands
// the turn to the first caller still queued, which combines the rest on its own thread.
TEST_F(WriterGroupCommitTest, CombinerKeepsTheTurnForABoundedNumberOfBatches) {
  static_assert(Writer::kTurnBatches == 4, "the counts below assume 4 batches per turn");
  writer_->SetMaxBatch(1);  // one part per batch: each queued caller is a batch of its own
  const uint64_t before = writer_->commits();
  constexpr int kOthers = 5;
  std::mutex mu;
  std::vector<std::pair<std::thread::id, std::thread::id>> ran;  // (caller, part) threads
  std::vector<Status> results(kOthers, Ok());
  std::vector<std::function<void()>> others;
  for (int i = 0; i < kOthers; ++i) {
    others.push_back([&, i] {
      const auto caller = std::this_thread::get_id();
      const std::string who = "o" + std::to_string(i);
      results[i] = writer_->InWriteTransaction(who, [&](Connection& c) -> Status {
        std::lock_guard lock(mu);
        ran.emplace_back(caller, std::this_thread::get_id());
        return c.Exec("INSERT INTO rows VALUES ('" + who + "', 1)");
      });
    });
  }
  Status first = Ok();
  std::thread::id first_thread;
  RunBatched(
      [&](Connection& c) -> Status {
        first_thread = std::this_thread::get_id();
        return InsertFirst(c);
      },
      first, others);
  EXPECT_TRUE(first);
  for (const Status& r : results) EXPECT_TRUE(r);
  EXPECT_EQ(writer_->commits(), before + 1 + kOthers);  // a COMMIT per batch
  ASSERT_EQ(ran.size(), static_cast<size_t>(kOthers));
  // Queue order: the first three queued ran on the first caller's thread (its batches 2–4);
  // the fourth was handed the turn and ran its own part, then the fifth's.
  for (int i = 0; i < 3; ++i) EXPECT_EQ(ran[i].second, first_thread) << i;
  EXPECT_EQ(ran[3].second, ran[3].first);
  EXPECT_NE(ran[3].second, first_thread);
  EXPECT_EQ(ran[4].second, ran[3].first);
  EXPECT_EQ(Committed().size(), static_cast<size_t>(1 + kOthers));
}

TEST_F(WriterGroupCommitTest, OthersCommittedTakesATurnInsideABatch) {
  ASSERT_TRUE(writer_->OthersCommitted());  // the baseline
  const uint64_t before = writer_->commits();
  Status first = Ok();
  Status b = Ok();
  Result<bool> others = false;
  std::thread watcher;
  RunBatched(
      [&](Connection& conn) -> Status {
        watcher = std::thread([&] { others = writer_->OthersCommitted(); });
        EXPECT_TRUE(Eventually([&] { return writer_->waiting() == 2; }));  // b and the watcher
        return InsertFirst(conn);
      },
      first, {[&] { b = Insert("b"); }});
  watcher.join();
  EXPECT_TRUE(first);
  EXPECT_TRUE(b);
  ASSERT_TRUE(others);
  EXPECT_FALSE(*others);                      // only this writer's own commits
  EXPECT_EQ(writer_->commits(), before + 1);  // whoever took the last turn committed all
  EXPECT_EQ(Committed(), (std::vector<std::string>{"b", "first"}));
  EXPECT_TRUE(writer_->OthersCommitted());
}

// Another process's lock at BEGIN: the caller that began gets kUnavailable after the busy
// timeout, as without batching, and the writer works once the lock is gone.
TEST_F(WriterGroupCommitTest, BusyBeginFailsItsCallerOnly) {
  TempDir other_dir;
  const std::string path = other_dir.File("busy.db");
  auto created = CreateFileWithTableT(path);
  ASSERT_TRUE(created);
  auto w = Writer::For(path, milliseconds(50));
  ASSERT_TRUE(w);
  ASSERT_TRUE((*created)->Exec("BEGIN IMMEDIATE"));
  auto busy = (*w)->InWriteTransaction(
      "busy", [](Connection& c) { return c.Exec("INSERT INTO t VALUES (1)"); });
  ASSERT_FALSE(busy);
  EXPECT_EQ(busy.error().code, ErrorCode::kUnavailable);
  EXPECT_EQ(busy.error().message.rfind("busy: ", 0), 0u) << busy.error().message;
  ASSERT_TRUE((*created)->Exec("COMMIT"));
  EXPECT_TRUE((*w)->InWriteTransaction(
      "again", [](Connection& c) { return c.Exec("INSERT INTO t VALUES (2)"); }));
}

// The combiner runs a queued caller's part on its own thread: nested calls from that part are
// savepoints of the batch's transaction (their failure is their own), as on the caller's.
TEST_F(WriterGroupCommitTest, PartRunByTheCombinerSeesNestedCallsAsSavepoints) {
  const uint64_t before = writer_->commits();
  Status nested_failed = Ok(), nested_ok = Ok();
  uint64_t commits_inside = 0;
  const TwoCallers run = RunFirstAndB([&](Connection& c) -> Status {
    DRIPR_TRY(c.Exec("INSERT INTO rows VALUES ('b', 1)"));
    nested_failed = writer_->InWriteTransaction("nested", [](Connection& n) -> Status {
      DRIPR_TRY(n.Exec("INSERT INTO rows VALUES ('b-undone', 1)"));
      return Fail(ErrorCode::kNotFound, "nested failed");
    });
    nested_ok = writer_->InWriteTransaction(
        "nested", [](Connection& n) { return n.Exec("INSERT INTO rows VALUES ('b-kept', 1)"); });
    commits_inside = writer_->commits();
    return Ok();
  });
  EXPECT_EQ(run.b_part_thread, run.first_thread);  // run by the combiner, not b's thread
  EXPECT_NE(run.b_part_thread, run.b_thread);
  EXPECT_TRUE(run.first);
  EXPECT_TRUE(run.b);
  ASSERT_FALSE(nested_failed);
  EXPECT_EQ(nested_failed.error().code, ErrorCode::kNotFound);
  EXPECT_EQ(nested_failed.error().message, "nested failed");
  EXPECT_TRUE(nested_ok);
  EXPECT_EQ(commits_inside, before);  // the nested calls committed nothing of their own
  EXPECT_EQ(writer_->commits(), before + 1);
  EXPECT_EQ(Committed(), (std::vector<std::string>{"b", "b-kept", "first"}));
}

// AfterCommit callbacks queued by a part the combiner ran run on the part's caller's thread,
// after the COMMIT.
TEST_F(WriterGroupCommitTest, AfterCommitRunsOnTheCallersThread) {
  std::thread::id callback_thread;
  size_t rows_seen_by_callback = 0;
  const TwoCallers run = RunFirstAndB([&](Connection& c) -> Status {
    writer_->AfterCommit([&] {
      callback_thread = std::this_thread::get_id();
      rows_seen_by_callback = Committed().size();
    });
    return c.Exec("INSERT INTO rows VALUES ('b', 1)");
  });
  EXPECT_TRUE(run.first);
  EXPECT_TRUE(run.b);
  EXPECT_EQ(run.b_part_thread, run.first_thread);
  EXPECT_EQ(callback_thread, run.b_thread);
  EXPECT_EQ(rows_seen_by_callback, 2u);
}

// A part that fails in a combined batch returns its own error while the batch goes on: its
// caller does not wait for the COMMIT, its callbacks never run, its pending work is undone.
TEST_F(WriterGroupCommitTest, FailedPartReturnsBeforeTheBatchCommits) {
  const uint64_t before = writer_->commits();
  Status first = Ok();
  Status b = Ok(), c = Ok();
  std::atomic<bool> b_returned{false};
  bool b_returned_during_c = false;
  bool b_callback_ran = false;
  bool b_pending_committed = true;
  RunBatched(InsertFirst, first,
             {[&] {
                PendingInTransaction ack(writer_, InsertBAck);
                b = writer_->InWriteTransaction(
                    "b",
                    [&](Connection& conn) -> Status {
                      writer_->AfterCommit([&] { b_callback_ran = true; });
                      DRIPR_TRY(conn.Exec("INSERT INTO rows VALUES ('b', 1)"));
                      return Fail(ErrorCode::kFailedPrecondition, "b failed");
                    },
                    Writer::Carry::kPending);
                b_pending_committed = ack.committed();
                b_returned = true;
              },
              [&] {
                // Queued after b (RunBatched starts b first only: c waits for b to queue).
                EXPECT_TRUE(Eventually([&] { return writer_->waiting() >= 1; }));
                c = writer_->InWriteTransaction("c", [&](Connection& conn) -> Status {
                  // The combiner runs c after b; b's caller has its result already.
                  b_returned_during_c = Eventually([&] { return b_returned.load(); });
                  return conn.Exec("INSERT INTO rows VALUES ('c', 1)");
                });
              }});
  EXPECT_TRUE(first);
  ASSERT_FALSE(b);
  EXPECT_EQ(b.error().code, ErrorCode::kFailedPrecondition);
  EXPECT_EQ(b.error().message, "b failed");
  EXPECT_TRUE(c);
  EXPECT_TRUE(b_returned_during_c);
  EXPECT_FALSE(b_callback_ran);
  EXPECT_FALSE(b_pending_committed);
  EXPECT_EQ(writer_->commits(), before + 1);
  EXPECT_EQ(Committed(), (std::vector<std::string>{"c", "first"}));
}

// A combined batch whose COMMIT fails gives every member the COMMIT's error and runs none of
// their callbacks; the callers still queued form the next batch, which commits.
TEST_F(WriterGroupCommitTest, CombinedBatchWhoseCommitFails) {
  writer_->SetMaxBatch(2);
  const uint64_t before = writer_->commits();
  Status first = Ok();
  Status b = Ok(), c = Ok(), d = Ok();
  std::atomic<int> callbacks{0};
  auto insert = [&](const std::string& who, int parent) {
    return writer_->InWriteTransaction(who, [&, who, parent](Connection& conn) -> Status {
      writer_->AfterCommit([&] { ++callbacks; });
      return conn.Exec("INSERT INTO rows VALUES ('" + who + "', " + std::to_string(parent) + ")");
    });
  };
  std::latch b_queued(1);
  RunBatched(InsertFirst, first,
             {[&] {
                // Parent 2 does not exist: the COMMIT of the batch {first, b} fails.
                std::thread waits_for_b([&] {
                  EXPECT_TRUE(Eventually([&] { return writer_->waiting() >= 1; }));
                  b_queued.count_down();
                });
                b = insert("b", 2);
                waits_for_b.join();
              },
              [&] {
                b_queued.wait();
                c = insert("c", 1);
              },
              [&] {
                b_queued.wait();
                d = insert("d", 1);
              }});
  ASSERT_FALSE(first);
  EXPECT_EQ(first.error().message.rfind("first: commit: ", 0), 0u) << first.error().message;
  ASSERT_FALSE(b);
  EXPECT_EQ(b.error().code, ErrorCode::kInvalidArgument);
  EXPECT_EQ(b.error().message.rfind("b: commit: ", 0), 0u) << b.error().message;
  EXPECT_TRUE(c);
  EXPECT_TRUE(d);
  EXPECT_EQ(callbacks.load(), 2);             // c's and d's only
  EXPECT_EQ(writer_->commits(), before + 1);  // {c, d}
  EXPECT_EQ(Committed(), (std::vector<std::string>{"c", "d"}));
}

// The opt-out: a caller inside another writer's transaction runs its part on its own thread
// and commits at once, not as a member of a batch.
TEST_F(WriterGroupCommitTest, CallerInsideAnotherWritersTransactionRunsAlone) {
  TempDir other_dir;
  const std::string other_path = other_dir.File("other.db");
  ASSERT_TRUE(CreateFileWithTableT(other_path));
  auto other = Writer::For(other_path, seconds(5));
  ASSERT_TRUE(other);
  const uint64_t before = writer_->commits();
  std::latch in_part(1);
  Status first = Ok(), b = Ok(), x = Ok(), x_inner = Ok();
  std::thread::id first_thread, x_thread, x_part_thread;
  std::vector<std::string> seen_inside_other;  // committed when x's inner call returned
  std::thread first_caller([&] {
    first = writer_->InWriteTransaction("first", [&](Connection& c) -> Status {
      first_thread = std::this_thread::get_id();
      in_part.count_down();
      EXPECT_TRUE(Eventually([&] { return writer_->waiting() == 2; }));
      return InsertFirst(c);
    });
  });
  in_part.wait();
  std::thread b_caller([&] { b = Insert("b"); });
  ASSERT_TRUE(Eventually([&] { return writer_->waiting() == 1; }));
  std::thread x_caller([&] {
    x_thread = std::this_thread::get_id();
    x = (*other)->InWriteTransaction("x outer", [&](Connection& oc) -> Status {
      DRIPR_TRY(oc.Exec("INSERT INTO t VALUES (1)"));
      x_inner = writer_->InWriteTransaction("x", [&](Connection& c) -> Status {
        x_part_thread = std::this_thread::get_id();
        return c.Exec("INSERT INTO rows VALUES ('x', 1)");
      });
      seen_inside_other = Committed();
      return x_inner;
    });
  });
  first_caller.join();
  b_caller.join();
  x_caller.join();
  EXPECT_TRUE(first);
  EXPECT_TRUE(b);
  EXPECT_TRUE(x_inner);
  EXPECT_TRUE(x);
  EXPECT_EQ(x_part_thread, x_thread);
  EXPECT_NE(x_part_thread, first_thread);
  EXPECT_EQ(seen_inside_other, (std::vector<std::string>{"b", "first", "x"}));
  EXPECT_EQ(writer_->commits(), before + 2);  // {first, b} and {x}
  auto reader = Connection::Open(other_path, {});
  ASSERT_TRUE(reader);
  auto count = (*reader)->Prepare("SELECT count(*) FROM t");
  ASSERT_TRUE(count);
  ASSERT_TRUE(count->Step());
  EXPECT_EQ(count->Int(0), 1);
}

}  // namespace
}  // namespace dripr::testing
