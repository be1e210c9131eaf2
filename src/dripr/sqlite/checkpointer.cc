#include "dripr/sqlite/checkpointer.h"

#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

#include "dripr/core/log.h"
#include "dripr/core/thread_name.h"

namespace dripr::sqlite {

Checkpointer::~Checkpointer() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  cv_.notify_one();
  if (thread_.joinable()) thread_.join();
}

void Checkpointer::Request() {
  {
    std::lock_guard lock(mu_);
    requested_ = true;
    if (!thread_.joinable() && !stop_) {
      owner_ = ::getpid();
      thread_ = std::thread([this] {
        NameThisThread("checkpointer");
        LowerPriority();
        Loop();
      });
    }
  }
  cv_.notify_one();
}

// Background work: kNice more than the thread that started it (at most 19; Linux keeps a nice
// value per thread), so that under a full CPU the writer's turn, which every caller waits
// for, runs before the copy of pages into the database file (docs/decisions/performance.md,
// "Stop 18"). Raising one's own nice value needs no privilege; a failure changes nothing but
// the priority.
void Checkpointer::LowerPriority() {
  const auto tid = static_cast<id_t>(::gettid());
  errno = 0;
  const int now = ::getpriority(PRIO_PROCESS, tid);
  if (errno == 0 && ::setpriority(PRIO_PROCESS, tid, std::min(19, now + kNice)) == 0) return;
  DRIPR_LOG_DEBUG("checkpointer: could not lower its priority (errno {})", errno);
}

bool Checkpointer::started_by_other_process() const {
  // owner_ is written once, under mu_, before the thread exists; a child reads its copy. No
  // lock: a child must not take a mutex its parent's thread may have held at fork().
  return owner_ != 0 && owner_ != ::getpid();
}

Checkpointer::Stats Checkpointer::stats() const {
  return Stats{.background = background_.load(),
               .caught_up = caught_up_.load(),
               .in_turn = in_turn_.load(),
               .failures = failures_.load()};
}

void Checkpointer::RunHere(sqlite3* db) {
  {
    std::unique_lock lock(mu_);
    paused_ = true;
    idle_cv_.wait(lock, [&] { return !running_; });
  }
  (void)Pass(db, /*background=*/false);
}

void Checkpointer::Resume() {
  {
    std::lock_guard lock(mu_);
    paused_ = false;
  }
  cv_.notify_one();
}

void Checkpointer::Loop() {
  std::unique_ptr<Connection> conn;  // opened at the first pass, on this thread, kept
  std::unique_lock lock(mu_);
  while (true) {
    cv_.wait(lock, [&] { return stop_ || (requested_ && !paused_); });
    if (stop_) return;
    requested_ = false;
    running_ = true;
    lock.unlock();
    if (!conn) {
      // No create: the writer opened the file. A failure is retried at the next request.
      auto opened = Connection::Open(path_, ConnectionOptions{.create = false});
      if (opened) {
        conn = std::move(*opened);
      } else {
        failures_.fetch_add(1);
        NoteFailure(opened.error().message);
      }
    }
    if (conn) CatchUp(conn->raw());
    lock.lock();
    running_ = false;
    idle_cv_.notify_all();
  }
}

void Checkpointer::CatchUp(sqlite3* db) {
  // Under a stream of commits each pass copies what was added during the one before (a few
  // frames, so it is quick); one that finds nothing new means no commit came in between.
  int previous = -1;
  for (int pass = 0; pass < kMaxPasses; ++pass) {
    if (pass > 0) {
      std::lock_guard lock(mu_);
      if (paused_ || stop_) return;  // the writer checkpoints itself, or is going away
    }
    const std::optional<int> frames = Pass(db, /*background=*/true);
    if (!frames) return;
    if (*frames == previous) {
      caught_up_.fetch_add(1);
      return;
    }
    previous = *frames;
  }
}

std::optional<int> Checkpointer::Pass(sqlite3* db, bool background) {
  int frames = 0;
  int backfilled = 0;
  const int rc =
      sqlite3_wal_checkpoint_v2(db, nullptr, SQLITE_CHECKPOINT_PASSIVE, &frames, &backfilled);
  if (rc != SQLITE_OK) {
    failures_.fetch_add(1);
    // SQLITE_BUSY: another connection (another process's auto-checkpoint) is checkpointing;
    // normal, the next request retries.
    if ((rc & 0xFF) != SQLITE_BUSY) NoteFailure(ToError(rc, db, "checkpoint").message);
    return std::nullopt;
  }
  (background ? background_ : in_turn_).fetch_add(1);
  if (frames != backfilled) return std::nullopt;
  return frames;
}

void Checkpointer::NoteFailure(std::string_view what) {
  // Once per writer: a disk that fails every checkpoint would otherwise log at every
  // request; the commits themselves report their own errors.
  if (logged_.exchange(true)) return;
  DRIPR_LOG_WARN("sqlite {}: WAL checkpoint failed (retried at the next one; logged once): {}",
                 path_, what);
}

}  // namespace dripr::sqlite
