#pragma once
// Stopping a background thread that waits on a condition variable for a stop flag (the
// reconciler, the readiness sampler and checks, the consumer's lease and ack loops, a market
// flight's lease renewer).

#include <condition_variable>
#include <mutex>
#include <thread>

namespace dripr {

// Sets `stop` under `mu`, wakes the waiters of `cv` and joins `thread` when it runs.
inline void StopAndJoin(std::mutex& mu, bool& stop, std::condition_variable& cv,
                        std::thread& thread) {
  {
    std::lock_guard lock(mu);
    stop = true;
  }
  cv.notify_all();
  if (thread.joinable()) thread.join();
}

}  // namespace dripr
