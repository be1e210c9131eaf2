#pragma once
// StoreBase: what every Store backend shares above its SQL — which pure transition
// (domain/transitions.h) each transition method runs, the transition algorithm itself (read
// the locked row, run the pure function, compare-and-set, write the part's rows and the
// outbox event), and the WaitForOutbox algorithm. A backend supplies only SQL and driver
// code: a transaction with the statements of a TransitionTx, the clock (Now) and
// max(outbox.id) (MaxOutboxId).

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "dripr/core/flat_combiner.h"
#include "dripr/store/store.h"

namespace dripr {

class StoreBase : public Store {
 public:
  // Combining of concurrent transitions (RunTransition): up to `max_batch` transitions that
  // callers started while another batch ran go together in ONE transaction (their campaigns
  // locked in id order in one step, each transition then applied in arrival order on the rows
  // as the ones before it left them, all writes with one COMMIT), in at most `combiners`
  // transactions at once. max_batch 1: each transition is its own transaction (the default).
  // docs/decisions/performance.md, "Stop 23".
  using TransitionBatching = CombiningLimits;
  // What RunTransition's combining did so far (ran_alone_after_failure: transitions run again
  // alone after their batch's transaction failed).
  CombiningStats transition_combining() const override { return transitions_.stats(); }

  // Validated (domain ValidateNewCampaign), then written through TransitionTx::InsertCampaign.
  Result<Campaign> CreateCampaign(const NewCampaign& c) override;
  // One InTransitionTransaction for the whole span; with `start`, each campaign also runs the
  // StartCampaign transition inside it (see Store::CreateCampaigns).
  Result<std::vector<Campaign>> CreateCampaigns(std::span<const NewCampaign> campaigns,
                                                bool start) override;
  Result<TransitionOutcome> StartCampaign(const CampaignId& id) final;
  Result<TransitionOutcome> CompletePart(const CampaignId& id, int64_t data_cycle,
                                         const PartData& data) final;
  // RunBatch on the transitions directly (no combiner to wait for: the caller's batch is the
  // combination), each one left to run alone run after it; one CompletePart after another when
  // transitions are not combined (max_batch 1).
  std::vector<Result<TransitionOutcome>> CompleteParts(std::span<const PartCompletion> parts) final;
  // One LoadForPart after another; NetworkedStore pipelines them.
  std::vector<Result<PartInputs>> LoadForParts(std::span<const CampaignId> ids) override;
  bool BatchesParts() const override { return false; }
  Result<TransitionOutcome> FailCampaign(const CampaignId& id, std::optional<DataPart> part,
                                         std::optional<int64_t> data_cycle,
                                         const std::string& error_text) final;
  Result<TransitionOutcome> ResetCampaign(const CampaignId& id) final;
  Result<TransitionOutcome> ReconcileCampaign(const CampaignId& id, ReconcileAction action,
                                              const ReconcileSettings& settings) final;
  Result<TransitionOutcome> RetryCampaign(const CampaignId& id) final;
  // DecideBudgetSlot / PausedBudgetNextAt (store_common.h) inside UpdateBudget.
  Result<std::optional<std::chrono::microseconds>> ReserveBudgetSlot(
      const std::string& name, std::chrono::microseconds spacing,
      std::chrono::microseconds max_wait) final;
  Status PauseBudget(const std::string& name, std::chrono::microseconds pause) final;
  // Distinct keys in chunks of kBatchReadChunk, each padded to a power of two (the last key
  // repeated) so that a backend's statement cache holds few IN-list sizes; one
  // SelectExistingIds / SelectZipCentroids each.
  Result<std::vector<CampaignId>> ExistingCampaigns(std::span<const CampaignId> ids) final;
  Result<std::map<std::string, GeoPoint>> ZipCentroids(std::span<const std::string> zips) final;

  // GetCampaign, then GetMarketData for its zip (SQLite: its own calls; a networked store does
  // both on one pooled connection).
  Result<MarketInputs> LoadForMarket(const CampaignId& id, std::chrono::seconds max_age) override;
  // LoadForMarket, then (no data, the campaign waiting for it) MarketDataOrLease: two calls.
  Result<MarketLoad> LoadForMarketOrLease(const CampaignId& id, std::chrono::seconds max_age,
                                          const std::string& holder,
                                          std::chrono::seconds ttl) override;
  // Store::MarketDataOrLease as GetMarketData, AcquireLease, GetMarketData and ReleaseLease
  // calls (a networked store runs the same statements on one pooled connection).
  Result<MarketTurn> MarketDataOrLease(const std::string& zip, std::chrono::seconds max_age,
                                       const LeaseRef& lease, std::chrono::seconds ttl,
                                       bool read_first) override;

  // Rows inserted since the last ClaimOutbox of this store (by anyone) make it return at once,
  // so a relay that claims, finds nothing and then waits cannot miss a row in between. Rows
  // committed elsewhere are noticed by re-reading max(outbox.id) every `poll_interval`, or
  // sooner when the backend calls NotifyOutbox (its own commits, a NOTIFY).
  void WaitForOutbox(std::chrono::milliseconds timeout, const std::function<bool()>& stop) override;
  using Store::WaitForOutbox;
  void NotifyOutbox() override;

 protected:
  // `ticker` (null: the real one) times WaitForOutbox; it must outlive the store.
  StoreBase(RequiredParts required_parts, std::chrono::milliseconds outbox_poll_interval,
            Ticker* ticker = nullptr)
      : required_parts_(std::move(required_parts)),
        outbox_poll_interval_(outbox_poll_interval),
        ticker_(OrRealTicker(ticker)) {}

  Ticker& ticker() const { return ticker_; }

  // The combining a backend wants (TransitionBatching); none by default.
  virtual TransitionBatching transition_batching() const { return {}; }

  // The statements of one open backend transaction that a transition runs.
  class TransitionTx {
   public:
    virtual ~TransitionTx() = default;
    // INSERT the campaign row and, when `property` is set, its property_data row.
    // kAlreadyExists "campaign ID already exists" when the id is taken.
    virtual Status InsertCampaign(const Campaign& row,
                                  const std::optional<PropertyData>& property) = 0;
    // The campaign row, locked until the transaction ends so that concurrent transitions of
    // one campaign take turns (SELECT ... FOR UPDATE; SQLite: the database write lock).
    // kNotFound when absent.
    virtual Result<Campaign> LockCampaign(const CampaignId& id) = 0;
    // UPDATE campaigns SET next's statuses, data_cycle, error_text, updated_at,
    // status_changed_at, parts_changed_at, republish_count and restart_count WHERE the row
    // still has current's id, statuses and data_cycle.
    // Returns the number of rows changed (1 when the compare-and-set applied). A store that
    // sends the write with the COMMIT (PostgreSQL) returns 1 and fails the transaction with
    // kAborted on a miss instead.
    virtual Result<int64_t> CompareAndSet(const Campaign& current, const Campaign& next) = 0;
    // Replaces the campaign's rows of `part` (listings or sales).
    virtual Status ReplaceRecords(const CampaignId& campaign_id, DataPart part,
                                  const std::vector<RankedRecord>& records) = 0;
    virtual Status InsertMarketData(const MarketData& m, SysTime now) = 0;
    virtual Status InsertOutboxEvent(const StatusChangeEvent& e, SysTime now) = 0;
    // DELETE the lease row when `lease.holder` holds it (Store::ReleaseLease's statement).
    virtual Status DeleteLease(const LeaseRef& lease) = 0;
    // The rows of `ids` (distinct), in that order, each locked as LockCampaign locks it;
    // nullopt for an id without a row. Where `wait[i]` is false, without waiting: nullopt
    // also when another transaction holds the row (a batch does not wait behind one row:
    // RunBatch). This default calls LockCampaign for each (a store with one writer has no
    // other holder); a networked backend sends them in one round trip, `FOR UPDATE` or
    // `FOR UPDATE SKIP LOCKED`.
    virtual Result<std::vector<std::optional<Campaign>>> LockCampaigns(
        std::span<const CampaignId> ids, const std::vector<bool>& wait);
  };
  using TransitionBody = std::function<Status(TransitionTx&)>;

  // Runs `body` inside one write transaction (committed when it succeeds, rolled back
  // otherwise; a backend may retry the whole of it on transient failures). `what` prefixes
  // error messages.
  virtual Status InTransitionTransaction(std::string_view what, const TransitionBody& body) = 0;
  // "Now" as the backend stores it (truncated to milliseconds, from its clock).
  virtual SysTime Now() const = 0;
  virtual Result<int64_t> MaxOutboxId() = 0;
  // One transaction on the row of table provider_budget named `name`: reads its next_at with
  // the row locked against every other process (nullopt when there is no row yet), calls
  // `decide(next_at, Now())` and stores the value it returns (nothing when nullopt). Now() is
  // read once the row is locked. `decide` may run again when the backend retries the
  // transaction.
  using BudgetDecision =
      std::function<std::optional<int64_t>(std::optional<int64_t> next_at, SysTime now)>;
  virtual Status UpdateBudget(std::string_view what, const std::string& name,
                              const BudgetDecision& decide) = 0;
  // ONE statement: the ids among `ids` (distinct, IN-list order not guaranteed) that are in
  // campaigns, appended to `out`.
  virtual Status SelectExistingIds(std::span<const std::string> ids,
                                   std::vector<CampaignId>& out) = 0;
  // ONE statement: the centroids of the 5-digit `zips` that zip_codes has, into `out`.
  virtual Status SelectZipCentroids(std::span<const std::string> zips,
                                    std::map<std::string, GeoPoint>& out) = 0;
  // "(?, ?, ?)" for n keys (the batch reads' IN lists).
  static std::string InList(size_t n);
  // Called when WaitForOutbox starts waiting (PostgreSQL starts its listener there).
  virtual void BeforeOutboxWait() {}
  // Makes waiting WaitForOutbox calls re-read max(outbox.id) now (something may have been
  // committed elsewhere; SQLite's change watcher), without counting as a new row.
  void RecheckOutbox();

  void SetClaimedMaxId(int64_t id) { claimed_max_id_.store(id); }

 private:
  // Computes the next state from the current row; kFailedPrecondition = does not apply.
  using TransitionFn =
      std::function<Result<TransitionResult>(const Campaign&, SysTime now, std::string event_id)>;
  // One transaction: lock the campaign, release completed->release_lease, run `fn`,
  // compare-and-set the row, then (when it applies) write `completed` (may be null: its rows
  // or market data) and the event's outbox row. `changed=false` with the reason when `fn` says
  // kFailedPrecondition. A retried transaction (e.g. after a lost COMMIT) finds the change applied
  // and changes nothing.
  Result<TransitionOutcome> RunTransition(const CampaignId& id, const TransitionFn& fn,
                                          const PartData* completed);
  // A transition waiting for, or in, a combined transaction (RunTransition's combining).
  struct PendingTransition {
    const CampaignId& id;
    const TransitionFn& fn;
    const PartData* completed;
    SysTime now;
    const std::string& event_id;
    // Set by RunBatch when the batch could not lock its campaign's row without waiting (or
    // found none), or when the batch's transaction failed: its caller then runs it alone, on
    // its own thread (RunTransition).
    bool run_alone = false;
  };
  // A TransitionTx whose LockCampaign answers from rows locked beforehand (RunBatch) or
  // inserted by the same transaction (CreateCampaigns).
  class LockedRowsTx;
  // RunTransition's body as its own transaction.
  Result<TransitionOutcome> RunAlone(const PendingTransition& t);
  // The results of `batch`, in its order: one transaction for all of them whose rows it
  // locks without waiting; a transition whose row another transaction holds, or that has
  // none, is marked `run_alone` and left to its caller (its result here is a placeholder), so
  // one held row does not hold up the batch. When the transaction fails for another reason
  // than the store being unavailable, every transition of the batch is marked so
  // (`ran_alone` then true): each caller runs its own alone, at the same time as the others.
  std::vector<Result<TransitionOutcome>> RunBatch(std::span<PendingTransition* const> batch,
                                                  bool& ran_alone);
  // RunTransition's body, inside the caller's transaction `tx`.
  Result<TransitionOutcome> ApplyTransition(TransitionTx& tx, const CampaignId& id,
                                            const TransitionFn& fn, const PartData* completed,
                                            SysTime now, const std::string& event_id);
  TransitionFn StartFn();
  // The DORMANT row CreateCampaign writes for a validated campaign.
  static Result<Campaign> NewCampaignRow(const NewCampaign& v, SysTime now);
  // CreateCampaign(s) after validation: the rows of `valid` inserted (and with `start`
  // started) in one transaction named `what`; the rows as stored, in order.
  Result<std::vector<Campaign>> InsertNewCampaigns(std::span<const NewCampaign> valid, bool start,
                                                   const std::string& what);
  // Asked by a create's transaction when it runs again after a failure the backend retries
  // (a connection lost among them): the run before may have committed, its reply lost. True,
  // with the rows as stored in `stored`, when every one of `rows` is there as this call wrote
  // it (id, user, zip, kind, and created_at: the instant the call chose); the call then
  // succeeded and writes nothing more. False when one is missing or another call's.
  static Result<bool> WrittenByAnEarlierRun(TransitionTx& tx, std::span<const Campaign> rows,
                                            std::vector<Campaign>& stored);

  const RequiredParts required_parts_;
  const std::chrono::milliseconds outbox_poll_interval_;
  Ticker& ticker_;

  FlatCombiner<PendingTransition, Result<TransitionOutcome>> transitions_;
  // The campaign rows that this store's running batches hold (a count per id): another
  // batch of this process waits for those (milliseconds, till that batch commits) rather than
  // leaving their transitions to run alone (RunBatch).
  std::mutex batch_rows_mu_;
  std::map<std::string, int> batch_rows_;  // guarded by batch_rows_mu_

  std::mutex notify_mu_;
  std::condition_variable notify_cv_;
  uint64_t outbox_generation_ = 0;   // guarded by notify_mu_; bumped by NotifyOutbox
  uint64_t recheck_generation_ = 0;  // guarded by notify_mu_; bumped by RecheckOutbox
  // max(outbox.id) seen by the last ClaimOutbox; -1 before the first claim.
  std::atomic<int64_t> claimed_max_id_{-1};
};

}  // namespace dripr
