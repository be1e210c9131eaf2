#include "dripr/fetcher/dead_letters.h"

#include <optional>
#include <set>

#include "dripr/core/enum_names.h"
#include "dripr/domain/event.h"
#include "dripr/fetcher/consumer.h"

namespace dripr {
namespace {

constexpr auto kActionNames = EnumNames<RedriveEntry::Action>({
    {RedriveEntry::Action::kRedriven, "redriven"},
    {RedriveEntry::Action::kSkipped, "skipped"},
    {RedriveEntry::Action::kDiscarded, "discarded"},
});

std::string Str(CampaignStatus s) { return std::string(ToString(s)); }

// Releases `messages` (visibility 0) in batches.
Status Release(Queue& q, const std::vector<ReceivedMessage>& messages) {
  for (size_t i = 0; i < messages.size(); i += kDeadLetterBatch) {
    std::vector<std::pair<std::string, std::chrono::seconds>> release;
    for (size_t j = i; j < std::min(messages.size(), i + kDeadLetterBatch); ++j) {
      release.emplace_back(messages[j].receipt_handle, std::chrono::seconds(0));
    }
    DRIPR_TRY(q.ChangeVisibilityBatch(release));
  }
  return Ok();
}

// Sends `m` to `work` without the dead-letter attributes, then deletes it from `dlq`: a crash
// in between duplicates rather than loses (handlers are idempotent). Errors name the queue.
Status MoveToWork(Queue& dlq, Queue& work, const ReceivedMessage& m) {
  OutgoingMessage o{m.body, m.attributes};
  for (auto k : {kFailureReasonAttribute, kSourceQueueAttribute, kReceiveCountAttribute}) {
    o.attributes.erase(std::string(k));
  }
  if (auto s = work.Send(o); !s) return Fail(s.error().Wrap(work.Name()));
  if (auto d = dlq.Delete(m.receipt_handle); !d) return Fail(d.error().Wrap(dlq.Name()));
  return Ok();
}

}  // namespace

Result<std::vector<ReceivedMessage>> PeekQueue(Queue& q) {
  DRIPR_ASSIGN_OR_RETURN(auto browsed, q.Browse());
  if (browsed) return std::move(*browsed);
  std::vector<ReceivedMessage> seen;
  std::set<std::string> ids;
  while (true) {
    DRIPR_ASSIGN_OR_RETURN(
        auto batch, q.Receive(kDeadLetterBatch, std::chrono::milliseconds(0), kPeekVisibility));
    if (batch.empty()) break;
    bool fresh = false;
    for (auto& m : batch) {
      if (ids.insert(m.message_id).second) {
        fresh = true;
        seen.push_back(std::move(m));
      }
    }
    if (!fresh) break;
  }
  DRIPR_TRY(Release(q, seen));
  return seen;
}

std::string DeadLetterReason(const ReceivedMessage& m) {
  auto reason = m.attributes.find(std::string(kFailureReasonAttribute));
  return reason == m.attributes.end() ? "(moved by the broker after too many receives)"
                                      : reason->second;
}

Result<RedriveVerdict> ClassifyDeadLetter(const ReceivedMessage& m, DataPart part, Store& store) {
  using Kind = RedriveVerdict::Kind;
  auto ev = DecodeStatusChange(m.body);
  if (!ev) {
    return RedriveVerdict{
        Kind::kKeep, {}, "malformed event (" + ev.error().message + "): it would fail again"};
  }
  const CampaignId& id = ev->campaign_id;
  if (ev->to_status != CampaignStatus::kWaitingForData) {
    return RedriveVerdict{Kind::kStale, id,
                          "event is to " + Str(ev->to_status) + ": a fetcher ignores it"};
  }
  auto c = store.GetCampaign(id);
  if (!c) {
    if (c.error().code == ErrorCode::kNotFound) {
      return RedriveVerdict{Kind::kKeep, id, "campaign " + id.str() + " does not exist"};
    }
    return Fail(c.error().Wrap("campaign " + id.str()));
  }
  const std::string cycle_note = ev->data_cycle && *ev->data_cycle != c->data_cycle
                                     ? " (event is for data cycle " +
                                           std::to_string(*ev->data_cycle) + ", campaign is in " +
                                           std::to_string(c->data_cycle) + ")"
                                     : "";
  switch (c->status) {
    case CampaignStatus::kError:
      if (!cycle_note.empty()) {
        return RedriveVerdict{
            Kind::kStale, id,
            "campaign is ERROR" + cycle_note + ": use `dripr campaign retry " + id.str() + "`"};
      }
      return RedriveVerdict{Kind::kKeep, id,
                            "campaign is ERROR (" + c->error_text +
                                "): fix the cause, then `dripr campaign retry " + id.str() +
                                "` (a new data cycle; this copy becomes stale)"};
    case CampaignStatus::kDormant:
      return RedriveVerdict{Kind::kStale, id,
                            "campaign is DORMANT" + cycle_note +
                                ": a redriven copy would only be "
                                "acknowledged as stale; use `dripr campaign start " +
                                id.str() + "`"};
    case CampaignStatus::kWaitingForData:
      if (!cycle_note.empty()) {
        return RedriveVerdict{Kind::kStale, id,
                              "stale" + cycle_note + ": the current cycle has its own events"};
      }
      if (c->part(part) != PartStatus::kWaitingForData) {
        return RedriveVerdict{Kind::kStale, id,
                              std::string(ToString(part)) + " is already " +
                                  std::string(ToString(c->part(part))) + " in this cycle"};
      }
      return RedriveVerdict{Kind::kRedrive, id,
                            "campaign is waiting for " + std::string(ToString(part))};
    default:
      return RedriveVerdict{Kind::kStale, id,
                            "campaign is " + Str(c->status) + cycle_note +
                                ": a redriven copy would only be acknowledged as stale; "
                                "if it needs new data, use `dripr campaign retry` from ERROR "
                                "or `dripr campaign start` from DORMANT"};
  }
}

std::string_view ToString(RedriveEntry::Action a) { return NameOf(kActionNames, a, "skipped"); }

Result<std::vector<RedriveEntry>> RedriveDeadLetters(Queue& dlq, Queue& work, DataPart part,
                                                     Store& store, const RedriveOptions& options) {
  std::vector<RedriveEntry> out;
  std::vector<ReceivedMessage> kept;  // released back into the DLQ at the end
  std::set<std::string> seen;
  Status failed = Ok();
  while (failed) {
    auto batch = dlq.Receive(kDeadLetterBatch, std::chrono::milliseconds(0), kRedriveVisibility);
    if (!batch) {
      failed = Fail(batch.error().Wrap(dlq.Name()));
      break;
    }
    if (batch->empty()) break;
    bool fresh = false;
    for (auto& m : *batch) {
      if (!seen.insert(m.message_id).second) {  // already decided (a lease lapsed): keep it
        kept.push_back(std::move(m));
        continue;
      }
      fresh = true;
      auto verdict = ClassifyDeadLetter(m, part, store);
      if (!verdict) {
        failed = Fail(verdict.error());
        kept.push_back(std::move(m));
        break;
      }
      RedriveEntry e{m.message_id, verdict->campaign_id, RedriveEntry::Action::kSkipped, "",
                     verdict->reason};
      if (verdict->kind == RedriveVerdict::Kind::kRedrive) {
        if (auto moved = MoveToWork(dlq, work, m); !moved) {
          failed = moved;
          kept.push_back(std::move(m));  // released: a copy may now be in both queues
          break;
        }
        e.action = RedriveEntry::Action::kRedriven;
        e.queue = work.Name();
        e.reason.clear();
      } else if (verdict->kind == RedriveVerdict::Kind::kStale && options.discard_stale) {
        if (auto d = dlq.Delete(m.receipt_handle); !d) {
          failed = Fail(d.error().Wrap(dlq.Name()));
          break;
        }
        e.action = RedriveEntry::Action::kDiscarded;
      } else {
        kept.push_back(std::move(m));
      }
      out.push_back(std::move(e));
    }
    if (!fresh) break;
  }
  auto released = Release(dlq, kept);
  if (!failed) return Fail(failed.error());
  if (!released) return Fail(released.error().Wrap(dlq.Name()));
  return out;
}

Result<RedriveEntry> ActOnDeadLetter(Queue& dlq, Queue& work, const std::string& message_id,
                                     DeadLetterOp op) {
  std::vector<ReceivedMessage> others;  // released at the end
  std::set<std::string> ids;
  std::optional<ReceivedMessage> found;
  Status failed = Ok();
  while (!found) {
    auto batch = dlq.Receive(kDeadLetterBatch, std::chrono::milliseconds(0), kPeekVisibility);
    if (!batch) {
      failed = Fail(batch.error().Wrap(dlq.Name()));
      break;
    }
    bool fresh = false;
    for (auto& m : *batch) {
      if (!ids.insert(m.message_id).second) {
        others.push_back(std::move(m));
        continue;
      }
      fresh = true;
      if (m.message_id == message_id && !found) {
        found = std::move(m);
      } else {
        others.push_back(std::move(m));
      }
    }
    if (!fresh) break;
  }
  RedriveEntry e{message_id, {}, RedriveEntry::Action::kSkipped, "", ""};
  if (failed && found) {
    if (auto ev = DecodeStatusChange(found->body)) e.campaign_id = ev->campaign_id;
    if (op == DeadLetterOp::kRedrive) {
      failed = MoveToWork(dlq, work, *found);
      e.action = RedriveEntry::Action::kRedriven;
      e.queue = work.Name();
    } else {
      failed = dlq.Delete(found->receipt_handle);
      if (!failed) failed = Fail(failed.error().Wrap(dlq.Name()));
      e.action = RedriveEntry::Action::kDiscarded;
      e.reason = "deleted by an operator";
    }
    if (!failed) others.push_back(std::move(*found));
  }
  auto released = Release(dlq, others);
  if (!failed) return Fail(failed.error());
  if (!released) return Fail(released.error().Wrap(dlq.Name()));
  if (!found) {
    return Fail(ErrorCode::kNotFound, "no message " + message_id + " in " + dlq.Name() +
                                          " (already redriven, deleted or being read)");
  }
  return e;
}

}  // namespace dripr
