#pragma once
// The reconciler's decisions (docs/operations.md "Reconciler") as pure functions of a campaign
// row, the time and the settings, plus the transitions they lead to. The fetcher's Reconciler
// finds candidates, asks DecideReconcile, and has the store apply the action in one transaction
// that decides again on the row it locked (Store::ReconcileCampaign), so a decision taken on an
// old snapshot, or by two instances at once, is applied at most once.

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

#include "dripr/core/clock.h"
#include "dripr/core/error.h"
#include "dripr/domain/event.h"
#include "dripr/domain/transitions.h"
#include "dripr/domain/types.h"

namespace dripr {

struct ReconcileSettings {
  std::chrono::seconds interval{60};      // DRIPR_RECONCILE_INTERVAL_SECONDS (0: no reconciler)
  std::chrono::seconds stuck_after{900};  // DRIPR_STUCK_AFTER_SECONDS
  int max_republish = 3;                  // DRIPR_MAX_REPUBLISH
  std::chrono::seconds restart_errored_after{21600};  // DRIPR_RESTART_ERRORED_AFTER_SECONDS, 0: off
  int max_restarts = 3;                               // DRIPR_MAX_RESTARTS
};

enum class ReconcileAction {
  kRepublish,  // WAITING_FOR_DATA, parts unmoved for stuck_after: the cycle's event again
  kFailStuck,  // ... and max_republish republishes did not help: → ERROR saying so
  kRestart,    // ERROR for restart_errored_after and fewer than max_restarts restarts:
               // → DORMANT, restart_count + 1. At max_restarts it is left for a person.
};
inline constexpr ReconcileAction kAllReconcileActions[] = {
    ReconcileAction::kRepublish, ReconcileAction::kFailStuck, ReconcileAction::kRestart};

// "republish", "fail_stuck", "restart" (CLI JSON, logs, the metric's `action` label).
std::string_view ToString(ReconcileAction a);

// What the reconciler does with `c` at `now`; nullopt: nothing. A WAITING_FOR_DATA campaign
// is stuck when its parts have not changed, and nothing else wrote the row (a republish
// bumps updated_at), for stuck_after: republishes are therefore stuck_after apart.
std::optional<ReconcileAction> DecideReconcile(const Campaign& c, SysTime now,
                                               const ReconcileSettings& s);

// The parts of `c` that are still WAITING_FOR_DATA, comma-separated ("active_listings, ...").
std::string UnfinishedParts(const Campaign& c);

// Applies `action`, decided again on `c` at `now` (kFailedPrecondition naming why when the
// decision no longer holds, e.g. "campaign c-1 is no longer stuck").
//  - kRepublish: republish_count + 1, updated_at = now, no status change; the event is
//    `original` (the cycle's WAITING_FOR_DATA event as first published, same event_id) when
//    given and of the current cycle, else a new STATUS_CHANGE DORMANT → WAITING_FOR_DATA with
//    `event_id` (the cycle was started by another producer).
//  - kFailStuck: → ERROR (parts keep their status) with error_text naming the parts; one event.
//  - kRestart: ERROR → DORMANT, all parts DORMANT, error_text cleared, restart_count + 1;
//    one event.
Result<TransitionResult> ReconcileTransition(const Campaign& c, ReconcileAction action,
                                             const ReconcileSettings& s,
                                             const std::optional<StatusChangeEvent>& original,
                                             SysTime now, std::string event_id);

}  // namespace dripr
