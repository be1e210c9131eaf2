// PostgresStore: the transactional outbox for many concurrent relays (FOR UPDATE SKIP LOCKED
// claims that keep each campaign's order) and the LISTEN/NOTIFY wake-up.

#include <poll.h>

#include <cerrno>

#include "dripr/core/log.h"
#include "dripr/core/thread_name.h"
#include "dripr/domain/event.h"
#include "dripr/store/postgres/pg_rows.h"
#include "dripr/store/postgres/postgres_store.h"
#include "dripr/store/store_common.h"

namespace dripr {

using pg::Connection;
using pg::Params;
using pg::Rows;

// Claimable "heads": the oldest unpublished row of each campaign, when not under a live
// lease. Locking them (SKIP LOCKED: a row another relay is claiming right now is passed over,
// not waited for) reserves the campaign; its later unpublished rows, which are never heads,
// come along in id order. A concurrent relay therefore never takes a campaign's second event
// while its first is claimed, committed or not.
// Written so that no plan can be quadratic in the unpublished rows (docs/decisions/postgres.md,
// "The outbox claim's plan"): a row is a head when it is its campaign's smallest unpublished
// id, a subquery run per row as one probe of outbox_pending_by_campaign; a head's later rows
// are found by a LATERAL probe of the same index. (A NOT EXISTS anti-join here was planned,
// on statistics taken while nothing was unpublished, as a nested loop comparing every
// unpublished row with every other: 80-600 ms per claim at 500-2,000 unpublished rows.)
// The heads are read in id order along outbox_pending, stopping after $2 of them: the claim's
// transaction turns bitmap scans off (kPostgresOutboxClaimSetting), because on statistics
// that saw few unpublished rows the planner otherwise collects every unpublished row with a
// bitmap scan, runs the head subquery on each and sorts them for the LIMIT: 5 ms per claim
// at a backlog of 1,500 against 0.4 ms, so draining a backlog was quadratic again
// (docs/decisions/postgres.md, "The outbox claim's plan").
const std::string& PostgresOutboxClaimSql() {
  static const std::string sql =
      "WITH heads AS ("
      "  SELECT o.id, o.campaign_id FROM outbox o"
      "  WHERE o.published_at IS NULL"
      "    AND (o.claimed_until IS NULL OR o.claimed_until <= $1::timestamptz)"
      "    AND o.id = (SELECT min(p.id) FROM outbox p WHERE p.campaign_id = o.campaign_id"
      "                AND p.published_at IS NULL)"
      "  ORDER BY o.id LIMIT $2 FOR UPDATE SKIP LOCKED),"
      " picked AS ("
      "  SELECT o.id FROM heads h CROSS JOIN LATERAL ("
      "    SELECT o.id FROM outbox o WHERE o.campaign_id = h.campaign_id"
      "    AND o.published_at IS NULL AND o.id >= h.id"
      "    AND (o.claimed_until IS NULL OR o.claimed_until <= $1::timestamptz)) o"
      "  ORDER BY o.id LIMIT $2),"
      " claimed AS ("
      "  UPDATE outbox SET claimed_until = $3::timestamptz, claim_token = $4"
      "  WHERE id IN (SELECT id FROM picked) RETURNING " +
      EpochMsOutboxColumns<pg::Driver>() +
      ")"
      " SELECT * FROM claimed ORDER BY id";
  return sql;
}

namespace {

// "{1,2,3}": a bigint[] parameter.
std::string IdArray(const std::vector<int64_t>& ids) {
  std::string out = "{";
  for (size_t i = 0; i < ids.size(); ++i) {
    if (i > 0) out += ',';
    out += std::to_string(ids[i]);
  }
  return out + "}";
}

constexpr std::string_view kChannel = "dripr_outbox";

}  // namespace

Status PostgresStore::ClaimRows(Connection& c, int limit, SysTime now, SysTime until,
                                const std::string& token, std::vector<OutboxRow>& out) {
  // Inside ClaimOutbox's transaction: queued, it travels with the claim (one round trip).
  DRIPR_TRY(c.Queue(std::string(kPostgresOutboxClaimSetting), Params()));
  DRIPR_ASSIGN_OR_RETURN(Rows rows, c.Exec(PostgresOutboxClaimSql(),
                                           Params().Time(now).Int(limit).Time(until).Text(token)));
  return ReadAll(rows, ReadOutbox, out);
}

Status PostgresStore::UpdateUnpublished(Connection& c, std::string_view set, std::string_view where,
                                        Params params, const std::vector<int64_t>& ids) {
  DRIPR_TRY(
      c.Exec(pg::Driver::Sql("UPDATE outbox SET " + std::string(set) + " WHERE " +
                             std::string(where) + "id = ANY(?::bigint[]) AND published_at IS NULL"),
             params.Text(IdArray(ids))));
  return Ok();
}

// ---- LISTEN/NOTIFY ----

void PostgresStore::EnsureListener() {
  std::call_once(listener_started_, [this] {
    listener_ = std::thread([this] {
      NameThisThread("pg-listen");
      ListenLoop();
    });
  });
}

// Keeps one connection LISTENing on the outbox channel; every notification (and every
// (re)connection, which may have missed some) bumps the generation WaitForOutbox waits on.
// A failed connection or LISTEN is retried after a pause on the store's ticker: 100 ms,
// doubling to at most 5 s, back to 100 ms once listening (WaitForOutbox polls meanwhile).
void PostgresStore::ListenLoop() {
  using namespace std::chrono_literals;
  auto backoff = 100ms;
  bool warned = false;
  while (!stop_) {
    auto conn = pg::Connection::Open(options_.url, options_.connect_timeout);
    Status listening =
        conn ? (*conn)->ExecScript("LISTEN " + std::string(kChannel)) : Status(Fail(conn.error()));
    if (!listening) {
      if (!warned) {
        DRIPR_LOG_WARN("outbox listener: {} (polling every {} ms meanwhile)",
                       listening.error().ToString(), options_.outbox_poll_interval.count());
      }
      warned = true;
      {
        std::unique_lock lock(listener_mu_);
        ticker().WaitFor(lock, listener_cv_, backoff, [this] { return stop_.load(); });
      }
      backoff = std::min<std::chrono::milliseconds>(backoff * 2, 5s);
      continue;
    }
    if (warned) DRIPR_LOG_INFO("outbox listener: listening again");
    warned = false;
    backoff = 100ms;
    NotifyOutbox();
    PGconn* raw = (*conn)->raw();
    while (!stop_) {
      pollfd fd{PQsocket(raw), POLLIN, 0};
      int ready = ::poll(&fd, 1, 200);
      if (ready < 0 && errno != EINTR) break;
      if (ready <= 0) continue;
      if (PQconsumeInput(raw) == 0) break;  // connection lost
      bool any = false;
      while (PGnotify* n = PQnotifies(raw)) {
        any = true;
        PQfreemem(n);
      }
      if (any) NotifyOutbox();
    }
  }
}

}  // namespace dripr
