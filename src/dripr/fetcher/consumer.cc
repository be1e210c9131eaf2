#include "dripr/fetcher/consumer.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <utility>

#include "dripr/core/enum_names.h"
#include "dripr/core/log.h"
#include "dripr/core/stop.h"
#include "dripr/core/text.h"
#include "dripr/core/thread_name.h"

namespace dripr {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

constexpr size_t kMaxBatch = sqs::kMaxBatchSize;  // SQS batch limit for delete / change visibility
constexpr size_t kMaxReasonLength = 1000;

constexpr auto kVerdictNames = EnumNames<Verdict>({
    {Verdict::kDone, "done"},
    {Verdict::kRetry, "retry"},
    {Verdict::kFail, "failed"},
    {Verdict::kUnavailable, "unavailable"},
});

}  // namespace

Consumer::Consumer(std::string name, Queue& queue, Queue* dlq, MessageHandler& handler,
                   ConsumerOptions options, Ticker* ticker, Random* random, Metrics* metrics)
    : name_(std::move(name)),
      queue_(queue),
      dlq_(dlq),
      handler_(handler),
      options_(options),
      ticker_(OrRealTicker(ticker)),
      random_(OrRealRandom(random)),
      metrics_registry_(metrics),
      metrics_(QueueMetrics::For(metrics, name_)),
      handler_batch_(static_cast<size_t>(std::clamp(handler.MaxBatch(), 1, sqs::kMaxBatchSize))) {}

Consumer::~Consumer() {
  if (!started_) return;
  Join();
  // Handlers that overran the deadline: wait for them (they use the handler, the queue and
  // this object), then flush what they acknowledged.
  for (auto& t : workers_) {
    if (t.joinable()) t.join();
  }
  StopAckLoop();
}

void Consumer::Start() {
  if (started_.exchange(true)) return;
  // Worker threads start on demand (AddWorkersLocked): an idle consumer holds none.
  lease_thread_ = std::thread([this] {
    NameThisThread(ThreadName("lease", name_));
    LeaseLoop();
  });
  ack_thread_ = std::thread([this] {
    NameThisThread(ThreadName("ack", name_));
    AckLoop();
  });
  receivers_running_ = std::max(1, options_.receive_loops);
  for (int i = 0; i < receivers_running_; ++i) {
    // Metrics: a receive call returns within its long poll plus the transport's timeouts.
    auto heartbeat =
        HeartbeatOf(metrics_registry_, "receive loop " + name_ + "#" + std::to_string(i),
                    options_.wait_time + std::chrono::seconds(60));
    receivers_.emplace_back([this, heartbeat] {
      NameThisThread(ThreadName("recv", name_));
      ReceiveLoop(heartbeat);
      std::lock_guard lock(mu_);
      --receivers_running_;
      receivers_cv_.notify_all();
      held_cv_.notify_all();  // held messages are released once no receive loop is left
    });
  }
}

void Consumer::RequestStop() {
  if (stopping_.exchange(true)) return;
  {
    std::lock_guard lock(mu_);
    slots_cv_.notify_all();
    work_cv_.notify_all();
    held_cv_.notify_all();
  }
  queue_.CancelReceives();
}

bool Consumer::Join() { return Join(ticker_.Now() + options_.shutdown_deadline).clean(); }

ShutdownReport Consumer::Join(Ticker::TimePoint deadline) {
  if (!started_ || joined_.exchange(true)) return join_report_;
  RequestStop();
  // 1. Stop receiving: receive loops return once their (interrupted) long poll does,
  //    releasing whatever it still brought. The cancel is repeated for a loop that was
  //    about to start a poll when RequestStop ran (the queue cancels only polls in flight).
  {
    std::unique_lock lock(mu_);
    while (
        !receivers_cv_.wait_for(lock, milliseconds(100), [&] { return receivers_running_ == 0; })) {
      lock.unlock();
      queue_.CancelReceives();
      lock.lock();
    }
  }
  for (auto& t : receivers_) t.join();
  // 2. Give never-started messages back to the queue right away; workers start nothing new.
  std::deque<ReceivedMessage> never_started;
  {
    std::lock_guard lock(mu_);
    never_started.swap(work_);
    slots_used_ -= static_cast<int>(never_started.size());
  }
  Release({never_started.begin(), never_started.end()});
  // 3. Drain: running handlers finish, up to the deadline.
  int still_running;
  {
    std::unique_lock lock(mu_);
    ticker_.WaitUntil(lock, idle_cv_, deadline, [&] { return running_ == 0; });
    still_running = running_;
  }
  join_report_.still_running = still_running;
  // 4. Stop extending leases: an overrunning handler's message comes back after its lease.
  StopLeaseLoop();
  if (still_running > 0) {
    // Outcome point: shutdown deadline passed. The workers stay joinable; ~Consumer waits.
    DRIPR_LOG_ERROR(
        "[{}] shutdown deadline passed with {} message(s) still being handled; they come "
        "back after the visibility timeout ({} s)",
        name_, still_running, options_.visibility_timeout.count());
    return join_report_;
  }
  // 5. Join the idle workers and flush the last acknowledgements.
  for (auto& t : workers_) t.join();
  StopAckLoop();
  return join_report_;
}

void Consumer::StopLeaseLoop() { StopAndJoin(lease_mu_, lease_stop_, lease_cv_, lease_thread_); }

void Consumer::StopAckLoop() { StopAndJoin(ack_mu_, ack_stop_, ack_cv_, ack_thread_); }

ConsumerStats Consumer::Stats() const {
  ConsumerStats s;
  s.received = counters_.received;
  s.done = counters_.done;
  s.retried = counters_.retried;
  s.failed = counters_.failed;
  s.released = counters_.released;
  s.lease_extensions = counters_.lease_extensions;
  s.lease_wakeups = counters_.lease_wakeups;
  s.refill_wakeups = counters_.refill_wakeups;
  s.delete_errors = counters_.delete_errors;
  s.receive_errors = counters_.receive_errors;
  s.reran = counters_.reran;
  std::lock_guard lock(mu_);
  s.in_flight = slots_used_;
  return s;
}

void Consumer::ReceiveLoop(HeartbeatRef heartbeat) {
  struct StopOnExit {
    HeartbeatRef h;
    ~StopOnExit() { h.Stop(); }
  } stop_on_exit{heartbeat};
  while (!stopping_) {
    heartbeat.Beat();
    int want;
    {
      std::unique_lock lock(mu_);
      // Back-pressure: no receive while the pool is full.
      heartbeat.SetWaiting(true);
      slots_cv_.wait(lock, [&] { return stopping_ || slots_used_ < options_.max_in_flight; });
      const int refill = RefillSlots();
      if (!stopping_ && slots_used_ > 0 && options_.max_in_flight - slots_used_ < refill) {
        bool first = true;
        (void)ticker_.WaitFor(lock, slots_cv_, options_.refill_wait, [&] {
          const bool enough =
              stopping_ || slots_used_ == 0 || options_.max_in_flight - slots_used_ >= refill;
          if (!enough && !std::exchange(first, false)) ++counters_.refill_wakeups;
          first = false;
          return enough;
        });
      }
      heartbeat.SetWaiting(false);
      if (stopping_) return;
      want = std::min(std::clamp(options_.batch_size, 1, sqs::kMaxBatchSize),
                      options_.max_in_flight - slots_used_);
      // The other receive loop of this queue took the free slots during the refill wait:
      // wait for slots again (a receive of 0 messages is not one).
      if (want <= 0) continue;
      slots_used_ += want;
    }
    const auto receive_sent = ticker_.Now();
    auto got = queue_.Receive(want, options_.wait_time, ReceiveVisibility());
    std::vector<ReceivedMessage> messages;
    if (got) messages = std::move(*got);
    const int unused = want - static_cast<int>(messages.size());
    if (unused > 0) {
      bool wake;
      {
        std::lock_guard lock(mu_);
        wake = FreedSlotsWakeReceivers(slots_used_, slots_used_ - unused);
        slots_used_ -= unused;
      }
      if (wake) slots_cv_.notify_all();  // another receive loop may be waiting for these slots
    }
    if (!got && stopping_) return;  // interrupted at shutdown: not a broker problem
    NoteReceiveResult(got ? nullptr : &got.error());
    if (!got) {
      ++counters_.receive_errors;
      std::unique_lock lock(mu_);
      ticker_.WaitFor(lock, slots_cv_, options_.receive_error_backoff,
                      [&] { return stopping_.load(); });
      continue;
    }
    if (messages.empty()) continue;
    // Outcome point: received.
    counters_.received += static_cast<int64_t>(messages.size());
    metrics_.received.Increment(static_cast<double>(messages.size()));
    metrics_.in_flight.Increment(static_cast<double>(messages.size()));
    AddLeases(messages, receive_sent);
    bool release_now = false;
    {
      std::lock_guard lock(mu_);
      if (stopping_) {
        release_now = true;
        slots_used_ -= static_cast<int>(messages.size());
      } else {
        for (auto& m : messages) work_.push_back(std::move(m));
        AddWorkersLocked();
      }
    }
    if (release_now) {
      Release(messages);
      return;
    }
    // One idle worker per message (per batch of handler_batch_), not the whole pool.
    for (size_t i = 0; i < messages.size(); i += handler_batch_) work_cv_.notify_one();
  }
}

int Consumer::RefillSlots() const {
  const int most = std::clamp(options_.batch_size, 1, sqs::kMaxBatchSize);
  const int slots = options_.refill_slots > 0 ? options_.refill_slots : options_.max_in_flight / 4;
  return std::clamp(slots, 1, most);
}

// The receive loops wait for a free slot (when all are used), then, with messages in flight,
// up to refill_wait for RefillSlots() free ones or none in flight; a slot freed short of those
// ends neither wait. Notifying every freed slot woke each receive loop of the queue once per
// handled message to find the predicate false again (3.1 switches per campaign in B2PG:
// docs/decisions/consumer.md, "Waking the receive loops").
bool Consumer::FreedSlotsWakeReceivers(int before, int after) const {
  const int max = options_.max_in_flight;
  const auto crossed = [&](int free_needed) {
    return max - before < free_needed && max - after >= free_needed;
  };
  return after == 0 || crossed(1) || crossed(RefillSlots());
}

// Enough workers for what runs and what is queued; a worker that is not running a handler
// takes the next queued messages (up to handler_batch_), so running_ (messages being handled:
// an upper bound of the busy workers) + the queued batches is the number needed. Never more
// than max_in_flight (slots_used_ bounds both). Workers stay until shutdown: after the first
// busy period the pool keeps its size, without a thread start per message.
void Consumer::AddWorkersLocked() {
  const size_t queued = (work_.size() + handler_batch_ - 1) / handler_batch_;
  const size_t need = std::min(static_cast<size_t>(running_) + queued,
                               static_cast<size_t>(std::max(1, options_.max_in_flight)));
  while (workers_.size() < need) {
    workers_.emplace_back([this] {
      NameThisThread(ThreadName("work", name_));
      WorkerLoop();
    });
  }
}

void Consumer::WorkerLoop() {
  std::vector<ReceivedMessage> ms;
  while (true) {
    ms.clear();
    {
      std::unique_lock lock(mu_);
      work_cv_.wait(lock, [&] { return stopping_ || !work_.empty(); });
      if (stopping_) return;  // queued messages are released by Join
      while (!work_.empty() && ms.size() < handler_batch_) {
        ms.push_back(std::move(work_.front()));
        work_.pop_front();
      }
      running_ += static_cast<int>(ms.size());
    }
    if (ms.size() == 1) {
      Process(ms[0]);
      FreeSlots(1);
    } else {
      ProcessBatch(std::move(ms));  // frees its slots as its messages finish
    }
  }
}

void Consumer::FreeSlots(int n) {
  if (n <= 0) return;
  metrics_.in_flight.Decrement(static_cast<double>(n));
  bool wake_receivers;
  {
    std::lock_guard lock(mu_);
    running_ -= n;
    wake_receivers = FreedSlotsWakeReceivers(slots_used_, slots_used_ - n);
    slots_used_ -= n;
  }
  idle_cv_.notify_all();
  if (wake_receivers) slots_cv_.notify_all();
}

int64_t Consumer::FailureStreak::Failed() {
  std::lock_guard lock(mu_);
  const auto now = ticker_.Now();
  if (++failures_ == 1 || now - logged_ >= kEvery) {
    logged_ = now;
    return failures_;
  }
  return 0;
}

int64_t Consumer::FailureStreak::Ended() {
  std::lock_guard lock(mu_);
  return std::exchange(failures_, 0);
}

// While the broker is unreachable every receive loop fails about once a second: the first
// failure is logged, then one line every 30 s with the count, and one when it works again.
void Consumer::NoteReceiveResult(const Error* error) {
  if (error == nullptr) {
    if (const int64_t n = receive_failures_.Ended(); n > 0) {
      DRIPR_LOG_INFO("[{}] receiving again after {} failed attempts", name_, n);
    }
    return;
  }
  if (const int64_t n = receive_failures_.Failed(); n > 0) {
    DRIPR_LOG_WARN("[{}] receive failed: {}{}", name_, error->ToString(),
                   n == 1 ? " (retrying)" : " (" + std::to_string(n) + " failures so far)");
  }
}

HandlerOutcome Consumer::RunHandler(const ReceivedMessage& m, bool& acked_in_transaction) {
  // Transactional consume: on the embedded default the handler's commit deletes the message
  // too (Queue::AckInNextTransaction); then no separate acknowledgement is sent.
  auto in_tx_ack = queue_.AckInNextTransaction(m.receipt_handle);
  HandlerOutcome out;
  try {
    out = handler_.Handle(m);
  } catch (const std::exception& e) {  // a bug in a handler must not kill the worker
    out = HandlerOutcome::Retry(std::string("handler threw: ") + e.what());
  } catch (...) {
    out = HandlerOutcome::Retry("handler threw a non-standard exception");
  }
  acked_in_transaction = in_tx_ack != nullptr && in_tx_ack->committed();
  if (in_tx_ack != nullptr && in_tx_ack->superseded()) {
    // The handler's commit found the message received again elsewhere (its lease lapsed) and
    // committed nothing: whatever the handler made of that failure, the message is the other
    // delivery's, which applies the effect. Neither a failure (no DLQ copy, no ERROR) nor an
    // acknowledgement (the receipt is stale).
    acked_in_transaction = true;
    return HandlerOutcome::Done(
        "superseded: received again elsewhere after its lease lapsed (that delivery handles "
        "it); this run committed nothing (" +
            out.reason + ")",
        out.campaign_id);
  }
  return out;
}

void Consumer::ObserveAge(const ReceivedMessage& m) {
  if (m.sent_at == SysTime{}) return;
  metrics_.event_age.Observe(std::max(
      0.0, std::chrono::duration<double>(SystemClock::Instance().Now() - m.sent_at).count()));
}

void Consumer::Process(const ReceivedMessage& m) {
  ObserveAge(m);
  auto start = ticker_.Now();
  bool acked_in_transaction = false;
  HandlerOutcome out = RunHandler(m, acked_in_transaction);
  // The store or the bus is down: not this message's fault. It stays leased here and runs
  // again after a backoff, as often as the outage needs; its receive count does not move,
  // so neither this engine's max_attempts nor the broker's redrive counts the outage.
  for (int n = 1; out.verdict == Verdict::kUnavailable; ++n) {
    if (!WaitToRunAgain(m, n, out.reason)) break;
    ++counters_.reran;
    start = ticker_.Now();
    out = RunHandler(m, acked_in_transaction);
  }
  Finish(m, std::move(out), acked_in_transaction, ticker_.Now() - start);
}

std::vector<HandlerOutcome> Consumer::RunBatchHandler(std::span<const ReceivedMessage> ms) {
  std::vector<HandlerOutcome> outs;
  std::string threw;
  try {
    outs = handler_.HandleBatch(ms);
  } catch (const std::exception& e) {  // a bug in a handler must not kill the worker
    threw = std::string("handler threw: ") + e.what();
  } catch (...) {
    threw = "handler threw a non-standard exception";
  }
  if (threw.empty() && outs.size() != ms.size()) {
    threw = "handler gave " + std::to_string(outs.size()) + " outcomes for " +
            std::to_string(ms.size()) + " messages";
  }
  if (!threw.empty()) outs.assign(ms.size(), HandlerOutcome::Retry(threw));
  return outs;
}

void Consumer::ProcessBatch(std::vector<ReceivedMessage> batch) {
  for (const ReceivedMessage& m : batch) ObserveAge(m);
  auto start = ticker_.Now();
  std::vector<HandlerOutcome> outs = RunBatchHandler(batch);
  // Each outcome but kUnavailable is final at once, and its slot free. The messages that met
  // an unavailable store run again together, in place, as long as the outage lasts (as in
  // Process), each while its lease is held; the others are released or left to the broker by
  // Finish.
  for (int n = 1;; ++n) {
    const auto share = (ticker_.Now() - start) / static_cast<int>(batch.size());
    std::vector<size_t> held;
    for (size_t i = 0; i < batch.size(); ++i) {
      if (outs[i].verdict == Verdict::kUnavailable) {
        held.push_back(i);
      } else {
        Finish(batch[i], std::move(outs[i]), /*acked_in_transaction=*/false, share);
      }
    }
    FreeSlots(static_cast<int>(batch.size() - held.size()));
    if (held.empty()) return;
    const bool again =
        WaitBeforeRunningAgain(n, static_cast<int>(held.size()), outs[held[0]].reason);
    std::vector<ReceivedMessage> next;
    for (size_t i : held) {
      if (again && LeaseHeld(batch[i].receipt_handle)) {
        next.push_back(std::move(batch[i]));
      } else {
        Finish(batch[i], std::move(outs[i]), /*acked_in_transaction=*/false, share);
      }
    }
    FreeSlots(static_cast<int>(held.size() - next.size()));
    if (next.empty()) return;
    counters_.reran += static_cast<int64_t>(next.size());
    batch = std::move(next);
    start = ticker_.Now();
    outs = RunBatchHandler(batch);
  }
}

void Consumer::Finish(const ReceivedMessage& m, HandlerOutcome out, bool acked_in_transaction,
                      Ticker::Duration took) {
  if (out.verdict != Verdict::kUnavailable) {
    if (const int64_t failures = unavailable_.Ended(); failures > 0) {
      DRIPR_LOG_INFO("[{}] store available again after {} failed handler runs", name_, failures);
    }
  }
  if (out.verdict == Verdict::kRetry && m.receive_count >= options_.max_attempts) {
    out = HandlerOutcome::Failure(
        "gave up after " + std::to_string(m.receive_count) + " attempts: " + out.reason,
        out.campaign_id);
  }
  switch (out.verdict) {
    case Verdict::kDone:
      ++counters_.done;
      metrics_.done.Increment();
      DropLease(m.receipt_handle);
      if (!acked_in_transaction) Ack(m.receipt_handle);
      break;
    case Verdict::kRetry:
      RetryLater(m, out.reason);
      break;
    case Verdict::kFail:
      GiveUp(m, out.reason);
      break;
    case Verdict::kUnavailable:
      // Held until shutdown, or its lease lapsed: given back without an attempt counted here
      // (the next receive counts one on the broker: docs/decisions/consumer.md).
      if (LeaseHeld(m.receipt_handle)) {
        DropLease(m.receipt_handle);
        std::lock_guard vis_lock(visibility_mu_);
        if (auto st = queue_.ChangeVisibility(m.receipt_handle, seconds(0)); !st) {
          DRIPR_LOG_WARN("[{}] could not release {} (it reappears after its lease): {}", name_,
                         m.message_id, st.error().ToString());
        }
        ++counters_.released;
        out.reason += "; released at shutdown";
      } else {
        DropLease(m.receipt_handle);
        out.reason += "; its lease lapsed, left to the broker";
      }
      break;
  }
  // Outcome point: handled, with verdict and duration (of the last handler run; in a batch,
  // the run's time divided among its messages).
  const auto elapsed = std::chrono::duration<double>(took);
  metrics_.handler_duration.Observe(elapsed.count());
  LogHandled(m, out, elapsed.count() * 1000.0);
}

bool Consumer::WaitToRunAgain(const ReceivedMessage& m, int n, const std::string& why) {
  return WaitBeforeRunningAgain(n, 1, why) && LeaseHeld(m.receipt_handle);
}

bool Consumer::WaitBeforeRunningAgain(int n, int messages, const std::string& why) {
  const auto delay = UnavailableBackoff(n);
  const int held = held_ += messages;
  if (const int64_t failures = unavailable_.Failed(); failures > 0) {
    DRIPR_LOG_WARN(
        "[{}] store unavailable: {} ({} message(s) held, each run again after a "
        "backoff without using an attempt; {} failed run(s) so far)",
        name_, why, held, failures);
  }
  bool stopped;
  {
    std::unique_lock lock(mu_);
    stopped = ticker_.WaitUntil(lock, held_cv_, ticker_.Now() + delay,
                                [&] { return stopping_ && receivers_running_ == 0; });
  }
  held_ -= messages;
  return !stopped;
}

bool Consumer::LeaseHeld(const std::string& receipt) {
  const auto now = ticker_.Now();
  std::lock_guard lock(lease_mu_);
  auto it = leases_.find(receipt);
  return it != leases_.end() && it->second.expires > now;
}

// d = min(base * 2^(n-1), unavailable_backoff_cap), then somewhere in [d/2, d] (equal jitter:
// the held messages of several fetchers do not all hit a returning database at once).
std::chrono::milliseconds Consumer::UnavailableBackoff(int n) {
  const double base = static_cast<double>(options_.backoff_base.count());
  const double cap = static_cast<double>(
      std::chrono::duration_cast<milliseconds>(options_.unavailable_backoff_cap).count());
  const double delay = std::min(base * static_cast<double>(1 << std::clamp(n - 1, 0, 20)), cap);
  return milliseconds(std::max<int64_t>(1, std::llround(random_.Uniform(delay / 2, delay))));
}

std::chrono::seconds Consumer::Backoff(int receive_count) {
  double base = static_cast<double>(options_.backoff_base.count()) / 1000.0;
  int exp = std::clamp(receive_count - 1, 0, 20);
  double delay = std::min(base * static_cast<double>(1 << exp),
                          static_cast<double>(options_.backoff_cap.count()));
  // "Equal jitter": somewhere in [delay/2, delay], at least one second (SQS granularity).
  const double jittered = random_.Uniform(delay / 2, delay);
  return seconds(std::max<int64_t>(1, static_cast<int64_t>(jittered + 0.5)));
}

// One line per handled message; JSON logs carry the fields as keys (core/log.h).
void Consumer::LogHandled(const ReceivedMessage& m, const HandlerOutcome& out, double ms) {
  const auto level = out.verdict == Verdict::kDone ? spdlog::level::info : spdlog::level::warn;
  LogFields f;
  f.campaign_id = out.campaign_id.str();
  f.message_id = m.message_id;
  f.queue = name_;
  f.part = name_;  // each queue carries one part, named alike
  f.attempt = m.receive_count;
  f.duration_ms = ms;
  // The outcome words of dripr_messages_handled_total (the text line keeps "failed").
  f.outcome = out.verdict == Verdict::kFail ? "failure"
                                            : std::string(NameOf(kVerdictNames, out.verdict, "?"));
  if (out.verdict != Verdict::kDone) f.error = out.reason;
  // The text line is only formatted for text logs (JSON logs write the fields instead).
  std::string text;
  if (CurrentLogFormat() == LogFormat::kText) {
    text = fmt::format(
        "[{}] campaign={} message={} attempt={} outcome={} reason=\"{}\" duration_ms={:.1f}", name_,
        out.campaign_id.empty() ? "-" : out.campaign_id.view(), m.message_id, m.receive_count,
        NameOf(kVerdictNames, out.verdict, "?"), out.reason, ms);
  }
  LogStructured(level, f, fmt::format("message {}: {}", f.outcome, out.reason), text);
}

void Consumer::RetryLater(const ReceivedMessage& m, const std::string& why) {
  ++counters_.retried;
  metrics_.retry.Increment();
  DropLease(m.receipt_handle);
  auto delay = Backoff(m.receive_count);
  std::lock_guard vis_lock(visibility_mu_);
  if (auto st = queue_.ChangeVisibility(m.receipt_handle, delay); !st) {
    // The message reappears when its current lease lapses instead: still not lost.
    DRIPR_LOG_WARN("[{}] could not delay retry of {}: {} ({})", name_, m.message_id,
                   st.error().ToString(), why);
  }
}

void Consumer::GiveUp(const ReceivedMessage& m, const std::string& reason) {
  // The reason goes into a DLQ message attribute and the campaign's error_text: SQS and
  // PostgreSQL refuse invalid UTF-8 (and SQS control characters), and a refused copy would be
  // retried instead of dead-lettered. So: escaped, then cut on a character boundary.
  const std::string why(TruncateUtf8(TerminalSafe(reason), kMaxReasonLength));
  if (dlq_ == nullptr) {
    DRIPR_LOG_ERROR("[{}] no DLQ configured; leaving {} to the broker's redrive: {}", name_,
                    m.message_id, why);
    RetryLater(m, why);
    return;
  }
  OutgoingMessage copy{m.body, m.attributes};
  copy.attributes[std::string(kFailureReasonAttribute)] = why;
  copy.attributes[std::string(kSourceQueueAttribute)] = queue_.Name();
  copy.attributes[std::string(kReceiveCountAttribute)] = std::to_string(m.receive_count);
  if (auto sent = dlq_->Send(copy); !sent) {
    DRIPR_LOG_ERROR("[{}] could not copy {} to the DLQ, will retry: {}", name_, m.message_id,
                    sent.error().ToString());
    RetryLater(m, why);
    return;
  }
  metrics_.dead_lettered.Increment();
  if (auto st = handler_.OnFailure(m, why); !st) {
    DRIPR_LOG_ERROR("[{}] could not record failure of {}, will retry: {}", name_, m.message_id,
                    st.error().ToString());
    RetryLater(m, why);
    return;
  }
  // Outcome point: dead-lettered.
  ++counters_.failed;
  metrics_.failure.Increment();
  DropLease(m.receipt_handle);
  Ack(m.receipt_handle);
}

void Consumer::Release(const std::vector<ReceivedMessage>& ms) {
  for (size_t i = 0; i < ms.size(); i += kMaxBatch) {
    std::vector<std::pair<std::string, seconds>> entries;
    for (size_t j = i; j < std::min(ms.size(), i + kMaxBatch); ++j) {
      entries.emplace_back(ms[j].receipt_handle, seconds(0));
      DropLease(ms[j].receipt_handle);
    }
    std::unique_lock vis_lock(visibility_mu_);
    auto r = queue_.ChangeVisibilityBatch(entries);
    vis_lock.unlock();
    if (!r) {
      DRIPR_LOG_WARN("[{}] could not release {} messages (they reappear after their lease): {}",
                     name_, entries.size(), r.error().ToString());
    }
    counters_.released += static_cast<int64_t>(entries.size());
    metrics_.in_flight.Decrement(static_cast<double>(entries.size()));
  }
}

std::chrono::seconds Consumer::ReceiveVisibility() const {
  if (queue_.ReceiveNeverStrands()) return options_.visibility_timeout;
  return std::min(options_.receive_visibility, options_.visibility_timeout);
}

void Consumer::AddLeases(const std::vector<ReceivedMessage>& ms, Ticker::TimePoint sent_at) {
  // Counted from before the Receive was sent: the server's visibility started earlier than
  // its reply arrived.
  const auto length = std::chrono::duration_cast<Ticker::Duration>(ReceiveVisibility());
  const Lease lease{.expires = sent_at + length, .length = length};
  bool wake = false;
  {
    std::lock_guard lock(lease_mu_);
    for (const auto& m : ms) leases_[m.receipt_handle] = lease;
    // The lease loop is woken only when this batch is due before what it waits for: the
    // first lease of an idle loop (which waits without a timeout), or a short receive lease
    // while it waits for a full one. Otherwise it finds the batch when it next looks.
    if (const auto due = ExtensionDueAt(lease); due < lease_wake_at_) {
      lease_wake_at_ = due;
      lease_sooner_ = wake = true;
    }
  }
  if (wake) lease_cv_.notify_one();
}

Ticker::TimePoint Consumer::ExtensionDueAt(const Lease& lease) const {
  const auto due = lease.length < options_.visibility_timeout ? lease.expires - lease.length * 4 / 5
                                                              : lease.expires - lease.length / 2;
  return std::max(due, lease.retry_at);
}

void Consumer::DropLease(const std::string& receipt) {
  std::lock_guard lock(lease_mu_);
  leases_.erase(receipt);
}

void Consumer::LeaseLoop() {
  // Sleeps until the earliest extension due (ExtensionDueAt: a short receive lease 1 s after
  // its receive, a full one when half of it is left), and without a timeout while no lease is
  // held: an idle consumer's loop never wakes (AddLeases wakes it for a lease due sooner).
  const auto vis = options_.visibility_timeout;
  std::unique_lock lock(lease_mu_);
  while (true) {
    lease_wake_at_ = Ticker::TimePoint::max();
    for (const auto& [receipt, lease] : leases_) {
      lease_wake_at_ = std::min(lease_wake_at_, ExtensionDueAt(lease));
    }
    lease_sooner_ = false;
    ticker_.WaitUntil(lock, lease_cv_, lease_wake_at_,
                      [&] { return lease_stop_ || lease_sooner_; });
    if (lease_stop_) return;
    ++counters_.lease_wakeups;
    const auto now = ticker_.Now();
    std::vector<std::string> due;
    for (const auto& [receipt, lease] : leases_) {
      if (now >= ExtensionDueAt(lease)) due.push_back(receipt);
    }
    if (due.empty()) continue;
    lock.unlock();
    for (size_t i = 0; i < due.size(); i += kMaxBatch) {
      // Under visibility_mu_, and only the leases still held: a worker that dropped one
      // meanwhile has set (or is about to set) its own visibility, which must stay the last.
      std::lock_guard vis_lock(visibility_mu_);
      std::vector<std::pair<std::string, seconds>> entries;
      {
        std::lock_guard held(lease_mu_);
        for (size_t j = i; j < std::min(due.size(), i + kMaxBatch); ++j) {
          if (leases_.contains(due[j])) entries.emplace_back(due[j], vis);
        }
      }
      if (entries.empty()) continue;
      auto sent_at = ticker_.Now();
      auto r = queue_.ChangeVisibilityBatch(entries);
      std::lock_guard relock(lease_mu_);
      for (size_t k = 0; k < entries.size(); ++k) {
        auto it = leases_.find(entries[k].first);
        if (it == leases_.end()) continue;  // acked meanwhile
        if (r && k < r->size() && (*r)[k]) {
          it->second = Lease{.expires = sent_at + vis, .length = vis};
          ++counters_.lease_extensions;
        } else {
          it->second.retry_at = sent_at + it->second.length / 5;  // not at once, in a loop
          DRIPR_LOG_WARN("[{}] lease extension failed: {}", name_,
                         !r ? r.error().ToString()
                            : (k < r->size() ? (*r)[k].error().ToString() : "no result"));
        }
      }
    }
    lock.lock();
  }
}

void Consumer::Ack(const std::string& receipt) {
  bool wake;
  {
    std::lock_guard lock(ack_mu_);
    acks_.push_back(receipt);
    // The ack loop waits for the first acknowledgement, then for a full batch or the flush
    // interval: only those two need it awake (one context switch per batch, not per message).
    wake = acks_.size() == 1 || acks_.size() >= kMaxBatch;
  }
  if (wake) ack_cv_.notify_all();
}

bool Consumer::FlushAcks(std::unique_lock<std::mutex>& lock) {
  std::vector<std::string> batch;
  size_t n = std::min(acks_.size(), kMaxBatch);
  batch.assign(acks_.begin(), acks_.begin() + static_cast<long>(n));
  acks_.erase(acks_.begin(), acks_.begin() + static_cast<long>(n));
  lock.unlock();
  auto r = queue_.DeleteBatch(batch);
  std::vector<std::string> again;
  if (!r) {
    ++counters_.delete_errors;
    DRIPR_LOG_WARN("[{}] delete batch failed: {}", name_, r.error().ToString());
    if (r.error().Retryable()) again = batch;
  } else {
    for (size_t i = 0; i < batch.size() && i < r->size(); ++i) {
      if ((*r)[i]) continue;
      ++counters_.delete_errors;
      // A stale receipt means the message was redelivered; its handler runs again and,
      // being idempotent, acknowledges it without effect.
      DRIPR_LOG_WARN("[{}] delete failed: {}", name_, (*r)[i].error().ToString());
      if ((*r)[i].error().Retryable()) again.push_back(batch[i]);
    }
  }
  lock.lock();
  acks_.insert(acks_.end(), again.begin(), again.end());
  return again.empty();
}

void Consumer::AckLoop() {
  std::unique_lock lock(ack_mu_);
  while (true) {
    ack_cv_.wait(lock, [&] { return ack_stop_ || !acks_.empty(); });
    if (acks_.empty() && ack_stop_) return;
    // Batch: wait briefly for more unless a full batch is ready.
    if (acks_.size() < kMaxBatch && !ack_stop_) {
      ticker_.WaitFor(lock, ack_cv_, options_.ack_flush_interval,
                      [&] { return ack_stop_ || acks_.size() >= kMaxBatch; });
    }
    int failures = 0;
    while (!acks_.empty()) {
      if (!FlushAcks(lock)) {
        // Broker trouble: back off a little; at shutdown give up after a few tries (the
        // messages reappear and are acknowledged without effect by the next consumer).
        if (ack_stop_ && ++failures >= 3) {
          DRIPR_LOG_ERROR("[{}] {} acknowledgements not flushed at shutdown", name_, acks_.size());
          acks_.clear();
          break;
        }
        ticker_.WaitFor(lock, ack_cv_, options_.receive_error_backoff, [] { return false; });
      }
    }
  }
}

}  // namespace dripr
