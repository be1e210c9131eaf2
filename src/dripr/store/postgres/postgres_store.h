#pragma once
// PostgresStore: the Store (store/store.h) over PostgreSQL through libpq.
//
// Connections: a small pool (`pool_size`, opened lazily, lost connections dropped and
// reopened); every SQL text is a prepared statement cached per connection.
//
// Transactions: READ COMMITTED. A transition locks its campaign row (SELECT ... FOR UPDATE),
// so concurrent transitions of one campaign queue behind each other and the compare-and-set
// always sees the latest row. Every transaction (and every read) is retried as a whole, with
// jittered backoff, on serialization failures, deadlocks and lost connections, until
// `retry_deadline`. Retrying after a lost COMMIT is safe: transitions are compare-and-set (a
// second attempt finds the change applied and reports `changed=false`), claims and marks are
// idempotent. BEGIN travels with a transaction's first statement (pg::Connection::Begin);
// one-statement writes (outbox marks, leases, heartbeats) run without BEGIN/COMMIT
// (NetworkedStore::WriteStatement): round trips are what this path costs
// (docs/decisions/performance.md).
//
// Transitions that handlers start while others run are combined (StoreBase::RunTransition):
// one transaction locks their campaigns in one pipelined round trip and sends all their
// writes with its COMMIT; a batch that fails for one transition's sake runs each alone.
//
// A transition's writes after its locked read (compare-and-set, part rows, market data,
// outbox) are queued and sent with its COMMIT in one pipeline (pg::Connection::Queue); part
// rows are replaced with DELETE + multi-row INSERTs; zip codes load with one COPY.
//
// Outbox: ClaimOutbox takes the oldest unpublished row of each campaign ("head") with
// FOR UPDATE SKIP LOCKED, then that campaign's later rows, so concurrent relays never hold
// two events of one campaign and never wait on each other. An outbox insert NOTIFYs channel
// `dripr_outbox` (trigger from the migration); WaitForOutbox listens on a dedicated
// connection, and re-checks max(outbox.id) at least every `outbox_poll_interval` in case
// the listening connection is lost.

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "dripr/store/networked_store.h"
#include "dripr/store/postgres/pg_conn.h"
#include "dripr/store/postgres/pg_rows.h"

namespace dripr {

struct PostgresStoreOptions {
  std::string url;  // postgresql://user[:password]@host[:port]/db[?param=value...]
  RequiredParts required_parts;
  const Clock* clock = nullptr;  // nullptr: SystemClock::Instance()
  Ticker* ticker = nullptr;      // retry deadlines and waits; nullptr: the real one
  Random* random = nullptr;      // retry jitter; nullptr: the real one
  int pool_size = 8;
  std::chrono::seconds connect_timeout{5};
  std::chrono::milliseconds acquire_timeout{10'000};
  // Transient failures (lost connection, serialization failure, deadlock) are retried
  // until this long after the first attempt.
  std::chrono::milliseconds retry_deadline{15'000};
  std::chrono::milliseconds outbox_poll_interval{1'000};
  // Concurrent transitions combined into one transaction (StoreBase::TransitionBatching): up
  // to 32 in each of at most 2 transactions at once. Measured on B2PG: +15-23 % campaigns/s,
  // 40 % fewer round trips (docs/decisions/performance.md, "Stop 23").
  StoreBase::TransitionBatching transition_batching{.max_batch = 32, .combiners = 2};
};

// The outbox claim's statement ($1 now, $2 limit, $3 lease end, $4 claim token), and the
// planner setting its transaction runs it under (sent with it in one round trip); here for the
// test of its plan (postgres_outbox.cc).
const std::string& PostgresOutboxClaimSql();
inline constexpr std::string_view kPostgresOutboxClaimSetting = "SET LOCAL enable_bitmapscan = off";

class PostgresStore final : public NetworkedStore<pg::Driver> {
 public:
  // Connects once to check the URL and the server (no retry: a wrong URL fails at once).
  static Result<std::unique_ptr<PostgresStore>> Open(PostgresStoreOptions options);
  ~PostgresStore() override;

  Status Migrate() override;

  // The rest of the Store is NetworkedStore's, on the hooks below.

 private:
  void BeforeOutboxWait() override { EnsureListener(); }

  PostgresStore(PostgresStoreOptions options, const Clock* clock);

  SysTime Now() const override;
  TransitionBatching transition_batching() const override { return options_.transition_batching; }
  ConnectionPool<pg::Connection>& pool() override { return pool_; }
  std::chrono::milliseconds retry_deadline() const override { return options_.retry_deadline; }
  Status InTransactionOn(pg::Connection& c, const Work& fn) override;

  // postgres_store.cc
  Result<int> ReadSchemaVersion(pg::Connection& c) override;
  // postgres_store_data.cc
  Status ReplaceRows(pg::Connection& c, const CampaignId& campaign_id, const RecordTable& t,
                     const std::vector<RankedRecord>& records) override;
  Status LoadZipRows(const std::string& csv_path, const std::vector<ZipRow>& rows) override;
  // postgres_outbox.cc
  Status ClaimRows(pg::Connection& c, int limit, SysTime now, SysTime until,
                   const std::string& token, std::vector<OutboxRow>& out) override;
  Status UpdateUnpublished(pg::Connection& c, std::string_view set, std::string_view where,
                           pg::Params params, const std::vector<int64_t>& ids) override;
  // postgres_reconciler.cc
  Result<bool> TakeLease(pg::Connection& c, const std::string& name, const std::string& holder,
                         SysTime now, SysTime until) override;
  std::optional<Sent> TakeLeaseStatement(const std::string& name, const std::string& holder,
                                         SysTime now, SysTime until) override;
  std::optional<Sent> TakeMarketLeaseStatement(const CampaignId& id, const std::string& holder,
                                               SysTime now, SysTime until,
                                               SysTime fresh_after) override;
  void EnsureListener();
  void ListenLoop();

  const PostgresStoreOptions options_;
  const Clock* const clock_;
  pg::Pool pool_;

  std::once_flag listener_started_;
  std::atomic<bool> stop_{false};  // set under listener_mu_, so the reconnect pause sees it
  std::mutex listener_mu_;         // guards no data: only the reconnect pause on listener_cv_
  std::condition_variable listener_cv_;
  std::thread listener_;
};

}  // namespace dripr
