#pragma once
// The campaign state machine (docs/contracts.md §2) as pure functions. Stores load the current row
// in a transaction, call one of these, and write the result with a compare-and-set on the status
// and data_cycle they loaded, together with the event (if any) in the outbox.

#include <optional>
#include <string>

#include "dripr/core/clock.h"
#include "dripr/core/error.h"
#include "dripr/domain/event.h"
#include "dripr/domain/types.h"

namespace dripr {

// The event announcing `before.status` -> `after.status` for `after`'s data cycle.
StatusChangeEvent StatusChangeEventFor(const Campaign& before, const Campaign& after, SysTime now,
                                       std::string event_id);

struct TransitionResult {
  Campaign next;
  std::optional<StatusChangeEvent> event;  // set when the campaign status changed
};

// DORMANT → WAITING_FOR_DATA; required parts → WAITING_FOR_DATA, the others DORMANT;
// data_cycle + 1; error_text cleared. kFailedPrecondition when not DORMANT.
Result<TransitionResult> StartTransition(const Campaign& c, const RequiredParts& required,
                                         SysTime now, std::string event_id);

// Part WAITING_FOR_DATA → READY for cycle `data_cycle`; when every required part is then
// READY, also WAITING_FOR_DATA → READY_TO_CREATE_EMAIL with its event (the fan-in).
// kFailedPrecondition when stale: campaign not WAITING_FOR_DATA, other cycle, or part not
// WAITING_FOR_DATA (already done or failed).
Result<TransitionResult> PartReadyTransition(const Campaign& c, DataPart part, int64_t data_cycle,
                                             const RequiredParts& required, SysTime now,
                                             std::string event_id);

// Part → ERROR (when given) and campaign → ERROR with error_text, one event.
// `data_cycle` (when given) must match. kFailedPrecondition when the campaign is already
// ERROR or is not in a state this system owns (only WAITING_FOR_DATA may fail).
Result<TransitionResult> FailTransition(const Campaign& c, std::optional<DataPart> part,
                                        std::optional<int64_t> data_cycle, std::string error_text,
                                        SysTime now, std::string event_id);

// ERROR → DORMANT; all parts DORMANT; error_text cleared; restart_count 0 (an operator's
// reset gives the reconciler its restarts back); one event. kFailedPrecondition when not ERROR.
//
// Every transition sets parts_changed_at to `now` when it changes a part status; a new data
// cycle sets republish_count to 0 and the fan-in sets restart_count to 0.
Result<TransitionResult> ResetTransition(const Campaign& c, SysTime now, std::string event_id);

// ERROR → WAITING_FOR_DATA in a new data cycle (data_cycle + 1): required parts →
// WAITING_FOR_DATA, the others DORMANT; error_text cleared; one event (to WAITING_FOR_DATA,
// so the part queues receive it). Messages of the failed cycle (e.g. DLQ copies) become
// stale and are acknowledged without effect. kFailedPrecondition when not ERROR.
Result<TransitionResult> RetryTransition(const Campaign& c, const RequiredParts& required,
                                         SysTime now, std::string event_id);

}  // namespace dripr
