#pragma once
// FlatCombiner<Item, Out>: flat combining of concurrent calls into batches. A call queues its
// item; a caller still queued runs the next batch (the oldest queued items, up to `max_batch`,
// its own usually among them) when fewer than `combiners` batches run and it is the oldest
// waiter or none runs; then it hands each item its result. The others sleep until their result
// is set or it is their turn, each on its own condition variable, so a batch's end wakes only
// its own callers and the next combiner. A second batch starts only for a caller that finds
// another batch running and nobody queued before it (measured so for the store's transitions:
// docs/decisions/performance.md, "Stop 23"). Used by the store for its transitions (StoreBase),
// apart from them so that the mechanism is tested on its own (tests/core/flat_combiner_test.cc);
// combining the part handlers' reads with it was measured and not kept ("Stop 24").

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <exception>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "dripr/core/error.h"

namespace dripr {

// Up to `max_batch` items per batch, at most `combiners` batches at once. max_batch 1: each
// call runs alone, without the combiner (the default).
struct CombiningLimits {
  int max_batch = 1;
  int combiners = 1;
};

// What a combiner did so far: batches of more than one item and how many items they carried,
// items their batch ran alone after its combined attempt failed; queued and running now.
struct CombiningStats {
  int64_t batches = 0;
  int64_t combined = 0;
  int64_t ran_alone_after_failure = 0;
  int queued = 0;
  int running = 0;
};

template <class Item, class Out>
class FlatCombiner {
 public:
  // `item`'s result, from a batch run by `run_batch(std::span<Item* const> batch, bool&
  // ran_alone) -> std::vector<Out>`, which returns one result per item in the batch's order and
  // sets `ran_alone` when its combined attempt failed and each item ran alone. A batch that
  // throws gives each of its items a kInternal failure (Out must be constructible from Fail()).
  template <class BatchFn>
  Out Run(Item& item, CombiningLimits limits, BatchFn&& run_batch) {
    // Shared with the combiner that runs it, which notifies after releasing mu_: a waiter that
    // sees its result and leaves before that notify leaves the condition variable alive.
    auto me = std::make_shared<Waiter>(&item);
    std::unique_lock lock(mu_);
    queue_.push_back(me);
    while (!me->result) {
      // Not taken means still queued, so the queue is not empty.
      const bool turn =
          !me->taken && running_ < limits.combiners && (running_ == 0 || queue_.front() == me);
      if (!turn) {
        me->wake.wait(lock);
        continue;
      }
      std::vector<std::shared_ptr<Waiter>> batch;
      std::vector<Item*> items;
      while (!queue_.empty() && static_cast<int>(batch.size()) < limits.max_batch) {
        batch.push_back(queue_.front());
        batch.back()->taken = true;
        items.push_back(batch.back()->item);
        queue_.pop_front();
      }
      ++running_;
      lock.unlock();
      std::vector<Out> results;
      bool ran_alone = false;
      try {
        results = run_batch(std::span<Item* const>(items), ran_alone);
      } catch (const std::exception& e) {  // nobody may wait forever for a batch that threw
        results.clear();
        ThrewFor(results, batch.size(), std::string("a combined batch threw: ") + e.what());
      } catch (...) {
        results.clear();
        ThrewFor(results, batch.size(), "a combined batch threw a non-standard exception");
      }
      if (results.size() != batch.size()) {
        results.clear();
        ThrewFor(results, batch.size(), "a combined batch returned the wrong number of results");
      }
      lock.lock();
      --running_;
      if (batch.size() > 1) {
        ++batches_;
        combined_ += static_cast<int64_t>(batch.size());
        if (ran_alone) ran_alone_after_failure_ += static_cast<int64_t>(batch.size());
      }
      for (size_t i = 0; i < batch.size(); ++i) batch[i]->result.emplace(std::move(results[i]));
      // The oldest waiter, if any, combines next.
      std::shared_ptr<Waiter> next;
      if (!queue_.empty() && queue_.front() != me) next = queue_.front();
      // Notified outside mu_: a waiter woken while it was held went straight back to sleep on
      // it (1.6 of the fetcher's context switches per campaign in B2PG: docs/decisions/
      // performance.md, "Stop 32").
      lock.unlock();
      for (const auto& w : batch) {
        if (w != me) w->wake.notify_one();
      }
      if (next) next->wake.notify_one();
      lock.lock();
    }
    return std::move(*me->result);
  }

  // Counts a batch of `items` that its caller ran itself, outside Run (StoreBase::CompleteParts:
  // a batch of part handlers' commits), with the combiner's own in stats().
  void CountBatch(size_t items, bool ran_alone) {
    if (items <= 1) return;
    std::lock_guard lock(mu_);
    ++batches_;
    combined_ += static_cast<int64_t>(items);
    if (ran_alone) ran_alone_after_failure_ += static_cast<int64_t>(items);
  }

  CombiningStats stats() const {
    std::lock_guard lock(mu_);
    return CombiningStats{.batches = batches_,
                          .combined = combined_,
                          .ran_alone_after_failure = ran_alone_after_failure_,
                          .queued = static_cast<int>(queue_.size()),
                          .running = running_};
  }

 private:
  struct Waiter {
    explicit Waiter(Item* i) : item(i) {}
    Item* item;
    std::optional<Out> result;     // set under mu_
    bool taken = false;            // in a running batch (no longer queued); under mu_
    std::condition_variable wake;  // result set, or its turn to combine
  };

  static void ThrewFor(std::vector<Out>& results, size_t n, const std::string& what) {
    for (size_t i = 0; i < n; ++i) results.emplace_back(Fail(ErrorCode::kInternal, what));
  }

  mutable std::mutex mu_;
  std::deque<std::shared_ptr<Waiter>> queue_;  // oldest first; guarded by mu_
  int running_ = 0;                            // batches running; guarded by mu_
  int64_t batches_ = 0;                        // guarded by mu_
  int64_t combined_ = 0;                       // guarded by mu_
  int64_t ran_alone_after_failure_ = 0;        // guarded by mu_
};

}  // namespace dripr
