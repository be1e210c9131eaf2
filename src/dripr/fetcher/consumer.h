#pragma once
// The consumer engine (docs/contracts.md §5): per queue, receive loops with batch receive and long
// polling feed a bounded worker pool; a lease manager keeps in-flight messages invisible;
// acknowledgements are batched; retryable failures back off through the visibility
// timeout; failures are copied to the DLQ with their reason, then deleted. A handler whose
// store (or bus) is unavailable runs again in place, without using an attempt
// (docs/decisions/consumer.md).
// Generic over the Queue interface: it runs unchanged on the embedded bus and on SQS.
// Every timing decision (backoff, leases, log throttling, the shutdown deadline) reads the
// injected Ticker, and retry jitter the injected Random, so tests run on a manual clock.
// Shutdown order: docs/decisions/shutdown.md.

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <map>
#include <mutex>
#include <span>
#include <string>
#include <thread>
#include <vector>

#include "dripr/bus/bus.h"
#include "dripr/bus/sqs_limits.h"
#include "dripr/core/clock.h"
#include "dripr/core/metrics.h"
#include "dripr/core/random.h"
#include "dripr/domain/campaign_id.h"

namespace dripr {

struct ConsumerOptions {
  int receive_loops = 2;
  int batch_size = sqs::kMaxBatchSize;          // 1–10, per Receive
  std::chrono::milliseconds wait_time{20000};   // long poll per Receive
  std::chrono::seconds visibility_timeout{30};  // lease length, renewed while in flight
  // Visibility asked for by each Receive: what a long poll abandoned at shutdown is handed
  // server-side comes back this soon instead of after a whole lease
  // (docs/decisions/shutdown.md). A message still in flight a fifth of it after the receive
  // (1 s) is extended to visibility_timeout by the lease loop; one handled sooner costs no
  // extension call. Not used on a queue that never strands a receive's messages (the
  // embedded bus): the full lease at once.
  std::chrono::seconds receive_visibility{5};
  int max_in_flight = 16;  // worker threads, started on demand; no receive when all busy
  // Refilling a busy consumer a few messages at a time: with messages in flight, a receive
  // waits up to refill_wait for refill_slots free slots (0: max_in_flight / 4, at least 1,
  // at most batch_size), then takes what is free. One receive per freed slot cost a receive
  // (a write transaction on the embedded bus, a request on SQS) and two thread wake-ups for
  // every message under load (docs/decisions/consumer.md). An idle consumer (nothing in
  // flight, or refill_slots free) receives at once.
  int refill_slots = 0;
  std::chrono::milliseconds refill_wait{5};
  int max_attempts = 4;  // receives before a kRetry is a failure (kUnavailable uses none)
  std::chrono::milliseconds backoff_base{1000};  // retry delay: base * 2^(attempt-1), jittered
  std::chrono::seconds backoff_cap{300};
  // Verdict::kUnavailable: the handler runs again in place after base * 2^(n-1), jittered,
  // capped here, so work resumes within this long of the store's return.
  std::chrono::seconds unavailable_backoff_cap{30};
  std::chrono::milliseconds ack_flush_interval{20};       // deletes are batched up to this long
  std::chrono::milliseconds shutdown_deadline{25000};     // for Join() without a deadline
  std::chrono::milliseconds receive_error_backoff{1000};  // after a failed Receive
};

enum class Verdict {
  kDone,   // delete the message
  kRetry,  // transient problem: make it visible again after a backoff; counts as an attempt
  kFail,   // permanent: copy to the DLQ with the reason, then delete
  // The pipeline's own store or bus is unavailable (an outage, not this message's fault): the
  // engine keeps the message leased and runs the handler again after a backoff, for as long
  // as the outage lasts; no attempt is used and the receive count does not move.
  kUnavailable,
};

struct HandlerOutcome {
  Verdict verdict = Verdict::kDone;
  std::string reason;      // why (logged; the DLQ reason for kFail)
  CampaignId campaign_id;  // for the log line, when known (empty: not known)

  static HandlerOutcome Done(std::string why, CampaignId campaign = {}) {
    return {Verdict::kDone, std::move(why), std::move(campaign)};
  }
  static HandlerOutcome Retry(std::string why, CampaignId campaign = {}) {
    return {Verdict::kRetry, std::move(why), std::move(campaign)};
  }
  static HandlerOutcome Failure(std::string why, CampaignId campaign = {}) {
    return {Verdict::kFail, std::move(why), std::move(campaign)};
  }
  static HandlerOutcome Unavailable(std::string why, CampaignId campaign = {}) {
    return {Verdict::kUnavailable, std::move(why), std::move(campaign)};
  }
};

class MessageHandler {
 public:
  virtual ~MessageHandler() = default;
  // Handles one message; must be idempotent (delivery is at-least-once). Called from
  // worker threads concurrently. Must not throw.
  virtual HandlerOutcome Handle(const ReceivedMessage& message) = 0;
  // Up to this many messages per HandleBatch call (at most sqs::kMaxBatchSize); 1, the
  // default: one Handle call per message.
  virtual int MaxBatch() const { return 1; }
  // One outcome per message, in order, as Handle would give each (the engine treats each on
  // its own: acknowledgement, retry, DLQ). Messages a worker took together from one or more
  // receives, up to MaxBatch(). The default calls Handle for each. Must not throw. A batch gets
  // no transactional consume (Queue::AckInNextTransaction): each message is acknowledged after
  // its outcome, so a handler whose store shares the bus's database (SQLite, the embedded
  // default) keeps MaxBatch() 1.
  virtual std::vector<HandlerOutcome> HandleBatch(std::span<const ReceivedMessage> messages) {
    std::vector<HandlerOutcome> out;
    out.reserve(messages.size());
    for (const ReceivedMessage& m : messages) out.push_back(Handle(m));
    return out;
  }
  // Called once a message is given up on (already copied to the DLQ, before it is deleted),
  // so the campaign can be put in ERROR. An error here makes the engine retry the message.
  virtual Status OnFailure(const ReceivedMessage& message, const std::string& reason) = 0;
};

// DLQ message attributes added by the engine.
inline constexpr std::string_view kFailureReasonAttribute = "dripr_failure_reason";
inline constexpr std::string_view kSourceQueueAttribute = "dripr_source_queue";
inline constexpr std::string_view kReceiveCountAttribute = "dripr_receive_count";

struct ConsumerStats {
  int64_t received = 0;
  int64_t done = 0;
  int64_t retried = 0;
  int64_t failed = 0;
  int64_t released = 0;  // given back at shutdown (visibility 0)
  int64_t reran = 0;     // handler runs repeated in place after Verdict::kUnavailable
  int64_t lease_extensions = 0;
  // Times the lease loop woke to look at its leases: a lease due for extension, or a new one
  // due sooner than the one it waited for. An idle consumer's loop does not wake at all.
  int64_t lease_wakeups = 0;
  // Times a receive loop waiting for more free slots (the refill wait) woke and found too few:
  // a wake-up for nothing.
  int64_t refill_wakeups = 0;
  int64_t delete_errors = 0;
  int64_t receive_errors = 0;
  int in_flight = 0;
};

// What a shutdown achieved (Consumer::Join, DataFetcher::Stop).
struct ShutdownReport {
  // Messages still being handled at the deadline (a handler taking a batch counts each of
  // its messages). They are neither acknowledged nor released: they come back after their
  // visibility timeout.
  int still_running = 0;
  bool clean() const { return still_running == 0; }
  ShutdownReport& operator+=(const ShutdownReport& o) {
    still_running += o.still_running;
    return *this;
  }
};

class Consumer {
 public:
  // `dlq` may be null: failures are then only logged and the message is left to the
  // broker's own redrive (never deleted without a copy). `ticker` / `random` null: the real
  // ones (core/clock.h, core/random.h). `metrics` (may be null) receives the queue's metrics
  // and the receive loops' heartbeats. All three must outlive the consumer.
  Consumer(std::string name, Queue& queue, Queue* dlq, MessageHandler& handler,
           ConsumerOptions options, Ticker* ticker = nullptr, Random* random = nullptr,
           Metrics* metrics = nullptr);
  // Stops (Join with options.shutdown_deadline) if still running, then waits for any
  // handler that overran the deadline: no thread outlives the consumer.
  ~Consumer();
  Consumer(const Consumer&) = delete;
  Consumer& operator=(const Consumer&) = delete;

  void Start();
  // Non-blocking: stop receiving and starting new messages; long polls in progress are
  // interrupted (Queue::CancelReceives). Safe to call from any thread, more than once.
  void RequestStop();
  // Blocks until shut down, in order: receive loops end (what a last receive brought is
  // released with visibility 0); messages never started are released with visibility 0;
  // running handlers finish, up to `deadline`; lease extension stops; acknowledgements are
  // flushed. When handlers overrun the deadline, returns at the deadline with their count:
  // their threads keep running (joinable, never detached) until the destructor waits for
  // them. A second call returns the first one's report.
  ShutdownReport Join(Ticker::TimePoint deadline);
  // Join(now + options.shutdown_deadline); true when clean.
  bool Join();

  ConsumerStats Stats() const;
  const std::string& name() const { return name_; }

 private:
  struct Lease {
    Ticker::TimePoint expires;
    // What the lease was last set to: the receive's short visibility until the lease loop
    // extends it, then visibility_timeout.
    Ticker::Duration length;
    // After a failed extension: not tried again before this (a fifth of `length` later).
    Ticker::TimePoint retry_at{};
  };

  void ReceiveLoop(HeartbeatRef heartbeat);
  void WorkerLoop();
  void AddWorkersLocked();  // requires mu_
  // Free slots a receive waits for while messages are in flight (ConsumerOptions::refill_slots).
  int RefillSlots() const;
  // Whether slots_used_ falling from `before` to `after` can end a receive loop's wait for
  // slots (the first free slot, the refill threshold reached, nothing left in flight): only
  // then are the receive loops woken.
  bool FreedSlotsWakeReceivers(int before, int after) const;
  void LeaseLoop();
  void AckLoop();
  void Process(const ReceivedMessage& m);
  // Messages a worker took together (handler_batch_ > 1): one HandleBatch call, then each
  // message's outcome as Process would treat it; the ones that met an unavailable store run
  // again together, in place.
  void ProcessBatch(std::vector<ReceivedMessage> batch);
  // HandleBatch, with a throw or a wrong count of outcomes made a retry of each message.
  std::vector<HandlerOutcome> RunBatchHandler(std::span<const ReceivedMessage> ms);
  // What follows a message's last handler run: acknowledgement, retry, DLQ, release; the log
  // line and the duration metric, of `took`: the handler's time (for a message of a batch,
  // its share of the batch's run).
  void Finish(const ReceivedMessage& m, HandlerOutcome out, bool acked_in_transaction,
              Ticker::Duration took);
  // `n` messages finished: their slots free (running_, slots_used_, the in-flight gauge), the
  // receive loops and Join woken as they need.
  void FreeSlots(int n);
  void ObserveAge(const ReceivedMessage& m);
  // One handler call; sets `acked_in_transaction` when its commit deleted the message.
  HandlerOutcome RunHandler(const ReceivedMessage& m, bool& acked_in_transaction);
  // After the n-th kUnavailable in a row: waits the in-place backoff. False when the message
  // is no longer to be held: stopping, or its lease lapsed (it is someone else's by now).
  bool WaitToRunAgain(const ReceivedMessage& m, int n, const std::string& why);
  // The wait itself, for `messages` held messages: false when stopping.
  bool WaitBeforeRunningAgain(int n, int messages, const std::string& why);
  bool LeaseHeld(const std::string& receipt);
  void LogHandled(const ReceivedMessage& m, const HandlerOutcome& out, double ms);
  void RetryLater(const ReceivedMessage& m, const std::string& why);
  void GiveUp(const ReceivedMessage& m, const std::string& reason);
  void Ack(const std::string& receipt);
  // What each Receive asks for: receive_visibility, or the full lease when the queue never
  // strands a receive's messages (Queue::ReceiveNeverStrands).
  std::chrono::seconds ReceiveVisibility() const;
  // Leases for a batch whose Receive was sent at `sent_at` with ReceiveVisibility().
  void AddLeases(const std::vector<ReceivedMessage>& ms, Ticker::TimePoint sent_at);
  // When the lease loop extends `lease`: a short (receive) lease once a fifth of it has
  // passed, a full one once only half of it is left; after a failed try, at its retry_at.
  Ticker::TimePoint ExtensionDueAt(const Lease& lease) const;
  void DropLease(const std::string& receipt);
  void Release(const std::vector<ReceivedMessage>& ms);
  std::chrono::seconds Backoff(int receive_count);
  std::chrono::milliseconds UnavailableBackoff(int n);
  bool FlushAcks(std::unique_lock<std::mutex>& lock);
  // Logs receive failures without flooding the log (null: the receive worked).
  void NoteReceiveResult(const Error* error);

  // A run of consecutive failures of one kind, logged without flooding: the first one, then
  // one line per `every` with the count so far, and one line when it works again.
  class FailureStreak {
   public:
    explicit FailureStreak(Ticker& ticker) : ticker_(ticker) {}
    // Counts a failure; returns the count so far when this one is to be logged, else 0.
    int64_t Failed();
    // Ends the run; returns how many failures it had (0: there was none).
    int64_t Ended();

   private:
    static constexpr std::chrono::seconds kEvery{30};
    Ticker& ticker_;
    std::mutex mu_;
    int64_t failures_ = 0;        // guarded by mu_
    Ticker::TimePoint logged_{};  // guarded by mu_
  };
  void StopLeaseLoop();
  void StopAckLoop();

  // Constant after construction.
  const std::string name_;
  Queue& queue_;
  Queue* const dlq_;
  MessageHandler& handler_;
  const ConsumerOptions options_;
  Ticker& ticker_;
  Random& random_;
  Metrics* const metrics_registry_;  // may be null
  const QueueMetrics metrics_;
  // Messages per handler call: the handler's MaxBatch(), 1..sqs::kMaxBatchSize.
  const size_t handler_batch_;

  std::atomic<bool> stopping_{false};
  std::atomic<bool> started_{false};
  std::atomic<bool> joined_{false};
  ShutdownReport join_report_;  // written by the first Join

  FailureStreak receive_failures_{ticker_};
  FailureStreak unavailable_{ticker_};  // handler runs that met an unavailable store
  std::atomic<int> held_{0};            // messages waiting to run again in place

  // Pool state, guarded by mu_.
  mutable std::mutex mu_;
  std::condition_variable slots_cv_;      // a slot freed / stopping
  std::condition_variable work_cv_;       // work queued / stopping
  std::condition_variable idle_cv_;       // running_ dropped
  std::condition_variable receivers_cv_;  // receivers_running_ dropped
  std::condition_variable held_cv_;       // stopping (wakes messages waiting to run again)
  int receivers_running_ = 0;             // guarded by mu_
  int slots_used_ = 0;                // guarded by mu_; reserved for a receive + queued + running
  int running_ = 0;                   // guarded by mu_; messages being handled
  std::deque<ReceivedMessage> work_;  // guarded by mu_

  // Leases, guarded by lease_mu_.
  std::mutex lease_mu_;
  // Held around every visibility change of a leased message: the lease loop's extensions and
  // a worker's retry backoff or release. A worker drops the lease first, then changes the
  // visibility under this; the lease loop extends only leases still held once it has this.
  // So an extension in flight can no longer land after, and overwrite, a backoff or a
  // release. Taken before lease_mu_, never while holding it.
  std::mutex visibility_mu_;
  std::condition_variable lease_cv_;
  std::map<std::string, Lease> leases_;  // guarded by lease_mu_; by receipt handle
  bool lease_stop_ = false;              // guarded by lease_mu_
  // What the lease loop waits for (guarded by lease_mu_): the earliest extension due when it
  // last looked; TimePoint::max() while it holds no lease (no timeout at all). AddLeases
  // wakes it (lease_sooner_) only for a lease due before that.
  Ticker::TimePoint lease_wake_at_ = Ticker::TimePoint::max();
  bool lease_sooner_ = false;

  // Pending deletes, guarded by ack_mu_.
  std::mutex ack_mu_;
  std::condition_variable ack_cv_;
  std::vector<std::string> acks_;  // guarded by ack_mu_
  bool ack_stop_ = false;          // guarded by ack_mu_

  std::vector<std::thread> receivers_;
  // Grown by the receive loops under mu_ (AddWorkersLocked); read without it only once
  // they have ended (Join, ~Consumer).
  std::vector<std::thread> workers_;
  std::thread lease_thread_;
  std::thread ack_thread_;

  struct Counters {
    std::atomic<int64_t> received{0}, done{0}, retried{0}, failed{0}, released{0},
        lease_extensions{0}, lease_wakeups{0}, refill_wakeups{0}, delete_errors{0},
        receive_errors{0}, reran{0};
  } counters_;
};

}  // namespace dripr
