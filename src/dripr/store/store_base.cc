#include "dripr/store/store_base.h"

#include <algorithm>

#include "dripr/core/ids.h"
#include "dripr/core/text.h"
#include "dripr/domain/campaign_rules.h"
#include "dripr/domain/event.h"
#include "dripr/store/store_common.h"

namespace dripr {

namespace {

// The step of a transition: `transition(c, args..., now, event_id)` (every domain transition
// takes the current row first and the time and event id last). Holds references to `args`:
// use it within the full-expression that made it (as the calls of RunTransition below do)
// unless they are members.
template <class Fn, class... Args>
auto TransitionStep(Fn transition, const Args&... args) {
  return [transition, &args...](const Campaign& c, SysTime now, std::string event_id) {
    return transition(c, args..., now, std::move(event_id));
  };
}

}  // namespace

// LockCampaign from the rows the transaction has locked already (RunBatch: all of a batch's
// first) or inserted (CreateCampaigns: a row it inserted is its own until it ends), as the
// transitions before left them; a campaign not among them goes to the backend (whose own
// kNotFound it then gets); every other statement goes to the backend's transaction.
class StoreBase::LockedRowsTx final : public TransitionTx {
 public:
  LockedRowsTx(TransitionTx& tx, std::map<std::string, Campaign> rows)
      : tx_(tx), rows_(std::move(rows)) {}

  Status InsertCampaign(const Campaign& row, const std::optional<PropertyData>& p) override {
    DRIPR_TRY(tx_.InsertCampaign(row, p));
    rows_[row.id.str()] = row;
    return Ok();
  }
  Result<Campaign> LockCampaign(const CampaignId& id) override {
    auto it = rows_.find(id.str());
    if (it == rows_.end()) return tx_.LockCampaign(id);
    return it->second;
  }
  Result<int64_t> CompareAndSet(const Campaign& current, const Campaign& next) override {
    DRIPR_ASSIGN_OR_RETURN(int64_t changed, tx_.CompareAndSet(current, next));
    if (changed == 1) rows_[current.id.str()] = next;
    return changed;
  }
  Status ReplaceRecords(const CampaignId& id, DataPart part,
                        const std::vector<RankedRecord>& records) override {
    return tx_.ReplaceRecords(id, part, records);
  }
  Status InsertMarketData(const MarketData& m, SysTime now) override {
    return tx_.InsertMarketData(m, now);
  }
  Status InsertOutboxEvent(const StatusChangeEvent& e, SysTime now) override {
    return tx_.InsertOutboxEvent(e, now);
  }
  Status DeleteLease(const LeaseRef& lease) override { return tx_.DeleteLease(lease); }

 private:
  TransitionTx& tx_;
  std::map<std::string, Campaign> rows_;
};

Result<Campaign> StoreBase::NewCampaignRow(const NewCampaign& v, SysTime now) {
  Campaign row;
  // v passed ValidateNewCampaign, so this cannot fail: parsed rather than taken unchecked so
  // that Parse stays the only way an id from outside becomes a CampaignId.
  DRIPR_ASSIGN_OR_RETURN(row.id, CampaignId::Parse(v.id));
  row.user_id = v.user_id;
  row.zip_code = v.zip_code;
  row.no_address_newsletter = !v.property.has_value();
  row.created_at = row.updated_at = row.status_changed_at = row.parts_changed_at = now;
  return row;
}

Result<bool> StoreBase::WrittenByAnEarlierRun(TransitionTx& tx, std::span<const Campaign> rows,
                                              std::vector<Campaign>& stored) {
  stored.clear();
  for (const Campaign& row : rows) {
    Result<Campaign> found = tx.LockCampaign(row.id);
    if (!found && found.error().code == ErrorCode::kNotFound) return false;
    if (!found) return Fail(found.error());
    // created_at is the instant this call chose (milliseconds): another call's row of the
    // same id, user and zip would have to have been created in the same millisecond.
    if (found->user_id != row.user_id || found->zip_code != row.zip_code ||
        found->no_address_newsletter != row.no_address_newsletter ||
        found->created_at != row.created_at) {
      return false;
    }
    stored.push_back(std::move(*found));
  }
  return true;
}

Result<Campaign> StoreBase::CreateCampaign(const NewCampaign& in) {
  DRIPR_ASSIGN_OR_RETURN(NewCampaign v, ValidateNewCampaign(in));
  DRIPR_ASSIGN_OR_RETURN(std::vector<Campaign> created,
                         InsertNewCampaigns({&v, 1}, /*start=*/false, "create campaign " + v.id));
  return std::move(created.front());
}

Result<std::vector<Campaign>> StoreBase::CreateCampaigns(std::span<const NewCampaign> in,
                                                         bool start) {
  std::vector<NewCampaign> valid;
  valid.reserve(in.size());
  for (const auto& c : in) {
    auto v = ValidateNewCampaign(c);
    if (!v) return Fail(v.error().Wrap("campaign " + QuotedEcho(c.id)));
    valid.push_back(std::move(*v));
  }
  if (valid.empty()) return std::vector<Campaign>();
  return InsertNewCampaigns(valid, start, "create " + std::to_string(valid.size()) + " campaigns");
}

Result<std::vector<Campaign>> StoreBase::InsertNewCampaigns(std::span<const NewCampaign> valid,
                                                            bool start, const std::string& what) {
  const SysTime now = Now();
  std::vector<Campaign> rows;  // the same in every run of the transaction
  std::vector<std::string> event_ids;
  rows.reserve(valid.size());
  for (const NewCampaign& v : valid) {
    DRIPR_ASSIGN_OR_RETURN(Campaign row, NewCampaignRow(v, now));
    rows.push_back(std::move(row));
    if (start) event_ids.push_back(NewUuid());
  }
  const TransitionFn start_fn = StartFn();
  std::vector<Campaign> out;
  int runs = 0;
  Status written = InTransitionTransaction(what, [&](TransitionTx& tx) -> Status {
    if (++runs > 1) {
      DRIPR_ASSIGN_OR_RETURN(bool done, WrittenByAnEarlierRun(tx, rows, out));
      if (done) return Ok();
    }
    out.clear();  // a retried transaction starts afresh
    // The start transition finds the row it has just inserted without reading it back.
    LockedRowsTx inserted(tx, {});
    for (size_t i = 0; i < valid.size(); ++i) {
      Campaign row = rows[i];
      DRIPR_TRY(inserted.InsertCampaign(row, valid[i].property));
      if (start) {
        DRIPR_ASSIGN_OR_RETURN(
            auto t, ApplyTransition(inserted, row.id, start_fn, nullptr, now, event_ids[i]));
        row = std::move(t.campaign);
      }
      out.push_back(std::move(row));
    }
    return Ok();
  });
  if (!written) return Fail(written.error());
  if (start) NotifyOutbox();
  return out;
}

StoreBase::TransitionFn StoreBase::StartFn() {
  // Refers to a member only, so it may outlive the expression (InsertNewCampaigns keeps it).
  return TransitionStep(StartTransition, required_parts_);
}

Result<TransitionOutcome> StoreBase::StartCampaign(const CampaignId& id) {
  return RunTransition(id, StartFn(), nullptr);
}

Result<TransitionOutcome> StoreBase::CompletePart(const CampaignId& id, int64_t data_cycle,
                                                  const PartData& data) {
  return RunTransition(
      id, TransitionStep(PartReadyTransition, data.part, data_cycle, required_parts_), &data);
}

std::vector<Result<TransitionOutcome>> StoreBase::CompleteParts(
    std::span<const PartCompletion> parts) {
  std::vector<Result<TransitionOutcome>> out;
  out.reserve(parts.size());
  const TransitionBatching batching = transition_batching();
  if (parts.size() <= 1 || batching.max_batch <= 1) {
    for (const PartCompletion& p : parts) out.push_back(CompletePart(p.id, p.data_cycle, *p.data));
    return out;
  }
  // PendingTransition refers to its function and event id: both live here, never moved.
  std::vector<TransitionFn> fns;
  std::vector<std::string> event_ids;
  std::vector<PendingTransition> pending;
  fns.reserve(parts.size());
  event_ids.reserve(parts.size());
  pending.reserve(parts.size());
  const SysTime now = Now();
  for (const PartCompletion& p : parts) {
    fns.push_back(TransitionStep(PartReadyTransition, p.data->part, p.data_cycle, required_parts_));
    event_ids.push_back(NewUuid());
    pending.push_back(PendingTransition{.id = p.id,
                                        .fn = fns.back(),
                                        .completed = p.data,
                                        .now = now,
                                        .event_id = event_ids.back()});
  }
  const size_t chunk = static_cast<size_t>(batching.max_batch);
  for (size_t i = 0; i < pending.size(); i += chunk) {
    std::vector<PendingTransition*> batch;
    for (size_t j = i; j < std::min(pending.size(), i + chunk); ++j) batch.push_back(&pending[j]);
    bool ran_alone = false;
    std::vector<Result<TransitionOutcome>> results;
    try {
      results = RunBatch(batch, ran_alone);
    } catch (const std::exception& e) {  // as the combiner does: each its own failure
      results.assign(batch.size(), Fail(ErrorCode::kInternal,
                                        std::string("a combined batch threw: ") + e.what()));
      for (PendingTransition* t : batch) t->run_alone = false;
    }
    transitions_.CountBatch(batch.size(), ran_alone);
    // A transition left to run alone (its row held by another transaction, or the batch's
    // transaction failed for another's sake) runs after the batch, on this thread.
    for (size_t j = 0; j < batch.size(); ++j) {
      out.push_back(batch[j]->run_alone ? RunAlone(*batch[j]) : std::move(results[j]));
    }
  }
  return out;
}

std::vector<Result<PartInputs>> StoreBase::LoadForParts(std::span<const CampaignId> ids) {
  std::vector<Result<PartInputs>> out;
  out.reserve(ids.size());
  for (const CampaignId& id : ids) out.push_back(LoadForPart(id));
  return out;
}

Result<TransitionOutcome> StoreBase::FailCampaign(const CampaignId& id,
                                                  std::optional<DataPart> part,
                                                  std::optional<int64_t> data_cycle,
                                                  const std::string& error_text) {
  return RunTransition(id, TransitionStep(FailTransition, part, data_cycle, error_text), nullptr);
}

Result<TransitionOutcome> StoreBase::ResetCampaign(const CampaignId& id) {
  return RunTransition(id, TransitionStep(ResetTransition), nullptr);
}

Result<TransitionOutcome> StoreBase::ReconcileCampaign(const CampaignId& id, ReconcileAction action,
                                                       const ReconcileSettings& settings) {
  // The event that started the current cycle, as first published. Read before the
  // transaction; the transition uses it only when it is of the cycle it finds then.
  std::optional<StatusChangeEvent> original;
  if (action == ReconcileAction::kRepublish) {
    DRIPR_ASSIGN_OR_RETURN(auto rows, OutboxForCampaign(id));
    for (auto it = rows.rbegin(); it != rows.rend() && !original; ++it) {
      auto e = DecodeStatusChange(it->body);
      if (e && e->to_status == CampaignStatus::kWaitingForData && e->data_cycle) original = *e;
    }
  }
  return RunTransition(id, TransitionStep(ReconcileTransition, action, settings, original),
                       nullptr);
}

Result<TransitionOutcome> StoreBase::RetryCampaign(const CampaignId& id) {
  return RunTransition(id, TransitionStep(RetryTransition, required_parts_), nullptr);
}

Result<TransitionOutcome> StoreBase::RunTransition(const CampaignId& id, const TransitionFn& fn,
                                                   const PartData* completed) {
  PendingTransition t{
      .id = id, .fn = fn, .completed = completed, .now = Now(), .event_id = NewUuid()};
  const TransitionBatching batching = transition_batching();
  if (batching.max_batch <= 1) return RunAlone(t);
  auto r = transitions_.Run(t, batching,
                            [this](std::span<PendingTransition* const> batch, bool& ran_alone) {
                              return RunBatch(batch, ran_alone);
                            });
  // Its row was held by another transaction (or is not there): the batch went on without
  // it, and it waits for that row here, on this caller's thread.
  if (t.run_alone) return RunAlone(t);
  return r;
}

Result<TransitionOutcome> StoreBase::RunAlone(const PendingTransition& t) {
  TransitionOutcome out;
  Status written =
      InTransitionTransaction("campaign " + t.id.str(), [&](TransitionTx& tx) -> Status {
        // A retried transaction starts afresh.
        DRIPR_ASSIGN_OR_RETURN(out,
                               ApplyTransition(tx, t.id, t.fn, t.completed, t.now, t.event_id));
        return Ok();
      });
  if (!written) return Fail(written.error());
  if (out.event) NotifyOutbox();
  return out;
}

std::vector<Result<TransitionOutcome>> StoreBase::RunBatch(
    std::span<PendingTransition* const> batch, bool& ran_alone) {
  std::vector<Result<TransitionOutcome>> results;
  if (batch.size() == 1) {
    results.push_back(RunAlone(*batch[0]));
    return results;
  }
  // Locked in id order, so that two batches (of this process or another) never wait on each
  // other's rows in a cycle.
  std::vector<CampaignId> ids;
  for (const PendingTransition* t : batch) ids.push_back(t->id);
  std::sort(ids.begin(), ids.end(),
            [](const CampaignId& a, const CampaignId& b) { return a.str() < b.str(); });
  ids.erase(
      std::unique(ids.begin(), ids.end(),
                  [](const CampaignId& a, const CampaignId& b) { return a.str() == b.str(); }),
      ids.end());
  // The rows this batch holds, published for the other batches of this store while its
  // transaction is open (a retried attempt's were released with its rollback).
  std::vector<std::string> held;
  auto release_held = [&] {
    std::lock_guard lock(batch_rows_mu_);
    for (const std::string& id : held) {
      if (auto it = batch_rows_.find(id); it != batch_rows_.end() && --it->second == 0) {
        batch_rows_.erase(it);
      }
    }
    held.clear();
  };
  // Also when the transaction throws: a row left published here would have every later
  // batch of this store wait for it instead of skipping it.
  struct ReleaseOnExit {
    decltype(release_held)& release;
    ~ReleaseOnExit() { release(); }
  } release_on_exit{release_held};
  Status written = InTransitionTransaction(
      std::to_string(batch.size()) + " campaign transitions", [&](TransitionTx& tx) -> Status {
        results.clear();  // a retried transaction starts afresh
        release_held();
        // A row another batch of this store holds is waited for: it is free once that batch
        // commits. Any other holder's row is skipped.
        std::vector<bool> wait(ids.size(), false);
        {
          std::lock_guard lock(batch_rows_mu_);
          for (size_t i = 0; i < ids.size(); ++i) wait[i] = batch_rows_.contains(ids[i].str());
        }
        DRIPR_ASSIGN_OR_RETURN(std::vector<std::optional<Campaign>> rows,
                               tx.LockCampaigns(ids, wait));
        std::map<std::string, Campaign> locked;
        for (size_t i = 0; i < ids.size() && i < rows.size(); ++i) {
          if (rows[i]) locked.emplace(ids[i].str(), std::move(*rows[i]));
        }
        {
          std::lock_guard lock(batch_rows_mu_);
          for (const auto& [id, row] : locked) {
            ++batch_rows_[id];
            held.push_back(id);
          }
        }
        LockedRowsTx on_rows(tx, locked);
        for (PendingTransition* t : batch) {
          // A row another transaction holds (or none: alone, it gets kNotFound): not waited
          // for here, where it would hold up every other transition of the batch.
          t->run_alone = !locked.contains(t->id.str());
          if (t->run_alone) {
            results.push_back(Fail(ErrorCode::kAborted, "left to run alone"));
            continue;
          }
          auto out = ApplyTransition(on_rows, t->id, t->fn, t->completed, t->now, t->event_id);
          if (!out) return Fail(out.error());
          results.push_back(std::move(*out));
        }
        return Ok();
      });
  release_held();
  if (written) {
    bool event = false;
    for (const auto& r : results) event = event || (r && r->event.has_value());
    if (event) NotifyOutbox();
    return results;
  }
  results.clear();
  // On an outage each alone would have waited it out too: every caller gets its error. Any
  // other failure (a bad row) must not be the others': each runs alone and gets its own
  // result, on its own caller's thread (RunTransition), all at once rather than one after
  // another on this one, which is free for the next batch.
  const bool outage = written.error().code == ErrorCode::kUnavailable;
  ran_alone = !outage;
  for (PendingTransition* t : batch) {
    t->run_alone = !outage;
    results.push_back(outage ? Fail(written.error().Wrap("campaign " + t->id.str()))
                             : Fail(ErrorCode::kAborted, "left to run alone"));
  }
  return results;
}

Result<std::vector<std::optional<Campaign>>> StoreBase::TransitionTx::LockCampaigns(
    std::span<const CampaignId> ids, const std::vector<bool>& /*wait*/) {
  std::vector<std::optional<Campaign>> out;
  for (const CampaignId& id : ids) {
    auto row = LockCampaign(id);
    if (row) {
      out.emplace_back(std::move(*row));
    } else if (row.error().code == ErrorCode::kNotFound) {
      out.emplace_back(std::nullopt);
    } else {
      return Fail(row.error());
    }
  }
  return out;
}

Result<TransitionOutcome> StoreBase::ApplyTransition(TransitionTx& tx, const CampaignId& id,
                                                     const TransitionFn& fn,
                                                     const PartData* completed, SysTime now,
                                                     const std::string& event_id) {
  TransitionOutcome out;
  DRIPR_ASSIGN_OR_RETURN(Campaign current, tx.LockCampaign(id));
  // Before the transition decides: a stale commit gives the lease up too (its waiters then
  // find the lease free, or someone else's data).
  if (completed != nullptr && completed->release_lease) {
    DRIPR_TRY(tx.DeleteLease(*completed->release_lease));
  }
  auto r = fn(current, now, event_id);
  if (!r) {
    if (r.error().code != ErrorCode::kFailedPrecondition) return Fail(r.error());
    out.reason = r.error().message;
    out.campaign = std::move(current);
    return out;
  }
  const Campaign& next = r->next;
  // The row is locked, so a miss means a foreign writer ignoring the lock: report it as
  // retryable (the retry re-reads the row).
  DRIPR_ASSIGN_OR_RETURN(int64_t changed, tx.CompareAndSet(current, next));
  if (changed != 1) {
    return Fail(ErrorCode::kAborted, "campaign " + id.str() + " changed during the transaction");
  }
  if (completed != nullptr) {
    if (completed->part != DataPart::kLocalMarketData) {
      DRIPR_TRY(tx.ReplaceRecords(next.id, completed->part, completed->records));
    } else if (completed->market) {
      // nullopt market: the handler reused a recent row, nothing to insert.
      MarketData m = *completed->market;
      if (m.zip_code.empty()) m.zip_code = next.zip_code;
      DRIPR_TRY(tx.InsertMarketData(m, now));
    }
  }
  if (r->event) DRIPR_TRY(tx.InsertOutboxEvent(*r->event, now));
  out.changed = true;
  out.campaign = next;
  out.event = r->event;
  return out;
}

Result<std::optional<std::chrono::microseconds>> StoreBase::ReserveBudgetSlot(
    const std::string& name, std::chrono::microseconds spacing,
    std::chrono::microseconds max_wait) {
  std::optional<std::chrono::microseconds> wait;
  DRIPR_TRY(UpdateBudget("reserve budget " + name, name,
                         [&](std::optional<int64_t> next_at, SysTime now) {
                           BudgetSlot slot = DecideBudgetSlot(next_at, now, spacing, max_wait);
                           wait = slot.wait;
                           return wait ? std::optional<int64_t>(slot.next_at) : std::nullopt;
                         }));
  return wait;
}

Status StoreBase::PauseBudget(const std::string& name, std::chrono::microseconds pause) {
  return UpdateBudget("pause budget " + name, name,
                      [&](std::optional<int64_t> next_at, SysTime now) {
                        return std::optional<int64_t>(PausedBudgetNextAt(next_at, now, pause));
                      });
}

void StoreBase::NotifyOutbox() {
  {
    std::lock_guard lock(notify_mu_);
    ++outbox_generation_;
  }
  notify_cv_.notify_all();
}

void StoreBase::RecheckOutbox() {
  {
    std::lock_guard lock(notify_mu_);
    ++recheck_generation_;
  }
  notify_cv_.notify_all();
}

void StoreBase::WaitForOutbox(std::chrono::milliseconds timeout,
                              const std::function<bool()>& stop) {
  BeforeOutboxWait();
  const auto deadline = ticker_.Now() + timeout;
  uint64_t generation;
  {
    std::lock_guard lock(notify_mu_);
    generation = outbox_generation_;
  }
  int64_t baseline = claimed_max_id_.load();
  if (baseline < 0) {
    // Never claimed: only rows added from now on count.
    auto m = MaxOutboxId();
    baseline = m ? *m : 0;
  }
  while (true) {
    uint64_t recheck;
    {
      std::lock_guard lock(notify_mu_);
      recheck = recheck_generation_;
    }
    if (auto m = MaxOutboxId(); m && *m > baseline) return;
    auto now = ticker_.Now();
    if (now >= deadline) return;
    std::unique_lock lock(notify_mu_);
    // `stop` under notify_mu_: a NotifyOutbox after it became true finds this thread waiting.
    auto woken = [&] {
      return outbox_generation_ != generation || recheck_generation_ != recheck || (stop && stop());
    };
    ticker_.WaitUntil(lock, notify_cv_,
                      std::min<Ticker::TimePoint>(deadline, now + outbox_poll_interval_), woken);
    if (outbox_generation_ != generation || (stop && stop())) return;
  }
}

// ---- Batch reads ----

namespace {

// Sorted, distinct `keys`, in chunks of at most kBatchReadChunk, each padded to a power of two
// with its last key; `fn(chunk)` for each, stopping at the first failure.
Status ForEachKeyChunk(std::vector<std::string> keys,
                       const std::function<Status(std::span<const std::string>)>& fn) {
  std::sort(keys.begin(), keys.end());
  keys.erase(std::unique(keys.begin(), keys.end()), keys.end());
  std::vector<std::string> chunk;
  for (size_t first = 0; first < keys.size(); first += kBatchReadChunk) {
    const size_t n = std::min(kBatchReadChunk, keys.size() - first);
    chunk.assign(keys.begin() + static_cast<std::ptrdiff_t>(first),
                 keys.begin() + static_cast<std::ptrdiff_t>(first + n));
    while ((chunk.size() & (chunk.size() - 1)) != 0) chunk.push_back(chunk.back());
    DRIPR_TRY(fn(chunk));
  }
  return Ok();
}

}  // namespace

std::string StoreBase::InList(size_t n) {
  std::string out = "(";
  for (size_t i = 0; i < n; ++i) out += i == 0 ? "?" : ", ?";
  return out + ")";
}

Result<std::vector<CampaignId>> StoreBase::ExistingCampaigns(std::span<const CampaignId> ids) {
  std::vector<std::string> keys;
  keys.reserve(ids.size());
  for (const auto& id : ids) keys.push_back(id.str());
  std::vector<CampaignId> out;
  DRIPR_TRY(ForEachKeyChunk(std::move(keys), [&](std::span<const std::string> chunk) {
    return SelectExistingIds(chunk, out);
  }));
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

Result<std::map<std::string, GeoPoint>> StoreBase::ZipCentroids(std::span<const std::string> zips) {
  std::vector<std::string> fives;
  fives.reserve(zips.size());
  for (const auto& zip : zips) {
    auto five = NormalizeZip(zip);
    if (!five) return Fail(five.error().Wrap("zip_code"));
    fives.push_back(std::move(*five));
  }
  std::map<std::string, GeoPoint> by_five;
  DRIPR_TRY(ForEachKeyChunk(fives, [&](std::span<const std::string> chunk) {
    return SelectZipCentroids(chunk, by_five);
  }));
  std::map<std::string, GeoPoint> out;
  for (size_t i = 0; i < zips.size(); ++i) {
    if (auto it = by_five.find(fives[i]); it != by_five.end()) out[zips[i]] = it->second;
  }
  return out;
}

Result<MarketInputs> StoreBase::LoadForMarket(const CampaignId& id, std::chrono::seconds max_age) {
  MarketInputs in;
  DRIPR_ASSIGN_OR_RETURN(in.campaign, GetCampaign(id));
  DRIPR_ASSIGN_OR_RETURN(in.stored, GetMarketData(in.campaign.zip_code, max_age));
  return in;
}

Result<MarketLoad> StoreBase::LoadForMarketOrLease(const CampaignId& id,
                                                   std::chrono::seconds max_age,
                                                   const std::string& holder,
                                                   std::chrono::seconds ttl) {
  DRIPR_ASSIGN_OR_RETURN(MarketInputs in, LoadForMarket(id, max_age));
  MarketLoad out;
  out.campaign = std::move(in.campaign);
  if (in.stored) {
    out.turn.stored = std::move(in.stored);
    return out;
  }
  if (!WaitsForMarketData(out.campaign)) return out;
  const std::string& zip = out.campaign.zip_code;
  DRIPR_ASSIGN_OR_RETURN(out.turn, MarketDataOrLease(zip, max_age, {MarketLeaseName(zip), holder},
                                                     ttl, /*read_first=*/false));
  return out;
}

Result<MarketTurn> StoreBase::MarketDataOrLease(const std::string& zip,
                                                std::chrono::seconds max_age, const LeaseRef& lease,
                                                std::chrono::seconds ttl, bool read_first) {
  auto read = [&] { return GetMarketData(zip, max_age); };
  auto release = [&] { return ReleaseLease(lease.name, lease.holder); };
  return RunMarketTurn(
      read_first, read,
      [&] {
        return TakeThenRead([&] { return AcquireLease(lease.name, lease.holder, ttl); }, read,
                            release);
      },
      release);
}

}  // namespace dripr
