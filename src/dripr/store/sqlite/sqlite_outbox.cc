// SqliteStore: the transactional outbox (rows written with each transition; claimed, published
// and released by the relay) and the wake-up for WaitForOutbox.

#include "dripr/core/ids.h"
#include "dripr/core/time.h"
#include "dripr/store/sqlite/sqlite_rows.h"
#include "dripr/store/sqlite/sqlite_store.h"
#include "dripr/store/store_common.h"

namespace dripr {

using sqlite::Connection;

Status SqliteStore::InsertOutboxEvent(Connection& c, const StatusChangeEvent& e, SysTime now) {
  DRIPR_ASSIGN_OR_RETURN(auto s, c.Prepare("INSERT INTO outbox (topic, campaign_id, event_type, "
                                           "body, attributes, created_at, attempts) "
                                           "VALUES (?, ?, ?, ?, ?, ?, 0)"));
  s.BindText(kCampaignEventsTopic).BindText(e.campaign_id.str()).BindText(kStatusChangeEventType);
  s.BindText(EncodeStatusChange(e)).BindText(EncodeOutboxAttributes(StatusChangeAttributes(e)));
  s.BindText(FormatIso8601(now));
  return s.Run();
}

void SqliteStore::JoinOutboxHub() {
  outbox_hub_ = sqlite_store::OutboxHub::For(writer_->path());
  outbox_hub_->Join(this, [this] { RecheckOutbox(); });
}

SqliteStore::~SqliteStore() {
  if (outbox_hub_) outbox_hub_->Leave(this);
}

void SqliteStore::NotifyOutbox() {
  StoreBase::NotifyOutbox();
  // Another store on the file waits on its own condition variable, and the change watcher
  // does not report commits through the shared writer: it re-reads max(outbox.id) now.
  if (outbox_hub_) outbox_hub_->NotifyOthers(this);
}

Result<int64_t> SqliteStore::MaxOutboxId() {
  DRIPR_ASSIGN_OR_RETURN(auto c, pool_.Acquire());
  DRIPR_ASSIGN_OR_RETURN(auto s, c->Prepare("SELECT coalesce(max(id), 0) FROM outbox"));
  DRIPR_TRY(s.Step());
  return s.Int(0);
}

Result<std::vector<OutboxRow>> SqliteStore::ClaimOutbox(int limit, std::chrono::seconds lease) {
  std::vector<OutboxRow> rows;
  if (limit <= 0) return rows;
  const SysTime now = Now();
  const std::string now_text = FormatIso8601(now);
  const std::string until_text = FormatIso8601(now + lease);
  const std::string token = NewUuid();
  int64_t max_id = 0;
  Status written = InWriteTransaction("claim outbox", [&](Connection& c) -> Status {
    rows.clear();
    // Claimable: unpublished, not under a live lease, and no older unpublished row of the
    // same campaign under someone else's live lease (events of one campaign stay in order).
    DRIPR_ASSIGN_OR_RETURN(auto s,
                           c.Prepare("SELECT " + std::string(sqlite::kOutboxColumns) +
                                     " FROM outbox o WHERE o.published_at IS NULL"
                                     " AND (o.claimed_until IS NULL OR o.claimed_until <= ?1)"
                                     " AND NOT EXISTS (SELECT 1 FROM outbox p WHERE"
                                     " p.campaign_id = o.campaign_id AND p.id < o.id AND"
                                     " p.published_at IS NULL AND p.claimed_until > ?1)"
                                     " ORDER BY o.id LIMIT ?2"));
    s.BindText(now_text).BindInt(limit);
    DRIPR_ASSIGN_OR_RETURN(rows, s.ReadAll<OutboxRow>(sqlite::ReadOutboxRow));
    for (OutboxRow& r : rows) r.claim_token = token;
    DRIPR_ASSIGN_OR_RETURN(
        auto u, c.Prepare("UPDATE outbox SET claimed_until = ?, claim_token = ? WHERE id = ?"));
    for (const OutboxRow& r : rows) {
      u.Reset();
      DRIPR_TRY(u.BindText(until_text).BindText(token).BindInt(r.id).Run());
    }
    DRIPR_ASSIGN_OR_RETURN(auto m, c.Prepare("SELECT coalesce(max(id), 0) FROM outbox"));
    DRIPR_TRY(m.Step());
    max_id = m.Int(0);
    return Ok();
  });
  if (!written) return Fail(written.error());
  SetClaimedMaxId(max_id);
  return rows;
}

Status SqliteStore::MarkPublished(const std::vector<int64_t>& ids) {
  if (ids.empty()) return Ok();
  const std::string now_text = FormatIso8601(Now());
  return InWriteTransaction("mark outbox published", [&](Connection& c) -> Status {
    DRIPR_ASSIGN_OR_RETURN(auto s,
                           c.Prepare("UPDATE outbox SET published_at = ?, claimed_until = NULL, "
                                     "claim_token = NULL WHERE id = ? AND published_at IS NULL"));
    for (int64_t id : ids) {
      s.Reset();
      DRIPR_TRY(s.BindText(now_text).BindInt(id).Run());
    }
    return Ok();
  });
}

Status SqliteStore::SetAsideOutbox(int64_t id, const std::string& reason) {
  const std::string now_text = FormatIso8601(Now());
  return InWriteTransaction("set outbox row aside", [&](Connection& c) -> Status {
    DRIPR_ASSIGN_OR_RETURN(auto s,
                           c.Prepare("UPDATE outbox SET published_at = ?, failed_reason = ?, "
                                     "claimed_until = NULL, claim_token = NULL WHERE id = ? AND "
                                     "published_at IS NULL"));
    return s.BindText(now_text).BindText(reason).BindInt(id).Run();
  });
}

Status SqliteStore::ReleaseOutbox(const std::vector<int64_t>& ids, const std::string& claim_token) {
  if (ids.empty()) return Ok();
  Status written = InWriteTransaction("release outbox", [&](Connection& c) -> Status {
    DRIPR_ASSIGN_OR_RETURN(
        auto s, c.Prepare("UPDATE outbox SET attempts = attempts + 1, claimed_until = NULL, "
                          "claim_token = NULL WHERE id = ? AND claim_token = ? AND "
                          "published_at IS NULL"));
    for (int64_t id : ids) {
      s.Reset();
      DRIPR_TRY(s.BindInt(id).BindText(claim_token).Run());
    }
    return Ok();
  });
  if (!written) return Fail(written.error());
  NotifyOutbox();  // released rows are claimable again
  return Ok();
}

Result<int64_t> SqliteStore::PendingOutboxCount() {
  DRIPR_ASSIGN_OR_RETURN(auto c, pool_.Acquire());
  DRIPR_ASSIGN_OR_RETURN(auto s,
                         c->Prepare("SELECT count(*) FROM outbox WHERE published_at IS NULL"));
  DRIPR_TRY(s.Step());
  return s.Int(0);
}

Result<StoreGauges> SqliteStore::SampleGauges() {
  StoreGauges g;
  DRIPR_ASSIGN_OR_RETURN(auto c, pool_.Acquire());
  DRIPR_ASSIGN_OR_RETURN(auto by_status,
                         c->Prepare("SELECT campaign_status, count(*) FROM campaigns "
                                    "GROUP BY campaign_status"));
  DRIPR_TRY(by_status.ForEachRow(
      [&](sqlite::Statement& s) { g.campaigns_by_status[s.Text(0)] = s.Int(1); }));
  DRIPR_ASSIGN_OR_RETURN(auto outbox, c->Prepare("SELECT count(*), min(created_at) FROM outbox "
                                                 "WHERE published_at IS NULL"));
  DRIPR_TRY(outbox.Step());
  g.outbox_backlog = outbox.Int(0);
  if (!outbox.IsNull(1)) {
    DRIPR_ASSIGN_OR_RETURN(g.oldest_unpublished, sqlite::ReadTime(outbox, 1, "outbox.created_at"));
  }
  return g;
}

Result<std::vector<OutboxRow>> SqliteStore::OutboxForCampaign(const CampaignId& campaign_id) {
  DRIPR_ASSIGN_OR_RETURN(auto c, pool_.Acquire());
  DRIPR_ASSIGN_OR_RETURN(auto s, c->Prepare("SELECT " + std::string(sqlite::kOutboxColumns) +
                                            " FROM outbox WHERE campaign_id = ? ORDER BY id"));
  s.BindText(campaign_id.str());
  return s.ReadAll<OutboxRow>(sqlite::ReadOutboxRow);
}

}  // namespace dripr
