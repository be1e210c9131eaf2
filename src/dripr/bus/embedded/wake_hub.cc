#include "dripr/bus/embedded/wake_hub.h"

#include "dripr/core/per_process.h"

namespace dripr::embedded {

std::shared_ptr<WakeHub> WakeHub::For(const std::string& path) {
  // Never destroyed: hubs may outlive static teardown.
  static auto* registry = new PerProcessRegistry<WakeHub>();
  return registry->Get(path);
}

uint64_t WakeHub::Generation(const std::string& queue) {
  std::lock_guard lock(mu_);
  auto it = queues_.find(queue);
  return it == queues_.end() ? 0 : it->second.generation;
}

uint64_t WakeHub::ExternalGeneration() {
  std::lock_guard lock(mu_);
  return external_;
}

void WakeHub::Notify(const std::vector<std::string>& queues) {
  std::vector<std::condition_variable*> wake;
  {
    std::lock_guard lock(mu_);
    for (const auto& q : queues) {
      Waiters& w = queues_[q];
      ++w.generation;
      if (w.counts.waiting > 0) wake.push_back(&w.cv);
    }
  }
  for (auto* cv : wake) cv->notify_all();
}

void WakeHub::NotifyExternal() {
  std::vector<std::condition_variable*> wake;
  {
    std::lock_guard lock(mu_);
    ++external_;
    for (auto& [name, w] : queues_) {
      if (w.counts.waiting > 0) wake.push_back(&w.cv);
    }
  }
  for (auto* cv : wake) cv->notify_all();
}

void WakeHub::Interrupt(const std::string& queue) {
  std::condition_variable* cv = nullptr;
  {
    // Taken even when nobody waits: a wait that read `cancelled` as false before the caller
    // changed it is then blocked on the cv, and this notify reaches it.
    std::lock_guard lock(mu_);
    auto it = queues_.find(queue);
    if (it != queues_.end() && it->second.counts.waiting > 0) cv = &it->second.cv;
  }
  if (cv != nullptr) cv->notify_all();
}

WakeHub::Wake WakeHub::WaitForChange(Ticker& ticker, const std::string& queue, uint64_t seen,
                                     uint64_t external_seen, Ticker::TimePoint until,
                                     const std::function<bool()>& cancelled) {
  std::unique_lock lock(mu_);
  Waiters& w = queues_[queue];
  Wake why = Wake::kTimeout;
  ++w.counts.waiting;
  ticker.WaitUntil(lock, w.cv, until, [&] {
    if (w.generation != seen) {
      why = Wake::kLocal;
    } else if (external_ != external_seen) {
      why = Wake::kExternal;
    } else if (cancelled()) {
      why = Wake::kCancelled;
    }
    return why != Wake::kTimeout;
  });
  --w.counts.waiting;
  if (why == Wake::kCancelled) return why;  // neither a wake-up nor the slice running out
  // Counted by what ended the wait: a change noticed only once `until` had passed (a notify
  // that never came) is the slice running out, whatever the receive then does with it.
  if (why == Wake::kTimeout || ticker.Now() >= until) {
    ++w.counts.timeout;
  } else if (why == Wake::kLocal) {
    ++w.counts.local;
  } else {
    ++w.counts.external;
  }
  return why;
}

WakeHub::WakeCounts WakeHub::Counts(const std::string& queue) {
  std::lock_guard lock(mu_);
  auto it = queues_.find(queue);
  return it == queues_.end() ? WakeCounts{} : it->second.counts;
}

void WakeHub::WatchOthersCommits(const std::shared_ptr<sqlite::Writer>& writer,
                                 std::chrono::milliseconds fallback) {
  std::call_once(watch_once_, [&] {
    // The process's watcher for the file, held first so that the subscription below finds it
    // running: `watching_` then means "other processes' commits wake the long polls".
    auto watcher = sqlite::ChangeWatcher::For(writer);
    if (watcher) watcher_ = std::move(*watcher);
    others_commits_.StartOnce(writer, "embedded bus", "messages", fallback,
                              [this] { NotifyExternal(); });
    watching_.store(watcher_ != nullptr);
  });
}

}  // namespace dripr::embedded
