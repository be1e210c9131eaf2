// B1's floor in `make bench` (docs/benchmarks.md): what this machine itself adds to a pickup.
// The same hand-offs as the fetcher's path from another process's commit to a handler start,
// with no work in them: a process appends to a file (the CLI's commit to the WAL); a watcher
// thread blocked in inotify wakes (the change watcher) and hands the line to a second thread
// (the outbox relay), which hands it to a third (the queue's receive loop), which hands it to
// a fourth (the worker that runs the handler); the fourth stamps the time. Each hand-off is a
// mutex + condition variable, as in dripr. So its latency is four thread wake-ups and
// nothing else: on a VM whose vCPUs wake late or stall, it shows that tail on its own.
//
//   wake_chain --watch FILE --count N   # prints `WOKE <seq> <epoch µs>` per line appended
//   wake_chain --poke FILE --seq K      # appends "K\n", prints `POKED <K> <epoch µs>` after
//
// The watcher prints `READY` once its watch is set, and exits 0 after N lines. Bad arguments
// exit 2, a file or inotify error exits 1. Standard library and Linux calls only.
#include <fcntl.h>
#include <sys/inotify.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstring>
#include <deque>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>

#include "bench_args.h"

namespace {

constexpr std::string_view kUsage =
    "usage: wake_chain --watch FILE --count N\n"
    "       wake_chain --poke FILE --seq K\n";

long long EpochMicros() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

int Fail(const char* what) {
  std::fprintf(stderr, "wake_chain: %s: %s\n", what, std::strerror(errno));
  return 1;
}

// One hand-off: a queue of sequence numbers guarded by a mutex, its taker woken by a
// condition variable. nullopt is the end.
class Handoff {
 public:
  void Put(std::optional<int> seq) {
    {
      std::lock_guard lock(mu_);
      items_.push_back(seq);
    }
    cv_.notify_one();
  }
  std::optional<int> Take() {
    std::unique_lock lock(mu_);
    cv_.wait(lock, [&] { return !items_.empty(); });
    std::optional<int> seq = items_.front();
    items_.pop_front();
    return seq;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::optional<int>> items_;
};

int Poke(const std::string& path, int seq) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_APPEND | O_CLOEXEC);
  if (fd < 0) return Fail("open");
  const std::string line = std::to_string(seq) + "\n";
  if (::write(fd, line.data(), line.size()) != static_cast<ssize_t>(line.size())) {
    const int rc = Fail("write");
    ::close(fd);
    return rc;
  }
  const long long poked = EpochMicros();
  ::close(fd);
  std::printf("POKED %d %lld\n", seq, poked);
  return 0;
}

int Watch(const std::string& path, int count) {
  const int file = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (file < 0) return Fail("open");
  const int in = ::inotify_init1(IN_CLOEXEC);
  if (in < 0) return Fail("inotify_init1");
  if (::inotify_add_watch(in, path.c_str(), IN_MODIFY) < 0) return Fail("inotify_add_watch");
  Handoff to_relay, to_loop, to_worker;
  std::thread relay([&] {
    for (std::optional<int> s; (s = to_relay.Take());) to_loop.Put(s);
    to_loop.Put(std::nullopt);
  });
  std::thread loop([&] {
    for (std::optional<int> s; (s = to_loop.Take());) to_worker.Put(s);
    to_worker.Put(std::nullopt);
  });
  std::thread worker([&] {
    for (std::optional<int> s; (s = to_worker.Take());) {
      std::printf("WOKE %d %lld\n", *s, EpochMicros());
      std::fflush(stdout);
    }
  });
  std::printf("READY\n");
  std::fflush(stdout);
  int rc = 0, seen = 0;
  std::string pending;
  char events[4096];
  char data[4096];
  while (seen < count) {
    if (::read(in, events, sizeof events) < 0 && errno != EINTR) {
      rc = Fail("read inotify");
      break;
    }
    for (ssize_t n; (n = ::read(file, data, sizeof data)) > 0;) pending.append(data, n);
    for (size_t nl; (nl = pending.find('\n')) != std::string::npos; pending.erase(0, nl + 1)) {
      const std::optional<int> seq =
          bench::ParseInt(std::string_view(pending).substr(0, nl), 0, 1000000);
      if (!seq) {
        std::fprintf(stderr, "wake_chain: not a sequence number in %s\n", path.c_str());
        rc = 1;
        seen = count;
        break;
      }
      to_relay.Put(seq);
      ++seen;
    }
  }
  to_relay.Put(std::nullopt);
  relay.join();
  loop.join();
  worker.join();
  ::close(in);
  ::close(file);
  return rc;
}

}  // namespace

int main(int argc, char** argv) {
  std::string watch, poke;
  int count = 0, seq = -1;
  bench::Args args;
  args.Text("--watch", &watch);
  args.Text("--poke", &poke);
  args.Int("--count", &count, 1, 1000000);
  args.Int("--seq", &seq, 0, 1000000);
  std::string why = args.Parse(argc, argv);
  if (why.empty() && watch.empty() == poke.empty()) why = "give one of --watch FILE, --poke FILE";
  if (why.empty() && !watch.empty() && count == 0) why = "--watch needs --count";
  if (why.empty() && !poke.empty() && seq < 0) why = "--poke needs --seq";
  if (!why.empty()) return bench::UsageError("wake_chain", why, kUsage);
  return watch.empty() ? Poke(poke, seq) : Watch(watch, count);
}
