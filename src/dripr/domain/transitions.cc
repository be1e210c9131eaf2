#include "dripr/domain/transitions.h"

#include <string>

namespace dripr {
namespace {

Campaign Changed(const Campaign& c, CampaignStatus to, SysTime now) {
  Campaign n = c;
  n.status = to;
  n.updated_at = now;
  n.status_changed_at = now;
  return n;
}

std::string Quoted(CampaignStatus s) { return std::string(ToString(s)); }

// kFailedPrecondition "campaign ID is S, not EXPECTED" unless `c` is `expected`.
Status RequireStatus(const Campaign& c, CampaignStatus expected) {
  if (c.status == expected) return Ok();
  return Fail(ErrorCode::kFailedPrecondition,
              "campaign " + c.id.str() + " is " + Quoted(c.status) + ", not " + Quoted(expected));
}

// A new data cycle from `c` (start and retry).
TransitionResult NewCycle(const Campaign& c, const RequiredParts& required, SysTime now,
                          std::string event_id) {
  Campaign n = Changed(c, CampaignStatus::kWaitingForData, now);
  for (DataPart p : kAllDataParts) {
    n.part(p) = required.Contains(p) ? PartStatus::kWaitingForData : PartStatus::kDormant;
  }
  n.data_cycle = c.data_cycle + 1;
  n.error_text.clear();
  n.parts_changed_at = now;
  n.republish_count = 0;
  auto ev = StatusChangeEventFor(c, n, now, std::move(event_id));
  return TransitionResult{std::move(n), std::move(ev)};
}

}  // namespace

StatusChangeEvent StatusChangeEventFor(const Campaign& before, const Campaign& after, SysTime now,
                                       std::string event_id) {
  StatusChangeEvent e;
  e.campaign_id = after.id;
  e.zip_code = after.zip_code;
  e.from_status = before.status;
  e.to_status = after.status;
  e.timestamp = now;
  e.event_id = std::move(event_id);
  e.data_cycle = after.data_cycle;
  return e;
}

Result<TransitionResult> StartTransition(const Campaign& c, const RequiredParts& required,
                                         SysTime now, std::string event_id) {
  DRIPR_TRY(RequireStatus(c, CampaignStatus::kDormant));
  return NewCycle(c, required, now, std::move(event_id));
}

Result<TransitionResult> PartReadyTransition(const Campaign& c, DataPart part, int64_t data_cycle,
                                             const RequiredParts& required, SysTime now,
                                             std::string event_id) {
  if (c.status != CampaignStatus::kWaitingForData) {
    return Fail(ErrorCode::kFailedPrecondition,
                "stale: campaign " + c.id.str() + " is " + Quoted(c.status));
  }
  if (c.data_cycle != data_cycle) {
    return Fail(ErrorCode::kFailedPrecondition,
                "stale: campaign " + c.id.str() + " is in data cycle " +
                    std::to_string(c.data_cycle) + ", event is for cycle " +
                    std::to_string(data_cycle));
  }
  if (c.part(part) != PartStatus::kWaitingForData) {
    return Fail(ErrorCode::kFailedPrecondition, "duplicate: " + std::string(ToString(part)) +
                                                    " of campaign " + c.id.str() + " is " +
                                                    std::string(ToString(c.part(part))));
  }
  Campaign n = c;
  n.updated_at = now;
  n.part(part) = PartStatus::kReady;
  n.parts_changed_at = now;
  bool all_ready = true;
  for (DataPart p : kAllDataParts) {
    if (required.Contains(p) && n.part(p) != PartStatus::kReady) all_ready = false;
  }
  if (!all_ready) return TransitionResult{std::move(n), std::nullopt};
  Campaign done = Changed(n, CampaignStatus::kReadyToCreateEmail, now);
  done.restart_count = 0;  // it recovered: a later error gets the full number of restarts
  auto ev = StatusChangeEventFor(c, done, now, std::move(event_id));
  return TransitionResult{std::move(done), std::move(ev)};
}

Result<TransitionResult> FailTransition(const Campaign& c, std::optional<DataPart> part,
                                        std::optional<int64_t> data_cycle, std::string error_text,
                                        SysTime now, std::string event_id) {
  DRIPR_TRY(RequireStatus(c, CampaignStatus::kWaitingForData));
  if (data_cycle && *data_cycle != c.data_cycle) {
    return Fail(
        ErrorCode::kFailedPrecondition,
        "stale: campaign " + c.id.str() + " is in data cycle " + std::to_string(c.data_cycle));
  }
  Campaign n = Changed(c, CampaignStatus::kError, now);
  if (part) {
    n.part(*part) = PartStatus::kError;
    n.parts_changed_at = now;
  }
  if (error_text.empty()) error_text = "unknown error";
  n.error_text = std::move(error_text);
  auto ev = StatusChangeEventFor(c, n, now, std::move(event_id));
  return TransitionResult{std::move(n), std::move(ev)};
}

Result<TransitionResult> ResetTransition(const Campaign& c, SysTime now, std::string event_id) {
  DRIPR_TRY(RequireStatus(c, CampaignStatus::kError));
  Campaign n = Changed(c, CampaignStatus::kDormant, now);
  for (DataPart p : kAllDataParts) n.part(p) = PartStatus::kDormant;
  n.error_text.clear();
  n.parts_changed_at = now;
  n.restart_count = 0;  // a person looked at it: automatic restarts may help again
  auto ev = StatusChangeEventFor(c, n, now, std::move(event_id));
  return TransitionResult{std::move(n), std::move(ev)};
}

Result<TransitionResult> RetryTransition(const Campaign& c, const RequiredParts& required,
                                         SysTime now, std::string event_id) {
  DRIPR_TRY(RequireStatus(c, CampaignStatus::kError));
  return NewCycle(c, required, now, std::move(event_id));
}

}  // namespace dripr
