#include "dripr/fetcher/fetcher_heartbeat.h"

#include <unistd.h>

#include "dripr/core/ids.h"
#include "dripr/core/log.h"
#include "dripr/core/thread_name.h"

namespace dripr {
namespace {

std::string HostName() {
  char buf[256] = {};
  if (gethostname(buf, sizeof buf - 1) != 0) return "unknown";
  return buf;
}

}  // namespace

FetcherHeartbeat::FetcherHeartbeat(Store& store, const Clock& clock, Ticker& ticker,
                                   std::chrono::milliseconds interval)
    : store_(store), clock_(clock), ticker_(ticker), interval_(interval) {
  info_.instance_id = NewUuid();
  info_.host = HostName();
  info_.pid = static_cast<int64_t>(getpid());
  info_.version = std::string(kDriprVersion);
}

FetcherHeartbeat::~FetcherHeartbeat() { Stop(); }

void FetcherHeartbeat::Start() {
  {
    std::lock_guard lock(mu_);
    if (running_) return;
    running_ = true;
    stop_ = false;
  }
  info_.started_at = clock_.Now();
  Beat();
  thread_ = std::thread([this] {
    NameThisThread("heartbeat");
    Loop();
  });
}

void FetcherHeartbeat::Stop() {
  {
    std::lock_guard lock(mu_);
    if (!running_) return;
    running_ = false;
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
  if (auto s = store_.UnregisterFetcher(info_.instance_id); !s) {
    DRIPR_LOG_WARN("fetcher heartbeat: unregister {}: {}", info_.instance_id, s.error().ToString());
  }
}

void FetcherHeartbeat::Beat() {
  if (auto s = store_.HeartbeatFetcher(info_); !s) {
    DRIPR_LOG_WARN("fetcher heartbeat: {}", s.error().ToString());
    return;
  }
  ++beats_;
}

void FetcherHeartbeat::Loop() {
  std::unique_lock lock(mu_);
  while (!ticker_.WaitFor(lock, cv_, interval_, [this] { return stop_; })) {
    lock.unlock();
    Beat();
    lock.lock();
  }
}

}  // namespace dripr
