#pragma once
// StoreBase: what every Store backend shares above its SQL — which pure transition
// (domain/transitions.h) each transition method runs, what a completed part writes, and the
// WaitForOutbox algorithm. A backend supplies the transaction (RunTransition), the part's
// rows (WritePart) and max(outbox.id) (MaxOutboxId).

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>

#include "dripr/store/store.h"

namespace dripr {

class StoreBase : public Store {
 public:
  Result<TransitionOutcome> StartCampaign(const std::string& id) final;
  Result<TransitionOutcome> CompletePart(const std::string& id, int64_t data_cycle,
                                         const PartData& data) final;
  Result<TransitionOutcome> FailCampaign(const std::string& id, std::optional<DataPart> part,
                                         std::optional<int64_t> data_cycle,
                                         const std::string& error_text) final;
  Result<TransitionOutcome> ResetCampaign(const std::string& id) final;

  // Rows inserted since the last ClaimOutbox of this store (by anyone) make it return at once,
  // so a relay that claims, finds nothing and then waits cannot miss a row in between. Rows
  // committed elsewhere are noticed by re-reading max(outbox.id) every `poll_interval`, or
  // sooner when the backend calls NotifyOutbox (its own commits, a NOTIFY).
  void WaitForOutbox(std::chrono::milliseconds timeout) override;
  void NotifyOutbox() override;

 protected:
  StoreBase(RequiredParts required_parts, std::chrono::milliseconds outbox_poll_interval)
      : required_parts_(std::move(required_parts)), outbox_poll_interval_(outbox_poll_interval) {}

  // Computes the next state from the current row; kFailedPrecondition = does not apply.
  using TransitionFn =
      std::function<Result<TransitionResult>(const Campaign&, SysTime now, std::string event_id)>;
  // One transaction: read the campaign, run `fn`, compare-and-set the row, then (when it
  // applies) write `completed` (may be null) through WritePart and the event's outbox row.
  // `changed=false` with the reason when `fn` says kFailedPrecondition.
  virtual Result<TransitionOutcome> RunTransition(const std::string& id, const TransitionFn& fn,
                                                  const PartData* completed) = 0;
  virtual Result<int64_t> MaxOutboxId() = 0;
  // Called when WaitForOutbox starts waiting (PostgreSQL starts its listener there).
  virtual void BeforeOutboxWait() {}

  // What a completed part writes: its rows (listings/sales), or the market data to insert
  // for the campaign's zip (nullopt: the handler reused a recent row, nothing to insert).
  static std::optional<MarketData> MarketDataToInsert(const PartData& part, const Campaign& next);

  void SetClaimedMaxId(int64_t id) { claimed_max_id_.store(id); }

 private:
  const RequiredParts required_parts_;
  const std::chrono::milliseconds outbox_poll_interval_;

  std::mutex notify_mu_;
  std::condition_variable notify_cv_;
  uint64_t outbox_generation_ = 0;  // guarded by notify_mu_; bumped by NotifyOutbox
  // max(outbox.id) seen by the last ClaimOutbox; -1 before the first claim.
  std::atomic<int64_t> claimed_max_id_{-1};
};

}  // namespace dripr
