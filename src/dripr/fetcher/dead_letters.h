#pragma once
// Dead-letter queue tooling behind `dripr dlq list` and `dripr dlq redrive`: reading a DLQ
// without consuming it, and moving its messages back to the work queue — only those a
// fetcher would act on. A message whose event has become stale (its campaign was retried,
// reset, restarted or finished since) would only be acknowledged as stale if redriven, so it
// is left in the DLQ (or discarded on request) and the report says what to do instead.

#include <string>
#include <vector>

#include "dripr/bus/bus.h"
#include "dripr/store/store.h"

namespace dripr {

// Up to this many messages per Receive/ChangeVisibilityBatch call (the SQS maximum).
inline constexpr int kDeadLetterBatch = 10;
// How long a peeked message stays hidden before PeekQueue releases it.
inline constexpr std::chrono::seconds kPeekVisibility{30};
// How long a redrive holds a DLQ message while deciding about it.
inline constexpr std::chrono::seconds kRedriveVisibility{60};

// Every message of `q` without consuming it: read as they are where the backend can
// (Queue::Browse: the embedded bus; nothing about them changes), else received with short
// leases and then all released (visibility 0), in receive order, each once — on SQS every
// such peek raises each message's ApproximateReceiveCount by one.
Result<std::vector<ReceivedMessage>> PeekQueue(Queue& q);

// Why a dead letter is there: the consumer's failure-reason attribute, or a note that the
// broker moved it after too many receives.
std::string DeadLetterReason(const ReceivedMessage& m);

// What redriving a dead letter now would lead to.
struct RedriveVerdict {
  enum class Kind {
    kRedrive,  // a fetcher would process it: send it back to the work queue
    kStale,    // a fetcher would only acknowledge it as stale: do not redrive
    kKeep,     // it would fail or be ignored again until someone acts (reason says how)
  };
  Kind kind = Kind::kKeep;
  CampaignId campaign_id;  // empty when the body is not an event
  std::string reason;      // one line for the operator
};

// Decides from the message's event and its campaign's current row. A store error other
// than kNotFound is returned (the caller cannot decide without the campaign).
Result<RedriveVerdict> ClassifyDeadLetter(const ReceivedMessage& m, DataPart part, Store& store);

struct RedriveOptions {
  bool discard_stale = false;  // delete stale messages instead of leaving them in the DLQ
};

// What happened to one message.
struct RedriveEntry {
  enum class Action { kRedriven, kSkipped, kDiscarded };
  std::string message_id;
  CampaignId campaign_id;  // empty when the body is not an event
  Action action = Action::kSkipped;
  std::string queue;   // kRedriven: the work queue it went to
  std::string reason;  // kSkipped / kDiscarded: why
};
std::string_view ToString(RedriveEntry::Action a);  // "redriven", "skipped", "discarded"

// Moves the messages of `dlq` that a fetcher would act on to `work` (send, then delete: a
// crash in between duplicates rather than loses; handlers are idempotent), deletes the stale
// ones when asked, and releases the rest back into the DLQ at once. One entry per message, in
// the order they were received. Stops at the first bus error (messages not yet handled stay
// in the DLQ and reappear within kRedriveVisibility).
Result<std::vector<RedriveEntry>> RedriveDeadLetters(Queue& dlq, Queue& work, DataPart part,
                                                     Store& store, const RedriveOptions& options);

// One dead letter, chosen by an operator (the ops dashboard): finds `message_id` in `dlq`
// (every other message it receives on the way is released at once) and either sends it back
// to `work` whatever ClassifyDeadLetter says — the operator saw the verdict and confirmed — then
// deletes it from `dlq` (kRedriven), or only deletes it (kDiscarded). kNotFound when it is not
// there (or is being read by someone else right now).
enum class DeadLetterOp { kRedrive, kDelete };
Result<RedriveEntry> ActOnDeadLetter(Queue& dlq, Queue& work, const std::string& message_id,
                                     DeadLetterOp op);

}  // namespace dripr
