#pragma once
// The WAL checkpoint beside the one writer (docs/decisions/store.md, "The checkpoint off the
// writer's turn"): the process's writer connection does not auto-checkpoint (its WAL hook is
// Writer's own); when its WAL has grown by kThresholdFrames since the last request, the writer
// asks a Checkpointer, which runs a PASSIVE checkpoint on a connection of its own, on a thread
// of its own, while the writer goes on committing. Other connections and processes keep
// SQLite's default auto-checkpoint.
//
// Thread-safe. The thread starts at the first Request and is stopped and joined by the
// destructor. A forked child must not destroy its parent's Checkpointer (its thread does not
// exist there): started_by_other_process() says so, and Writer leaks it in that case.

#include <sqlite3.h>
#include <sys/types.h>

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>

#include "dripr/sqlite/db.h"

namespace dripr::sqlite {

class Checkpointer {
 public:
  // SQLite's own auto-checkpoint threshold (SQLITE_DEFAULT_WAL_AUTOCHECKPOINT), in WAL frames.
  static constexpr int kThresholdFrames = 1000;

  explicit Checkpointer(std::string path) : path_(std::move(path)) {}
  ~Checkpointer();
  Checkpointer(const Checkpointer&) = delete;
  Checkpointer& operator=(const Checkpointer&) = delete;

  // Asks for one PASSIVE checkpoint (requests while one runs fold into one more pass); starts
  // the thread the first time. Never waits for a checkpoint.
  void Request();

  // One PASSIVE checkpoint on `db` now, on the calling thread (the writer's own connection, in
  // its turn), counted and logged like the thread's: waits for the thread's pass in progress
  // to end, and pauses the thread until Resume, so that nothing holds the WAL's read locks
  // when the writer's next transaction restarts the WAL.
  void RunHere(sqlite3* db);
  // Lets the thread run passes again (after RunHere; the writer's next commit).
  void Resume();

  // Whether the thread was started by another process (this object was inherited by fork()).
  bool started_by_other_process() const;

  // A request runs passes until one finds no frame added since the previous one began (the
  // WAL is then wholly in the file, so the writer's next transaction restarts it), at most
  // kMaxPasses; fewer when a pass fails or a reader keeps frames from being copied.
  static constexpr int kMaxPasses = 8;

  // Checkpoint passes run to the end (SQLITE_OK) by the thread, requests that ended caught up,
  // checkpoints run on the caller's thread (RunHere), and failures (SQLITE_BUSY included).
  // For tests and measurements.
  struct Stats {
    uint64_t background = 0;
    uint64_t caught_up = 0;
    uint64_t in_turn = 0;
    uint64_t failures = 0;
  };
  Stats stats() const;

  // The checkpoint thread's nice value above its starter's (a lower priority).
  static constexpr int kNice = 10;

 private:
  void Loop();
  static void LowerPriority();
  // The passes of one request (kMaxPasses).
  void CatchUp(sqlite3* db);
  // Runs one PASSIVE checkpoint on `db` and records its outcome: the WAL's frames when it
  // began if it copied all of them, else nullopt (failed, or a reader still needs some).
  std::optional<int> Pass(sqlite3* db, bool background);
  void NoteFailure(std::string_view what);

  const std::string path_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool requested_ = false;           // guarded by mu_
  bool stop_ = false;                // guarded by mu_
  bool paused_ = false;              // guarded by mu_; RunHere until Resume
  bool running_ = false;             // guarded by mu_; the thread runs passes
  std::condition_variable idle_cv_;  // running_ became false
  pid_t owner_ = 0;                  // guarded by mu_; the process that started the thread
  std::thread thread_;               // guarded by mu_ (started once)
  std::atomic<uint64_t> background_{0};
  std::atomic<uint64_t> caught_up_{0};
  std::atomic<uint64_t> in_turn_{0};
  std::atomic<uint64_t> failures_{0};
  std::atomic<bool> logged_{false};  // a failure other than SQLITE_BUSY was logged
};

}  // namespace dripr::sqlite
