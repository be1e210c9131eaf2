#pragma once
// FetcherHeartbeat: keeps this process's row in the `fetchers` table fresh while a
// data-fetcher runs, so `dripr queues` can tell "nothing in the queues" from "nobody is
// consuming them". The row is written at Start, refreshed every `interval` by a background
// thread and removed at Stop; a process killed without Stop leaves a row whose heartbeat
// ages, and is then shown as not alive (FetcherAlive: older than three intervals).
//
// A failed heartbeat (database briefly unavailable) is logged and retried at the next beat;
// it never stops the fetcher.

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <string_view>
#include <thread>

#include "dripr/core/clock.h"
#include "dripr/store/store.h"

namespace dripr {

// How often a data-fetcher refreshes its row; `dripr queues` calls a fetcher alive while its
// heartbeat is younger than three of these.
inline constexpr std::chrono::milliseconds kFetcherHeartbeatInterval{5'000};
// What a fetcher reports as its version in `fetchers.version`.
inline constexpr std::string_view kDriprVersion = "0.1.0";

class FetcherHeartbeat {
 public:
  // `clock` stamps the row; the thread waits `interval` on `ticker` between beats (counted
  // from the end of the previous beat). Both must outlive the heartbeat.
  FetcherHeartbeat(Store& store, const Clock& clock, Ticker& ticker,
                   std::chrono::milliseconds interval = kFetcherHeartbeatInterval);
  ~FetcherHeartbeat();  // Stop()
  FetcherHeartbeat(const FetcherHeartbeat&) = delete;
  FetcherHeartbeat& operator=(const FetcherHeartbeat&) = delete;

  // Registers the row (first beat, synchronously) and starts the thread. Idempotent.
  void Start();
  // Stops the thread and removes the row. Idempotent; safe without Start.
  void Stop();

  // Identity of this process's row: a fresh instance id, host name, pid, version.
  const FetcherInfo& info() const { return info_; }
  // Heartbeats written successfully so far (tests, logs).
  int64_t beats() const { return beats_.load(); }

 private:
  void Beat();
  void Loop();

  // Constant after construction.
  Store& store_;
  const Clock& clock_;
  Ticker& ticker_;
  const std::chrono::milliseconds interval_;
  FetcherInfo info_;

  std::atomic<int64_t> beats_{0};
  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;     // guarded by mu_
  bool running_ = false;  // guarded by mu_
  std::thread thread_;    // started and joined by the caller of Start/Stop
};

}  // namespace dripr
