#include "dripr/sqlite/change_watcher.h"

#include <poll.h>
#include <sys/eventfd.h>
#include <sys/inotify.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>

#include "dripr/core/log.h"

namespace dripr::sqlite {

namespace {

constexpr int kConfirmIntervalMicros = 500;
constexpr int kConfirmAttempts = 20;  // 10 ms

struct Registry {
  std::mutex mu;
  pid_t pid = 0;
  std::map<std::string, std::weak_ptr<ChangeWatcher>> watchers;  // guarded by mu
};

Registry& TheRegistry() {
  static Registry* r = new Registry();
  return *r;
}

}  // namespace

Result<std::shared_ptr<ChangeWatcher>> ChangeWatcher::For(const std::string& raw_path) {
  const std::string path = AbsolutePath(raw_path);
  Registry& r = TheRegistry();
  std::lock_guard lock(r.mu);
  if (r.pid != ::getpid()) {
    r.watchers.clear();  // a forked child: the parent's thread does not exist here
    r.pid = ::getpid();
  }
  auto it = r.watchers.find(path);
  if (it != r.watchers.end()) {
    if (auto w = it->second.lock()) return w;
  }
  DRIPR_ASSIGN_OR_RETURN(auto conn, Connection::Open(path, ConnectionOptions{.create = false}));
  const int ifd = ::inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
  if (ifd < 0) {
    return Fail(ErrorCode::kUnavailable, std::string("inotify_init1: ") + std::strerror(errno));
  }
  const std::string dir = std::filesystem::path(path).parent_path().string();
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
  auto w = std::make_shared<ChangeWatcher>(path, std::move(conn), ifd, sfd);
  r.watchers[path] = w;
  return w;
}

ChangeWatcher::ChangeWatcher(std::string path, std::unique_ptr<Connection> conn, int inotify_fd,
                             int stop_fd)
    : path_(std::move(path)),
      wal_name_(std::filesystem::path(path_).filename().string() + "-wal"),
      conn_(std::move(conn)),
      inotify_fd_(inotify_fd),
      stop_fd_(stop_fd) {
  (void)Changed();  // the baseline
  thread_ = std::thread([this] { Run(); });
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

bool ChangeWatcher::Changed() {
  auto s = conn_->Prepare("PRAGMA data_version");
  if (!s) return false;
  auto row = s->Step();
  if (!row || !*row) return false;
  const int64_t v = s->Int(0);
  const bool changed = last_version_ >= 0 && v != last_version_;
  last_version_ = v;
  return changed;
}

void ChangeWatcher::CallListeners() {
  changes_.fetch_add(1);
  std::lock_guard lock(listeners_mu_);
  for (auto& [id, fn] : listeners_) fn();
}

void ChangeWatcher::Run() {
  alignas(inotify_event) char buf[4096];
  pollfd fds[2] = {{inotify_fd_, POLLIN, 0}, {stop_fd_, POLLIN, 0}};
  while (true) {
    fds[0].revents = fds[1].revents = 0;
    if (::poll(fds, 2, -1) < 0) {
      if (errno == EINTR) continue;
      DRIPR_LOG_WARN("change watcher on {}: poll failed: {}", path_, std::strerror(errno));
      return;
    }
    if (fds[1].revents != 0) return;
    bool ours = false;
    while (true) {
      const ssize_t n = ::read(inotify_fd_, buf, sizeof buf);
      if (n <= 0) break;
      for (ssize_t off = 0; off < n;) {
        const auto* ev = reinterpret_cast<const inotify_event*>(buf + off);
        if ((ev->mask & IN_Q_OVERFLOW) != 0) ours = true;
        if (ev->len > 0 && wal_name_ == ev->name) ours = true;
        off += static_cast<ssize_t>(sizeof(inotify_event) + ev->len);
      }
    }
    if (!ours) continue;
    // The WAL write may come just before the commit is published in the WAL index.
    for (int attempt = 0; attempt < kConfirmAttempts; ++attempt) {
      if (Changed()) {
        CallListeners();
        break;
      }
      pollfd stop{stop_fd_, POLLIN, 0};
      if (::poll(&stop, 1, 0) > 0) return;
      ::usleep(kConfirmIntervalMicros);
    }
  }
}

}  // namespace dripr::sqlite
