#pragma once
// The embedded bus: SNS/SQS semantics kept durably in SQLite (docs/contracts.md §1, "single
// machine").
//
//   EmbeddedBroker  owns the SQLite connection and the in-process wake-ups; declares
//                   topics, queues (visibility timeout, redrive to a DLQ) and subscriptions
//                   (filter policy, raw or SNS-envelope delivery). Idempotent declarations.
//   EmbeddedTopic   a Topic: Publish fans out to every matching subscription in one
//                   transaction.
//   EmbeddedQueue   a Queue: receive with long poll, visibility timeout, receipt handles,
//                   batch delete / change visibility, stats, purge.
//   EmbeddedBus     the pipeline layout (topic "campaign-events", three work queues with a
//                   "-dlq" each, body filter on payload.to_status = WAITING_FOR_DATA).
//
// Storage: tables bus_topics, bus_queues, bus_messages, bus_subscriptions (created if
// missing) in the given file, which may be the store's own database. WAL with
// synchronous=NORMAL: every committed operation survives a process crash. Several
// processes may share the file (busy timeout + BEGIN IMMEDIATE); in one process every write
// goes through the one writer connection for the file (sqlite/writer.h), reads through the
// broker's own connection. Each process should open one broker per file and share it.
//
// Long poll: a receive wakes at once when a message is sent or published through the same
// broker or another broker on the same file in this process (a condition variable per queue,
// embedded/wake_hub.h); when another process commits to the file (sqlite/change_watcher.h:
// inotify on the WAL, started by the first long poll), within a millisecond or two; when the
// earliest invisible message of the queue becomes visible, at that time; and otherwise re-checks
// the file every `poll_interval` as a fallback (`watched_poll_interval` while the change
// watcher runs).
//
// Receipt handles are strict: a handle stops working once the message is received again,
// deleted or moved to the DLQ (kInvalidArgument "receipt handle is invalid or expired").
// SQS is more lenient with old handles; callers must not rely on either behaviour.
//
// Thread-safety: every class here may be used from any number of threads. Topics and
// queues keep their broker alive.

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "dripr/bus/bus.h"
#include "dripr/bus/embedded/wake_hub.h"
#include "dripr/bus/filter_policy.h"
#include "dripr/bus/sqs_limits.h"
#include "dripr/core/clock.h"
#include "dripr/core/error.h"
#include "dripr/sqlite/db.h"
#include "dripr/sqlite/writer.h"

namespace dripr {

struct EmbeddedBrokerOptions {
  // Time source for sent/visible timestamps. Null: the system clock.
  const Clock* clock = nullptr;
  // Times the long-poll waits (a receive returns when its wait has passed on this ticker).
  // Null: the real one. Must outlive the broker.
  Ticker* ticker = nullptr;
  // How long a write waits for another process holding the database lock before the
  // operation fails with kUnavailable.
  std::chrono::milliseconds busy_timeout{5000};
  // Longest wait between two cheap "anything visible?" queries while a receive is waiting:
  // the fallback for a change the watcher cannot see (no inotify), and the bound for a
  // visibility timeout judged on an injected clock.
  std::chrono::milliseconds poll_interval{500};
  // The same while the change watcher runs (sqlite/change_watcher.h), which wakes the long
  // polls for other processes' commits as this process's own commits do (WakeHub): the look is
  // then only a safety net for a commit the watcher missed (one published in the WAL index
  // later than its confirmation window, ~180 ms after its WAL write), and a visibility
  // timeout still ends the wait when it lapses. Not longer than needed for that: 5 s.
  std::chrono::milliseconds watched_poll_interval{5000};
  // false: the file must exist already and the bus tables are not created (read-only
  // commands; nothing is written by opening).
  bool create = true;
};

struct EmbeddedQueueConfig {
  std::string name;                             // 1–80 of [A-Za-z0-9_-]
  std::chrono::seconds visibility_timeout{30};  // 0–43200
  // Redrive: a message already received `max_receive_count` times is moved to
  // `dead_letter_queue` by the next receive instead of being delivered. 0 and empty: none.
  int max_receive_count = 0;
  std::string dead_letter_queue;
  bool operator==(const EmbeddedQueueConfig&) const = default;
};

struct EmbeddedSubscription {
  std::string topic;
  std::string queue;
  std::string filter_policy;  // JSON (see filter_policy.h); empty: every message
  FilterScope filter_scope = FilterScope::kMessageAttributes;
  // false: the queue receives the SNS envelope {"Type":"Notification","Message":…} and no
  // message attributes (AWS default); true: the published body and attributes verbatim.
  bool raw_delivery = false;
};

class EmbeddedQueue;
class EmbeddedTopic;

class EmbeddedBroker : public std::enable_shared_from_this<EmbeddedBroker> {
 public:
  // Opens or creates the database at `path` and the bus tables (with options.create=false:
  // opens an existing file and creates nothing). kUnavailable when the file cannot be opened
  // or stays locked; kDataLoss when it is not a database.
  static Result<std::shared_ptr<EmbeddedBroker>> Open(const std::string& path,
                                                      EmbeddedBrokerOptions options = {});
  ~EmbeddedBroker();
  EmbeddedBroker(const EmbeddedBroker&) = delete;
  EmbeddedBroker& operator=(const EmbeddedBroker&) = delete;

  // Creates the queue or updates its settings. kInvalidArgument for a bad name, timeout or
  // redrive setting (max_receive_count 1–1000 and a DLQ go together; a queue cannot be its
  // own DLQ); kNotFound when the DLQ is not declared yet.
  Status DeclareQueue(const EmbeddedQueueConfig& config);
  // Creates the topic if missing. kInvalidArgument for a bad name (1–256 of [A-Za-z0-9_-]).
  Status DeclareTopic(const std::string& name);
  // Creates or replaces the (topic, queue) subscription. kNotFound when either is not
  // declared; kInvalidArgument for an invalid or unsupported filter policy.
  Status Subscribe(const EmbeddedSubscription& subscription);

  // Handles on declared queues/topics; kNotFound otherwise.
  Result<std::unique_ptr<EmbeddedQueue>> OpenQueue(const std::string& name);
  Result<std::unique_ptr<EmbeddedTopic>> OpenTopic(const std::string& name);

  Result<EmbeddedQueueConfig> GetQueueConfig(const std::string& name);
  // Every declared queue, by name.
  Result<std::vector<EmbeddedQueueConfig>> ListQueues();
  Result<std::vector<EmbeddedSubscription>> ListSubscriptions(const std::string& topic);

  // Whether the bus tables exist in the file (a broker opened with create=false).
  Result<bool> HasTables();

  const std::string& path() const { return path_; }

  // What ended the long polls' waits on `queue` in this process so far (shared by every
  // broker on the file; embedded/wake_hub.h). For tests, which assert a wake-up's cause.
  embedded::WakeHub::WakeCounts WakeCountsFor(const std::string& queue) {
    return wake_->Counts(queue);
  }

 private:
  friend class EmbeddedQueue;
  friend class EmbeddedTopic;

  EmbeddedBroker(std::string path, EmbeddedBrokerOptions options,
                 std::unique_ptr<sqlite::Connection> conn);
  Status CreateSchema();
  int64_t NowMillis() const;
  // The declared queue `name` as stored on `conn`; kNotFound when it is not declared.
  static Result<EmbeddedQueueConfig> ReadQueueConfig(sqlite::Connection& conn,
                                                     const std::string& name);

  // The only ways queues and topics reach the database: writes run `fn` inside one
  // BEGIN IMMEDIATE transaction (committed when `fn` succeeds) on the process's one writer
  // connection for the file (sqlite/writer.h, shared with the store on the same file);
  // reads run `fn` on the broker's own read connection while db_mu_ is held. `what`
  // prefixes BEGIN/COMMIT errors.
  Status InWriteTransaction(std::string_view what,
                            const std::function<Status(sqlite::Connection&)>& fn);
  Status WithConnection(const std::function<Status(sqlite::Connection&)>& fn);

  // In-process wake-ups (embedded/wake_hub.h, shared by the brokers on this file in the
  // process): a counter per queue, bumped after every commit that may have made a message
  // receivable there.
  uint64_t Generation(const std::string& queue) { return wake_->Generation(queue); }
  // Once the calling thread's transaction commits (sqlite::Writer::AfterCommit).
  void Notify(const std::vector<std::string>& queues) {
    writer_->AfterCommit([wake = wake_, queues] { wake->Notify(queues); });
  }
  // Commits by other connections to the file, seen by the change watcher.
  uint64_t ExternalGeneration() { return wake_->ExternalGeneration(); }
  // Starts the change watcher once (long polls only); a failure is logged once and leaves
  // the fallback poll.
  void EnsureWatching() { wake_->WatchOthersCommits(writer_, options_.poll_interval); }
  // How long a waiting receive goes without looking at the file when nothing wakes it.
  std::chrono::milliseconds FallbackSlice() const {
    return wake_->Watching() ? options_.watched_poll_interval : options_.poll_interval;
  }
  using Wake = embedded::WakeHub::Wake;
  Wake WaitForChange(const std::string& queue, uint64_t seen, uint64_t external_seen,
                     Ticker::TimePoint until, const std::function<bool()>& cancelled) {
    return wake_->WaitForChange(ticker_, queue, seen, external_seen, until, cancelled);
  }
  void Interrupt(const std::string& queue) { wake_->Interrupt(queue); }

  // Parsed filter policies by (scope, text); entries are never removed.
  Result<const FilterPolicy*> CachedPolicy(FilterScope scope, const std::string& text);

  // Constant after construction.
  const std::string path_;
  const EmbeddedBrokerOptions options_;
  const Clock& clock_;
  Ticker& ticker_;

  std::mutex db_mu_;  // serialises use of conn_ (the broker's read connection)
  std::unique_ptr<sqlite::Connection> conn_;  // guarded by db_mu_
  std::shared_ptr<sqlite::Writer> writer_;    // set by Open
  std::mutex policy_mu_;
  std::map<std::string, FilterPolicy> policy_cache_;  // guarded by policy_mu_

  std::shared_ptr<embedded::WakeHub> wake_;  // set by Open
};

class EmbeddedTopic final : public Topic {
 public:
  // Publishes to every subscribed queue whose filter matches, in one transaction; returns
  // the SNS message id (the envelope's MessageId). kNotFound when the topic was removed.
  Result<std::string> Publish(const OutgoingMessage& m) override;
  // All of them in one transaction (one commit, one wake-up per queue): the topic and its
  // subscriptions are read once.
  std::vector<Result<std::string>> PublishBatch(const std::vector<OutgoingMessage>& ms) override;
  std::string Name() const override { return name_; }
  // The process's writer for the file (sqlite/writer.h).
  const void* TransactionKey() const override { return broker_->writer_.get(); }
  // Evaluates every subscription's filter policy as Publish would (the rows read at the call).
  Result<SubscriptionMatches> MatchSubscriptions(const OutgoingMessage& m) override;
  // "embedded:<name>", the TopicArn written into envelopes.
  std::string Arn() const { return "embedded:" + name_; }

 private:
  friend class EmbeddedBroker;
  EmbeddedTopic(std::shared_ptr<EmbeddedBroker> broker, std::string name)
      : broker_(std::move(broker)), name_(std::move(name)) {}
  // Publishes `ms` on `conn` (inside a write transaction); `ids` gets their SNS ids and
  // `delivered` the queues written to.
  Status PublishOn(sqlite::Connection& conn, const std::vector<const OutgoingMessage*>& ms,
                   std::vector<std::string>& ids, std::vector<std::string>& delivered);
  std::shared_ptr<EmbeddedBroker> broker_;
  const std::string name_;
};

class EmbeddedQueue final : public Queue {
 public:
  std::string Name() const override { return name_; }
  Result<std::string> Send(const OutgoingMessage& m) override;
  // max_messages 1–10, wait >= 0, visibility 0–43200 s (else kInvalidArgument).
  Result<std::vector<ReceivedMessage>> Receive(
      int max_messages, std::chrono::milliseconds wait,
      std::optional<std::chrono::seconds> visibility = std::nullopt) override;
  // 1–10 entries (else kInvalidArgument for the whole call).
  Result<std::vector<Status>> DeleteBatch(const std::vector<std::string>& receipts) override;
  Result<std::vector<Status>> ChangeVisibilityBatch(
      const std::vector<std::pair<std::string, std::chrono::seconds>>& entries) override;
  Result<QueueStats> Stats() override;
  Status Purge() override;
  // A plain read of the visible rows: receive counts stay what the consumers made them.
  Result<std::optional<std::vector<ReceivedMessage>>> Browse() override;
  // In-process: a Receive's messages are the caller's once its transaction commits.
  bool ReceiveNeverStrands() const override { return true; }
  // Receives of this handle waiting now return an empty batch at once (a receive that is
  // taking messages finishes and returns them).
  void CancelReceives() override;
  // Deletes the message in the store's next transition on this thread when the store writes
  // this file through the same writer (sqlite::PendingInTransaction).
  std::unique_ptr<InTransactionAck> AckInNextTransaction(const std::string& receipt) override;

 private:
  friend class EmbeddedBroker;
  EmbeddedQueue(std::shared_ptr<EmbeddedBroker> broker, std::string name)
      : broker_(std::move(broker)), name_(std::move(name)) {}
  // One non-blocking attempt (one transaction).
  Result<std::vector<ReceivedMessage>> TryReceive(int max_messages,
                                                  std::optional<std::chrono::seconds> visibility);
  // When the queue's next message becomes visible (ms on the broker's clock); nullopt: empty.
  // `check_declared`: an empty queue that is not declared is kNotFound.
  Result<std::optional<int64_t>> NextVisibleAt(bool check_declared = false);

  std::shared_ptr<EmbeddedBroker> broker_;
  const std::string name_;
  std::atomic<uint64_t> cancels_{0};  // CancelReceives calls so far
};

struct EmbeddedBusOptions {
  EmbeddedBrokerOptions broker;
  std::chrono::seconds visibility_timeout{30};  // work queues and DLQs
  // Work queues → their DLQ; a re-declare keeps a larger count already declared.
  int max_receive_count = 5;
  bool raw_delivery = false;  // false: SNS envelope, as AWS by default
  // false: open the layout as it is declared in the file, declaring nothing (read-only
  // commands); kNotFound naming the missing topic or queue when it is not there.
  bool declare = true;
};

// The pipeline's topic and queues on the embedded bus.
class EmbeddedBus final : public Bus {
 public:
  // Opens the broker on `path` and declares the layout (idempotent; with options.declare
  // false: only opens it, kNotFound when the tables, topic or a queue are missing): topic
  // names.campaign_events_topic; for each part the work queue with DLQ "<name>-dlq" and a
  // subscription filtering the body on {"payload":{"to_status":["WAITING_FOR_DATA"]}}.
  static Result<std::unique_ptr<EmbeddedBus>> Open(const std::string& path,
                                                   const BusNames& names = {},
                                                   const EmbeddedBusOptions& options = {});
  // The same over an existing broker (share one broker per process and file).
  static Result<std::unique_ptr<EmbeddedBus>> Create(std::shared_ptr<EmbeddedBroker> broker,
                                                     const BusNames& names = {},
                                                     const EmbeddedBusOptions& options = {});

  Topic& CampaignEvents() override { return *topic_; }
  Queue& WorkQueue(DataPart part) override { return *work_[static_cast<int>(part)]; }
  Queue& DeadLetterQueue(DataPart part) override { return *dlq_[static_cast<int>(part)]; }
  EmbeddedBroker& broker() { return *broker_; }

  // The body filter every work queue's subscription uses.
  static constexpr std::string_view kWaitingForDataFilter = sqs::kWaitingForDataBodyFilter;

 private:
  EmbeddedBus() = default;
  std::shared_ptr<EmbeddedBroker> broker_;
  std::unique_ptr<EmbeddedTopic> topic_;
  std::unique_ptr<EmbeddedQueue> work_[3];
  std::unique_ptr<EmbeddedQueue> dlq_[3];
};

}  // namespace dripr
