#include "dripr/sqlite/change_watcher.h"

#include <poll.h>
#include <sys/eventfd.h>
#include <sys/inotify.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>

#include "dripr/core/log.h"
#include "dripr/core/thread_name.h"

namespace dripr::sqlite {

namespace {

using std::chrono::microseconds;
using Steady = std::chrono::steady_clock;

// An event no own commit explains: re-checked every 0.5 ms for up to 10 ms, then 2, 8, 32
// and 128 ms later (a committer preempted between its WAL write and the WAL index update on
// a loaded machine: ~180 ms in all before the fallback poll is left to find it).
constexpr microseconds kConfirmInterval{500};
constexpr int kConfirmAttempts = 24;
constexpr int kSlowConfirms = 4;  // the last attempts, spaced x4 each

microseconds ConfirmInterval(int rechecks_left) {
  if (rechecks_left > kSlowConfirms) return kConfirmInterval;
  return kConfirmInterval * (1 << (2 * (kSlowConfirms + 1 - rechecks_left)));
}

// An event an own commit explains: checked once more this much later; while every check finds
// own commits again, each next one twice as late, up to kAfterOwnCommitsMost (a busy process's
// watcher woke every 2 ms, 2.3 context switches and a writer turn per B2PG campaign:
// docs/decisions/bus.md, "The watcher under the process's own load").
constexpr microseconds kAfterOwnCommit{2000};
constexpr microseconds kAfterOwnCommitsMost{8000};

struct WatcherRegistry {
  std::mutex mu;
  pid_t pid = 0;
  std::map<Writer*, std::weak_ptr<ChangeWatcher>> watchers;  // guarded by mu
};

WatcherRegistry& TheWatcherRegistry() {
  static WatcherRegistry* r = new WatcherRegistry();
  return *r;
}

}  // namespace

Result<std::shared_ptr<ChangeWatcher>> ChangeWatcher::For(std::shared_ptr<Writer> writer) {
  WatcherRegistry& r = TheWatcherRegistry();
  std::lock_guard lock(r.mu);
  if (r.pid != ::getpid()) {
    r.watchers.clear();  // a forked child: the parent's thread does not exist here
    r.pid = ::getpid();
  }
  std::erase_if(r.watchers, [](const auto& e) { return e.second.expired(); });
  auto it = r.watchers.find(writer.get());
  if (it != r.watchers.end()) {
    if (auto w = it->second.lock()) return w;
  }
  const int ifd = ::inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
  if (ifd < 0) {
    return Fail(ErrorCode::kUnavailable, std::string("inotify_init1: ") + std::strerror(errno));
  }
  const std::string dir = std::filesystem::path(writer->path()).parent_path().string();
  if (::inotify_add_watch(ifd, dir.c_str(), IN_MODIFY | IN_CREATE) < 0) {
    const int err = errno;
    ::close(ifd);
    return Fail(ErrorCode::kUnavailable,
                "inotify_add_watch " + dir + ": " + std::string(std::strerror(err)));
  }
  const int sfd = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (sfd < 0) {
    ::close(ifd);
    return Fail(ErrorCode::kUnavailable, std::string("eventfd: ") + std::strerror(errno));
  }
  Writer* key = writer.get();
  auto w = std::make_shared<ChangeWatcher>(std::move(writer), ifd, sfd);
  r.watchers[key] = w;
  return w;
}

ChangeWatcher::ChangeWatcher(std::shared_ptr<Writer> writer, int inotify_fd, int stop_fd)
    : writer_(std::move(writer)),
      wal_name_(std::filesystem::path(writer_->path()).filename().string() + "-wal"),
      inotify_fd_(inotify_fd),
      stop_fd_(stop_fd) {
  (void)writer_->OthersCommitted();  // the baseline
  thread_ = std::thread([this] {
    NameThisThread("db-watcher");
    Run();
  });
}

ChangeWatcher::~ChangeWatcher() {
  const uint64_t one = 1;
  (void)!::write(stop_fd_, &one, sizeof one);
  if (thread_.joinable()) thread_.join();
  ::close(inotify_fd_);
  ::close(stop_fd_);
}

uint64_t ChangeWatcher::Add(Listener fn) {
  std::lock_guard lock(listeners_mu_);
  const uint64_t id = next_id_++;
  listeners_.emplace(id, std::move(fn));
  return id;
}

void ChangeWatcher::Remove(uint64_t id) {
  std::lock_guard lock(listeners_mu_);
  listeners_.erase(id);
}

void ChangeWatcher::CallListeners() {
  changes_.fetch_add(1);
  std::lock_guard lock(listeners_mu_);
  for (auto& [id, fn] : listeners_) fn();
}

bool ChangeWatcher::WalWritten() {
  alignas(inotify_event) char buf[4096];
  bool wal = false;
  while (true) {
    const ssize_t n = ::read(inotify_fd_, buf, sizeof buf);
    if (n <= 0) break;
    for (ssize_t off = 0; off < n;) {
      const auto* ev = reinterpret_cast<const inotify_event*>(buf + off);
      if ((ev->mask & IN_Q_OVERFLOW) != 0) wal = true;
      if (ev->len > 0 && wal_name_ == ev->name) wal = true;
      off += static_cast<ssize_t>(sizeof(inotify_event) + ev->len);
    }
  }
  return wal;
}

void ChangeWatcher::Run() {
  pollfd fds[2] = {{stop_fd_, POLLIN, 0}, {inotify_fd_, POLLIN, 0}};
  constexpr auto kNever = Steady::time_point::max();
  Steady::time_point recheck = kNever;  // when to look again without an event
  int rechecks_left = 0;
  uint64_t seen_commits = writer_->commits();
  bool warned = false;
  // The pending re-check follows own commits: the WAL's events wait for it.
  bool own_quiet = false;
  microseconds own_wait = kAfterOwnCommit;  // the next own-commit re-check's delay
  while (true) {
    timespec timeout{};
    const bool timed = recheck != kNever;
    if (timed) {
      const auto left =
          std::max<Steady::duration>(Steady::duration::zero(), recheck - Steady::now());
      const auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(left).count();
      timeout.tv_sec = static_cast<time_t>(ns / 1'000'000'000);
      timeout.tv_nsec = static_cast<long>(ns % 1'000'000'000);
    }
    fds[0].revents = fds[1].revents = 0;
    // While an own-commit re-check or a fast confirm (due within kAfterOwnCommit) is pending,
    // the WAL's events wait for it (they stay queued): under load, when this process commits
    // every fraction of a millisecond, the thread wakes once per re-check instead of once per
    // WAL write, each with a turn at the writer. A slow confirm (up to 128 ms away) still
    // listens: another process's commit then must not wait for it.
    const bool listen = !timed || (!own_quiet && recheck - Steady::now() > kAfterOwnCommit);
    if (::ppoll(fds, listen ? 2 : 1, timed ? &timeout : nullptr, nullptr) < 0) {
      if (errno == EINTR) continue;
      DRIPR_LOG_WARN("change watcher on {}: poll failed: {}", writer_->path(),
                     std::strerror(errno));
      return;
    }
    if (fds[0].revents != 0) return;
    const auto now = Steady::now();
    const bool wal_ready = listen && fds[1].revents != 0;
    if (timed && now < recheck && !wal_ready) continue;  // woken early: nothing to do yet
    wakeups_.fetch_add(1, std::memory_order_relaxed);
    const bool event = WalWritten();
    if (!event && !timed) continue;  // another file in the directory
    // Takes a turn at the writer: an own COMMIT in progress is counted by then (a batch still
    // open has written nothing to the WAL yet; its COMMIT brings an event of its own).
    auto others = writer_->OthersCommitted();
    const uint64_t commits = writer_->commits();
    const bool own = commits != seen_commits;
    seen_commits = commits;
    if (!others) {
      if (!warned) {
        DRIPR_LOG_WARN("change watcher on {}: {} (the periodic check stays)", writer_->path(),
                       others.error().ToString());
      }
      warned = true;
      recheck = kNever;
      rechecks_left = 0;
      own_quiet = false;
      own_wait = kAfterOwnCommit;
      continue;
    }
    warned = false;
    const bool own_only = !*others && event && own;
    own_quiet = own_only;
    if (!own_only) own_wait = kAfterOwnCommit;
    if (*others) {
      CallListeners();
      recheck = kNever;
      rechecks_left = 0;
    } else if (event && !own) {
      // Most likely another connection's commit not yet published in the WAL index.
      recheck = now + kConfirmInterval;
      rechecks_left = kConfirmAttempts;
    } else if (event) {
      // Our own commits; another connection's may have followed them in the same events. (An
      // event no own commit explained was most likely one of ours not yet counted then; a
      // foreign commit published since shows in data_version at any later check.) Confirms
      // still due for an earlier unexplained event go on after this check.
      recheck = now + own_wait;
      own_wait = std::min(own_wait * 2, kAfterOwnCommitsMost);
      rechecks_left = std::max(rechecks_left, 1);
    } else if (--rechecks_left > 0) {
      recheck = now + ConfirmInterval(rechecks_left);
    } else {
      recheck = kNever;
    }
  }
}

OthersCommitsSubscription::~OthersCommitsSubscription() {
  if (watcher_) watcher_->Remove(id_);
}

void OthersCommitsSubscription::StartOnce(const std::shared_ptr<Writer>& writer,
                                          std::string_view who, std::string_view what,
                                          std::chrono::milliseconds fallback,
                                          ChangeWatcher::Listener fn) {
  std::call_once(once_, [&] {
    auto w = ChangeWatcher::For(writer);
    if (!w) {
      DRIPR_LOG_WARN("{}: no instant wake-up for other processes' {} ({}); checking every {} ms",
                     who, what, w.error().ToString(), fallback.count());
      return;
    }
    watcher_ = std::move(*w);
    id_ = watcher_->Add(std::move(fn));
  });
}

}  // namespace dripr::sqlite
