#pragma once
// ForwardingQueue: a Queue that hands each call to the queue Target() finds (LevelDB's
// EnvWrapper pattern). A subclass says where the target comes from and overrides what it
// does differently; a call whose target cannot be found fails with Target()'s error.
//
// Forwarded: the calls that can fail (Send, Receive, DeleteBatch, ChangeVisibilityBatch,
// Stats, Purge). Not forwarded, since they cannot report a failed lookup and must not wait for
// one: Name (pure), CancelReceives, ReceiveNeverStrands, AckInNextTransaction and Browse keep
// Queue's defaults unless the subclass overrides them.

#include <chrono>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "dripr/bus/bus.h"
#include "dripr/core/error.h"

namespace dripr {

class ForwardingQueue : public Queue {
 public:
  Result<std::string> Send(const OutgoingMessage& m) override {
    DRIPR_ASSIGN_OR_RETURN(Queue * q, Target());
    return q->Send(m);
  }
  Result<std::vector<ReceivedMessage>> Receive(
      int max_messages, std::chrono::milliseconds wait,
      std::optional<std::chrono::seconds> visibility = std::nullopt) override {
    DRIPR_ASSIGN_OR_RETURN(Queue * q, Target());
    return q->Receive(max_messages, wait, visibility);
  }
  Result<std::vector<Status>> DeleteBatch(const std::vector<std::string>& receipts) override {
    DRIPR_ASSIGN_OR_RETURN(Queue * q, Target());
    return q->DeleteBatch(receipts);
  }
  Result<std::vector<Status>> ChangeVisibilityBatch(
      const std::vector<std::pair<std::string, std::chrono::seconds>>& entries) override {
    DRIPR_ASSIGN_OR_RETURN(Queue * q, Target());
    return q->ChangeVisibilityBatch(entries);
  }
  Result<QueueStats> Stats() override {
    DRIPR_ASSIGN_OR_RETURN(Queue * q, Target());
    return q->Stats();
  }
  Status Purge() override {
    DRIPR_ASSIGN_OR_RETURN(Queue * q, Target());
    return q->Purge();
  }

 protected:
  // The queue the calls go to, valid as long as this object; or why there is none.
  virtual Result<Queue*> Target() = 0;
};

}  // namespace dripr
