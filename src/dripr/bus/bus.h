#pragma once
// Topic/Queue interfaces shaped like SNS/SQS, so the consumer engine, the outbox relay
// and the tooling run unchanged on the embedded bus (bus/embedded/) and on AWS (bus/aws/).
// Every backend passes tests/bus/bus_contract.h. All methods are thread-safe.

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "dripr/core/clock.h"
#include "dripr/core/error.h"
#include "dripr/domain/status.h"

namespace dripr {

using MessageAttributes = std::map<std::string, std::string>;  // String attributes only

struct OutgoingMessage {
  std::string body;
  MessageAttributes attributes;
  // SQS DelaySeconds (0–900): the message is "delayed", not receivable, for this long.
  std::chrono::seconds delay{0};
};

// SQS/SNS limits of a message, the same on every bus (the embedded one enforces them so that
// nothing works there that would fail on AWS): a body of 1 to 262,144 bytes of valid UTF-8,
// attribute names 1-256 characters, values valid UTF-8, a delay of 0-900 s. kInvalidArgument
// naming the problem. A message that fails it is refused by every bus, however often it is
// sent (the outbox relay sets such a row aside).
Status ValidateOutgoingMessage(const OutgoingMessage& m);

struct ReceivedMessage {
  std::string message_id;
  std::string receipt_handle;  // valid until the message becomes visible again
  std::string body;
  MessageAttributes attributes;
  int receive_count = 0;  // ApproximateReceiveCount, 1 on first delivery
  SysTime sent_at{};      // SentTimestamp
};

// What a topic's subscriptions would do with a message right now (operator tooling:
// `dripr publish` says when an event went nowhere; docs/decisions/cli.md "publish").
struct SubscriptionMatches {
  int subscriptions = 0;  // subscriptions that receive messages (pending ones do not)
  int matched = 0;        // of those, the ones whose filter policy accepts the message
  // Subscriptions whose filter policy uses an operator bus/filter_policy.h does not evaluate
  // (numeric, suffix, ...): they may or may not have taken it. One "<endpoint>: <why>" each.
  std::vector<std::string> undecided;
};

class Topic {
 public:
  virtual ~Topic() = default;
  // Publishes to every subscription whose filter matches. Returns the message id.
  virtual Result<std::string> Publish(const OutgoingMessage& m) = 0;
  // Publishes `ms` in order, as Publish would each: one result per message. The first failure
  // ends the batch: the messages after it are kAborted, not published; the ones before it
  // are published. The default calls Publish per message; a backend may write them together
  // (the embedded bus: one transaction, so a failed commit fails every message and publishes
  // none).
  virtual std::vector<Result<std::string>> PublishBatch(const std::vector<OutgoingMessage>& ms);
  virtual std::string Name() const = 0;
  // Non-null: the connection publishes commit through; equal to Store::TransactionKey() when
  // the topic writes the store's own database through the same connection (the embedded bus
  // on the store's SQLite file), and then publishes may join a store transaction
  // (Store::InOneTransaction). Null (SQS, test doubles): never.
  virtual const void* TransactionKey() const { return nullptr; }
  // Evaluates every subscription's filter policy against `m` as Publish would, from the
  // subscriptions as they are at the call (nothing is cached: an operator may change them).
  // Publishes nothing. The default (test doubles) is kFailedPrecondition.
  virtual Result<SubscriptionMatches> MatchSubscriptions(const OutgoingMessage& m) {
    (void)m;
    return Fail(ErrorCode::kFailedPrecondition,
                "topic " + Name() + " cannot evaluate its subscriptions' filters");
  }
};

struct QueueStats {
  int64_t visible = 0;    // ApproximateNumberOfMessages
  int64_t in_flight = 0;  // ApproximateNumberOfMessagesNotVisible (received, not deleted)
  int64_t delayed = 0;    // ApproximateNumberOfMessagesDelayed (sent with a delay, not yet due)
  // Whether the backend measures the age of its oldest message. SQS does not: that figure
  // is CloudWatch's ApproximateAgeOfOldestMessage, not a queue attribute
  // (docs/decisions/dashboard.md).
  bool oldest_known = true;
  // SentTimestamp of the oldest message in the queue, in any state; nullopt when the queue
  // is empty or !oldest_known.
  std::optional<SysTime> oldest_sent_at;
};

class Queue {
 public:
  virtual ~Queue() = default;
  virtual std::string Name() const = 0;

  virtual Result<std::string> Send(const OutgoingMessage& m) = 0;

  // Up to `max_messages` (1–10). Waits up to `wait` for the first message (long poll).
  // Received messages are invisible for `visibility` (nullopt: the queue's default).
  // Messages whose receive count would exceed the redrive max go to the DLQ instead.
  virtual Result<std::vector<ReceivedMessage>> Receive(
      int max_messages, std::chrono::milliseconds wait,
      std::optional<std::chrono::seconds> visibility = std::nullopt) = 0;

  // Shutdown: makes the Receive calls waiting right now return early (an error or an empty
  // batch), never losing a message — a reply that has started to arrive is still returned
  // (docs/decisions/shutdown.md). Later Receive calls are not affected. The default does
  // nothing (test doubles, wrappers that forward it).
  virtual void CancelReceives() {}

  // True when a Receive hands its messages to the caller or to nobody: no abandoned call can
  // leave messages taken on its behalf (an in-process queue). The consumer engine then
  // receives with the full lease at once, without the short receive visibility and the
  // extension call that guard SQS's long polls (docs/decisions/shutdown.md).
  virtual bool ReceiveNeverStrands() const { return false; }

  // Transactional consume (docs/decisions/bus.md): while the returned object lives, the
  // store's next transition on THIS thread deletes the message too, in the same transaction,
  // when the store and this queue share one database (the embedded default); committed()
  // then says the message is gone and needs no acknowledgement. If the receipt is stale by
  // then, that transaction fails and commits nothing, and superseded() says so: the message
  // was received again elsewhere after its lease lapsed and is that delivery's now (the
  // engine then neither fails nor acknowledges it). nullptr (the default, SQS): acknowledge
  // as usual.
  class InTransactionAck {
   public:
    virtual ~InTransactionAck() = default;
    virtual bool committed() const = 0;
    virtual bool superseded() const { return false; }
  };
  virtual std::unique_ptr<InTransactionAck> AckInNextTransaction(const std::string& receipt) {
    (void)receipt;
    return nullptr;
  }

  // Batch delete / visibility change; one Status per entry, in input order.
  // A stale receipt handle is kInvalidArgument for that entry.
  virtual Result<std::vector<Status>> DeleteBatch(const std::vector<std::string>& receipts) = 0;
  virtual Result<std::vector<Status>> ChangeVisibilityBatch(
      const std::vector<std::pair<std::string, std::chrono::seconds>>& entries) = 0;

  Status Delete(const std::string& receipt);
  Status ChangeVisibility(const std::string& receipt, std::chrono::seconds timeout);

  virtual Result<QueueStats> Stats() = 0;
  virtual Status Purge() = 0;

  // Operator tooling (`dripr dlq list`, the dashboard): the messages visible now, oldest
  // first, read without receiving them: receive counts, visibility and receipts are left
  // alone (receipt_handle is empty). nullopt (the default; SQS, where every read is a
  // receive): the caller receives and releases instead (PeekQueue, fetcher/dead_letters.h).
  virtual Result<std::optional<std::vector<ReceivedMessage>>> Browse() { return std::nullopt; }
};

using TopicPtr = std::unique_ptr<Topic>;
using QueuePtr = std::unique_ptr<Queue>;

// The pipeline's wiring of topic and queues, whatever the backend.
class Bus {
 public:
  virtual ~Bus() = default;
  virtual Topic& CampaignEvents() = 0;
  // local market updates / active listings / recent sales
  virtual Queue& WorkQueue(DataPart part) = 0;
  virtual Queue& DeadLetterQueue(DataPart part) = 0;
};

using BusPtr = std::unique_ptr<Bus>;

// Logical names of the pipeline's topic and queues (docs/contracts.md §1). The embedded backend
// uses them as table keys; `dripr infra up` can derive AWS names from them.
struct BusNames {
  std::string campaign_events_topic = "campaign-events";
  std::string local_market_updates_queue = "local-market-updates";
  std::string active_listings_queue = "active-listings";
  std::string recent_sales_queue = "recent-sales";

  // The work queue consuming `part`'s events.
  const std::string& WorkQueue(DataPart part) const;
  // "<work queue>-dlq".
  std::string DeadLetterQueue(DataPart part) const { return WorkQueue(part) + "-dlq"; }
};

}  // namespace dripr
