// MysqlStore: the transactional outbox for many concurrent relays (FOR UPDATE SKIP LOCKED
// claims that keep each campaign's order). No LISTEN/NOTIFY in MySQL: StoreBase's
// WaitForOutbox polls MaxOutboxId (see mysql_store.h for the cost).

#include "dripr/domain/event.h"
#include "dripr/store/mysql/my_rows.h"
#include "dripr/store/mysql/mysql_store.h"
#include "dripr/store/store_common.h"

namespace dripr {

using my::Connection;
using my::Params;
using my::Rows;

namespace {

// Id lists are written in chunks of at most this many.
constexpr size_t kIdChunk = 128;

// IN lists are padded to a power of two (the last id repeated, which changes nothing), so a
// connection caches at most 8 sizes of each statement (the server caps prepared statements
// at max_prepared_stmt_count for all sessions together).
size_t Bucket(size_t n) {
  size_t b = 1;
  while (b < n) b *= 2;
  return b;
}

// "(?, ?, ?, ?)" for n values, padded.
std::string Placeholders(size_t n) {
  std::string out = "(";
  for (size_t i = 0; i < Bucket(n); ++i) out += i == 0 ? "?" : ", ?";
  return out + ")";
}

// ids[first, first + n), padded like Placeholders(n), appended to p.
Params Ids(Params p, const std::vector<int64_t>& ids, size_t first, size_t n) {
  for (size_t i = 0; i < Bucket(n); ++i) p.Int(ids[first + std::min(i, n - 1)]);
  return p;
}

}  // namespace

// 1. Candidate heads: the oldest unpublished row of each campaign, not under a live lease
//    (a plain, non-locking read: under READ COMMITTED it sees committed rows only).
// 2. Lock them FOR UPDATE SKIP LOCKED, re-checking on the latest committed version that they
//    are still unpublished and unclaimed: a head another relay is claiming right now is
//    passed over, not waited for. Holding a campaign's head reserves the campaign: another
//    relay never sees a later row of it as a head while the head is unpublished.
// 3. Take those campaigns' unpublished, unclaimed rows from the head on, in id order, up to
//    `limit`, and mark them claimed.
// Within one campaign ids grow in commit order (each insert happens under the campaign's row
// lock), so "oldest unpublished" is the campaign's next event.
Status MysqlStore::ClaimRows(Connection& c, int limit, SysTime now, SysTime until,
                             const std::string& token, std::vector<OutboxRow>& out) {
  limit = std::min<int>(limit, static_cast<int>(kIdChunk));
  DRIPR_ASSIGN_OR_RETURN(
      Rows candidates,
      c.Exec("SELECT o.id FROM outbox o WHERE o.published_at IS NULL"
             " AND (o.claimed_until IS NULL OR o.claimed_until <= ?)"
             " AND NOT EXISTS (SELECT 1 FROM outbox p WHERE p.campaign_id = o.campaign_id"
             " AND p.published_at IS NULL AND p.id < o.id)"
             " ORDER BY o.id LIMIT ?",
             Params().Time(now).Int(limit)));
  std::vector<int64_t> heads;
  if (!candidates.empty()) {
    std::vector<int64_t> ids;
    for (int i = 0; i < candidates.size(); ++i) ids.push_back(candidates.Int(i, 0));
    DRIPR_ASSIGN_OR_RETURN(
        Rows locked,
        c.Exec("SELECT id FROM outbox WHERE id IN " + Placeholders(ids.size()) +
                   " AND published_at IS NULL AND (claimed_until IS NULL OR claimed_until <= ?)"
                   " ORDER BY id FOR UPDATE SKIP LOCKED",
               Ids(Params(), ids, 0, ids.size()).Time(now)));
    for (int i = 0; i < locked.size(); ++i) heads.push_back(locked.Int(i, 0));
  }
  std::vector<int64_t> picked;
  if (!heads.empty()) {
    DRIPR_ASSIGN_OR_RETURN(
        Rows rows, c.Exec("SELECT o.id FROM outbox o JOIN outbox h ON o.campaign_id = h.campaign_id"
                          " WHERE h.id IN " +
                              Placeholders(heads.size()) +
                              " AND o.published_at IS NULL AND o.id >= h.id"
                              " AND (o.claimed_until IS NULL OR o.claimed_until <= ?)"
                              " ORDER BY o.id LIMIT ?",
                          Ids(Params(), heads, 0, heads.size()).Time(now).Int(limit)));
    for (int i = 0; i < rows.size(); ++i) picked.push_back(rows.Int(i, 0));
  }
  if (!picked.empty()) {
    DRIPR_TRY(c.Exec("UPDATE outbox SET claimed_until = ?, claim_token = ? WHERE id IN " +
                         Placeholders(picked.size()),
                     Ids(Params().Time(until).Text(token), picked, 0, picked.size())));
    DRIPR_ASSIGN_OR_RETURN(Rows rows,
                           c.Exec("SELECT " + OutboxColumns() + " FROM outbox WHERE id IN " +
                                      Placeholders(picked.size()) + " ORDER BY id",
                                  Ids(Params(), picked, 0, picked.size())));
    DRIPR_TRY(ReadAll(rows, ReadOutbox, out));
  }
  return Ok();
}

Status MysqlStore::UpdateUnpublished(Connection& c, std::string_view set, std::string_view where,
                                     Params params, const std::vector<int64_t>& ids) {
  for (size_t first = 0; first < ids.size(); first += kIdChunk) {
    size_t n = std::min(kIdChunk, ids.size() - first);
    DRIPR_TRY(c.Exec("UPDATE outbox SET " + std::string(set) + " WHERE " + std::string(where) +
                         "id IN " + Placeholders(n) + " AND published_at IS NULL",
                     Ids(params, ids, first, n)));
  }
  return Ok();
}

}  // namespace dripr
