#include "dripr/domain/reconcile.h"

#include <algorithm>

#include "dripr/core/enum_names.h"

namespace dripr {
namespace {

bool Stuck(const Campaign& c, SysTime now, const ReconcileSettings& s) {
  if (c.status != CampaignStatus::kWaitingForData) return false;
  return now - std::max(c.parts_changed_at, c.updated_at) >= s.stuck_after;
}

bool Restartable(const Campaign& c, SysTime now, const ReconcileSettings& s) {
  if (c.status != CampaignStatus::kError || s.restart_errored_after.count() == 0) return false;
  return now - c.status_changed_at >= s.restart_errored_after && c.restart_count < s.max_restarts;
}

constexpr auto kActionNames = EnumNames<ReconcileAction>({
    {ReconcileAction::kRepublish, "republish"},
    {ReconcileAction::kFailStuck, "fail_stuck"},
    {ReconcileAction::kRestart, "restart"},
});

}  // namespace

std::string_view ToString(ReconcileAction a) { return NameOf(kActionNames, a, "unknown"); }

std::optional<ReconcileAction> DecideReconcile(const Campaign& c, SysTime now,
                                               const ReconcileSettings& s) {
  if (Stuck(c, now, s)) {
    return c.republish_count < s.max_republish ? ReconcileAction::kRepublish
                                               : ReconcileAction::kFailStuck;
  }
  if (Restartable(c, now, s)) return ReconcileAction::kRestart;
  return std::nullopt;
}

std::string UnfinishedParts(const Campaign& c) {
  std::string out;
  for (DataPart p : kAllDataParts) {
    if (c.part(p) != PartStatus::kWaitingForData) continue;
    if (!out.empty()) out += ", ";
    out += ToString(p);
  }
  return out.empty() ? "none" : out;
}

Result<TransitionResult> ReconcileTransition(const Campaign& c, ReconcileAction action,
                                             const ReconcileSettings& s,
                                             const std::optional<StatusChangeEvent>& original,
                                             SysTime now, std::string event_id) {
  if (DecideReconcile(c, now, s) != action) {
    return Fail(ErrorCode::kFailedPrecondition, "campaign " + c.id.str() + " no longer needs " +
                                                    std::string(ToString(action)) + " (it is " +
                                                    std::string(ToString(c.status)) + ")");
  }
  Campaign n = c;
  n.updated_at = now;
  switch (action) {
    case ReconcileAction::kRepublish: {
      n.republish_count = c.republish_count + 1;
      if (original && original->data_cycle == c.data_cycle &&
          original->to_status == CampaignStatus::kWaitingForData) {
        return TransitionResult{std::move(n), *original};
      }
      Campaign dormant = c;
      dormant.status = CampaignStatus::kDormant;
      auto ev = StatusChangeEventFor(dormant, n, now, std::move(event_id));
      return TransitionResult{std::move(n), std::move(ev)};
    }
    case ReconcileAction::kFailStuck: {
      n.status = CampaignStatus::kError;
      n.status_changed_at = now;
      const auto idle = std::chrono::duration_cast<std::chrono::seconds>(
          now - std::max(c.parts_changed_at, c.updated_at));
      n.error_text = "stuck in WAITING_FOR_DATA: " + UnfinishedParts(c) +
                     " did not finish in data cycle " + std::to_string(c.data_cycle) +
                     " (no progress for " + std::to_string(idle.count()) + " s after " +
                     std::to_string(c.republish_count) + " republished event" +
                     (c.republish_count == 1 ? "" : "s") + "; reconciler)";
      auto ev = StatusChangeEventFor(c, n, now, std::move(event_id));
      return TransitionResult{std::move(n), std::move(ev)};
    }
    case ReconcileAction::kRestart: {
      n.status = CampaignStatus::kDormant;
      n.status_changed_at = now;
      for (DataPart p : kAllDataParts) n.part(p) = PartStatus::kDormant;
      n.parts_changed_at = now;
      n.error_text.clear();
      n.restart_count = c.restart_count + 1;
      auto ev = StatusChangeEventFor(c, n, now, std::move(event_id));
      return TransitionResult{std::move(n), std::move(ev)};
    }
  }
  return Fail(ErrorCode::kInvalidArgument, "unknown reconcile action");
}

}  // namespace dripr
