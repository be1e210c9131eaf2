#pragma once
// MysqlStore: the Store (store/store.h) over MySQL 8 / MariaDB >= 10.6 through MariaDB
// Connector/C. Same behaviour as PostgresStore, in MySQL's terms (docs/decisions/mysql.md).
//
// Connections: a small pool (`pool_size`, opened lazily, lost connections dropped and
// reopened); every SQL text is a server-side prepared statement cached per connection.
// Sessions run in UTC, utf8mb4, strict sql_mode, READ COMMITTED.
//
// Transactions: a transition locks its campaign row (SELECT ... FOR UPDATE), so concurrent
// transitions of one campaign queue behind each other and the compare-and-set always sees
// the latest row (StoreBase::RunTransition). Every transaction (and every read) is retried
// as a whole, with jittered backoff, on deadlocks (1213), lock-wait timeouts (1205) and lost
// connections, until `retry_deadline`. Retrying after a lost COMMIT is safe: transitions are
// compare-and-set, claims and marks are idempotent.
//
// Part rows are replaced with DELETE + multi-row INSERTs (kInsertBatchRows rows per
// statement) in the transaction of the transition; zip codes load the same way in one
// transaction.
//
// Outbox: ClaimOutbox finds each campaign's oldest unpublished row ("head") with a plain read,
// locks the heads FOR UPDATE SKIP LOCKED (re-checking that they are unclaimed), then takes
// those campaigns' later rows, so concurrent relays never hold two events of one campaign.
// MySQL has no LISTEN/NOTIFY: commits of this process wake WaitForOutbox at once; other
// processes' rows are seen by re-reading max(outbox.id) (the primary key's last entry) every
// `outbox_poll_interval` while a relay waits.

#include <chrono>
#include <functional>
#include <memory>
#include <string>

#include "dripr/store/mysql/my_conn.h"
#include "dripr/store/mysql/my_rows.h"
#include "dripr/store/networked_store.h"

namespace dripr {

struct MysqlStoreOptions {
  std::string url;  // mysql://user[:password]@host[:port]/db[?ssl-mode=...&ssl-ca=...&socket=...]
  RequiredParts required_parts;
  const Clock* clock = nullptr;  // nullptr: SystemClock::Instance()
  Ticker* ticker = nullptr;      // retry deadlines and waits; nullptr: the real one
  Random* random = nullptr;      // retry jitter; nullptr: the real one
  int pool_size = 8;
  std::chrono::seconds connect_timeout{5};
  std::chrono::milliseconds acquire_timeout{10'000};
  // Transient failures (lost connection, deadlock, lock-wait timeout) are retried until
  // this long after the first attempt.
  std::chrono::milliseconds retry_deadline{15'000};
  // 80 ms: another process's outbox row is seen within 100 ms; one indexed query per tick
  // per waiting relay (12.5 lookups/s; docs/decisions/mysql.md has the measured total).
  std::chrono::milliseconds outbox_poll_interval{80};
};

class MysqlStore final : public NetworkedStore<my::Driver> {
 public:
  // Rows per multi-row INSERT when part rows or zip codes are written.
  static constexpr int kInsertBatchRows = 100;

  // Parses the URL and connects once to check it and the server (no retry: a wrong URL
  // fails at once). Errors never contain the password.
  static Result<std::unique_ptr<MysqlStore>> Open(MysqlStoreOptions options);

  Status Migrate() override;

  // The rest of the Store is NetworkedStore's, on the hooks below.

  // Replaces a campaign's rows in a transaction of its own, with the multi-row INSERTs the
  // store uses or (`row_by_row`) one INSERT per row: bench/mysql_part_rows_bench.cc compares
  // the two. `part` is kActiveListings or kRecentSales.
  Status ReplaceRecordsForBench(const CampaignId& campaign_id, DataPart part,
                                const std::vector<RankedRecord>& records, bool row_by_row);

 private:
  MysqlStore(MysqlStoreOptions options, my::Url url, const Clock* clock);

  SysTime Now() const override;

  ConnectionPool<my::Connection>& pool() override { return pool_; }
  std::chrono::milliseconds retry_deadline() const override { return options_.retry_deadline; }
  Status InTransactionOn(my::Connection& c, const Work& fn) override;

  // mysql_store.cc
  Result<int> ReadSchemaVersion(my::Connection& c) override;
  // mysql_store_data.cc
  Status ReplaceRows(my::Connection& c, const CampaignId& campaign_id, const RecordTable& t,
                     const std::vector<RankedRecord>& records) override;
  Status LoadZipRows(const std::string& csv_path, const std::vector<ZipRow>& rows) override;
  // mysql_outbox.cc
  Status ClaimRows(my::Connection& c, int limit, SysTime now, SysTime until,
                   const std::string& token, std::vector<OutboxRow>& out) override;
  Status UpdateUnpublished(my::Connection& c, std::string_view set, std::string_view where,
                           my::Params params, const std::vector<int64_t>& ids) override;
  // mysql_reconciler.cc
  Result<bool> TakeLease(my::Connection& c, const std::string& name, const std::string& holder,
                         SysTime now, SysTime until) override;

  const MysqlStoreOptions options_;
  const Clock* const clock_;
  my::Pool pool_;
};

}  // namespace dripr
