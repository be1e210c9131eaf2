#pragma once
// The reconciler: heals campaigns whose event was lost outside our outbox and restarts
// errored ones (docs/operations.md "Reconciler"; decisions in domain/reconcile.h).
//
// Every data fetcher runs one; a lease row (`leases`, name "reconciler") lets one instance
// act at a time. The holder renews it at every pass (and during a long pass); when it dies
// (even kill -9) the lease lapses after `lease_ttl` and the next instance to try takes over.
// The lease only avoids duplicated work: every action is also a compare-and-set that decides
// again on the locked row (Store::ReconcileCampaign), so two instances acting at once (or
// `dripr reconcile` beside a fetcher) still apply each action once.

#include <array>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "dripr/core/clock.h"
#include "dripr/domain/reconcile.h"
#include "dripr/store/store.h"

namespace dripr {

inline constexpr std::string_view kReconcilerLeaseName = "reconciler";

// What a pass did (or, dry run, would do) with one campaign.
struct ReconcileItem {
  CampaignId campaign_id;
  ReconcileAction action = ReconcileAction::kRepublish;
  bool applied = false;  // false: a dry run, or the decision no longer held (see `note`)
  std::string note;      // what was done or why not, for people
  Campaign before;       // the row the decision was taken on
  Campaign after;        // the row after the action (== before when not applied)
};

struct ReconcilePass {
  SysTime started_at{};  // the clock's time when the pass began
  bool dry_run = false;
  // False: another instance holds the lease, nothing was looked at.
  bool acted = true;
  bool lease_lost = false;  // the lease lapsed mid-pass: the rest is left to the new holder
  std::vector<ReconcileItem> items;
  // Applied actions by ReconcileAction (index = enum value): the hook for the
  // dripr_reconciler_actions_total{action} counter.
  std::array<int64_t, std::size(kAllReconcileActions)> counts{};
  int64_t count(ReconcileAction a) const { return counts[static_cast<size_t>(a)]; }
};

// A summary of the fetcher's latest pass (the dashboard overview's "reconciler" line).
struct ReconcilerLastPass {
  SysTime at{};    // when it began
  bool ok = true;  // false: it stopped at a store error (`error`)
  std::string error;
  bool acted = true;  // false: another instance holds the lease; nothing looked at
  bool lease_lost = false;
  int64_t looked_at = 0;  // candidates decided on (applied or skipped)
  std::array<int64_t, std::size(kAllReconcileActions)> counts{};  // applied, by action
};

struct ReconcilerOptions {
  ReconcileSettings settings;
  // Takes the lease before acting (the fetcher). `dripr reconcile` acts without it.
  bool use_lease = true;
  std::string holder;                 // lease holder id; empty: host/pid/random
  std::chrono::seconds lease_ttl{0};  // 0: 2 × settings.interval (at least 2 s)
  int max_per_pass = 1000;            // candidates of each kind looked at per pass
  // Called after every pass that acted (metrics wiring); from the reconciler's thread.
  std::function<void(const ReconcilePass&)> on_pass;
};

class Reconciler {
 public:
  // `ticker` (monotonic time: lease renewal, the pass interval) must outlive the reconciler.
  Reconciler(Store& store, const Clock& clock, Ticker& ticker, ReconcilerOptions options);
  ~Reconciler();
  Reconciler(const Reconciler&) = delete;
  Reconciler& operator=(const Reconciler&) = delete;

  // One pass now (not concurrently with itself or the thread). Errors are the store's (the
  // pass stops at the first one).
  Result<ReconcilePass> RunOnce(bool dry_run = false);

  // A pass every settings.interval on a thread of its own (interval 0: no thread). Stop wakes
  // it, waits for the pass in progress and releases the lease (when this instance holds it)
  // so another instance takes over at once.
  void Start();
  void Stop();

  // Sets options.on_pass (e.g. the ops metrics: add pass.count(a) to
  // dripr_reconciler_actions_total{action=ToString(a)}). Call before Start().
  void SetPassObserver(std::function<void(const ReconcilePass&)> fn) {
    options_.on_pass = std::move(fn);
  }

  // The latest pass of the thread (not RunOnce called by others); nullopt before the first
  // or when the thread does not run. Any thread.
  std::optional<ReconcilerLastPass> LastPass() const;
  // Seconds between passes (0: this fetcher runs none).
  std::chrono::seconds interval() const { return options_.settings.interval; }

  const std::string& holder() const { return options_.holder; }
  std::chrono::seconds lease_ttl() const { return options_.lease_ttl; }

 private:
  void Loop();
  // Takes or renews the lease; logs when this instance starts or stops being the holder.
  Result<bool> Lease();

  Store& store_;
  const Clock& clock_;
  Ticker& ticker_;
  ReconcilerOptions options_;  // constant once Start() ran

  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;              // guarded by mu_
  bool holding_ = false;           // whether the last Lease() call got it; the pass thread only
  Ticker::TimePoint leased_at_{};  // the pass thread only
  mutable std::mutex last_mu_;
  std::optional<ReconcilerLastPass> last_;  // guarded by last_mu_
  std::thread thread_;
};

}  // namespace dripr
