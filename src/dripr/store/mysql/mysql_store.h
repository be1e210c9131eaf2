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
#include "dripr/store/store_base.h"

namespace dripr {

struct MysqlStoreOptions {
  std::string url;  // mysql://user[:password]@host[:port]/db[?ssl-mode=...&ssl-ca=...&socket=...]
  RequiredParts required_parts;
  const Clock* clock = nullptr;  // nullptr: SystemClock::Instance()
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

class MysqlStore final : public StoreBase {
 public:
  // Rows per multi-row INSERT when part rows or zip codes are written.
  static constexpr int kInsertBatchRows = 100;

  // Parses the URL and connects once to check it and the server (no retry: a wrong URL
  // fails at once). Errors never contain the password.
  static Result<std::unique_ptr<MysqlStore>> Open(MysqlStoreOptions options);

  Status Migrate() override;
  Result<int> SchemaVersion() override;
  int LatestSchemaVersion() const override;

  Result<Campaign> GetCampaign(const std::string& id) override;
  Result<std::vector<Campaign>> ListCampaigns(std::optional<CampaignStatus> status) override;
  Result<std::vector<Campaign>> ListCampaignsPage(const CampaignPageQuery& q) override;
  Result<std::optional<PropertyData>> GetProperty(const std::string& campaign_id) override;

  Result<std::vector<RankedRecord>> GetActiveListings(const std::string& campaign_id) override;
  Result<std::vector<RankedRecord>> GetRecentSales(const std::string& campaign_id) override;

  Result<std::optional<MarketData>> GetMarketData(const std::string& zip,
                                                  std::chrono::seconds max_age) override;
  Result<std::optional<MarketData>> LatestMarketData(const std::string& zip) override;

  Result<std::optional<GeoPoint>> ZipCentroid(const std::string& zip) override;
  Status LoadZipCodes(const std::string& csv_path) override;

  Result<std::vector<OutboxRow>> ClaimOutbox(int limit, std::chrono::seconds lease) override;
  Status MarkPublished(const std::vector<int64_t>& ids) override;
  Status ReleaseOutbox(const std::vector<int64_t>& ids) override;
  Result<int64_t> PendingOutboxCount() override;
  Result<StoreGauges> SampleGauges() override;
  Result<std::vector<OutboxRow>> OutboxForCampaign(const std::string& campaign_id) override;
  Result<OutboxBacklog> PendingOutbox() override;

  Status HeartbeatFetcher(const FetcherInfo& f) override;
  Status UnregisterFetcher(const std::string& instance_id) override;
  Result<std::vector<FetcherInfo>> ListFetchers() override;

  // mysql_reconciler.cc
  Result<std::vector<Campaign>> FindReconcileCandidates(SysTime unmoved_before,
                                                        std::optional<SysTime> errored_before,
                                                        int max_restarts, int limit) override;
  Result<bool> AcquireLease(const std::string& name, const std::string& holder,
                            std::chrono::seconds ttl) override;
  Status ReleaseLease(const std::string& name, const std::string& holder) override;

  // Replaces a campaign's rows in a transaction of its own, with the multi-row INSERTs the
  // store uses or (`row_by_row`) one INSERT per row: bench/mysql_part_rows_bench.cc compares
  // the two. `part` is kActiveListings or kRecentSales.
  Status ReplaceRecordsForBench(const std::string& campaign_id, DataPart part,
                                const std::vector<RankedRecord>& records, bool row_by_row);

 private:
  // Runs a SELECT of the campaign columns with text parameters (the listings' shared tail).
  Result<std::vector<Campaign>> SelectCampaigns(const std::string& sql,
                                                const std::vector<std::string>& params);
  using Work = std::function<Status(my::Connection&)>;
  class Tx;  // TransitionTx over one connection (mysql_store.cc)

  MysqlStore(MysqlStoreOptions options, my::Url url, const Clock* clock);

  Status InTransitionTransaction(std::string_view what, const TransitionBody& body) override;
  Result<int64_t> MaxOutboxId() override;
  SysTime Now() const override;

  // Runs `fn` on a pooled connection, inside START TRANSACTION/COMMIT when `transaction`;
  // retries the whole of it on transient failures. `what` prefixes errors.
  Status Run(std::string_view what, bool transaction, const Work& fn);
  Status InTransaction(std::string_view what, const Work& fn) { return Run(what, true, fn); }
  Status Read(std::string_view what, const Work& fn) { return Run(what, false, fn); }

  Result<std::vector<RankedRecord>> GetRecords(const std::string& campaign_id, DataPart part);
  Status ReplaceRecords(my::Connection& c, const std::string& campaign_id, DataPart part,
                        const std::vector<RankedRecord>& records);
  Status InsertMarketData(my::Connection& c, const MarketData& m, SysTime now);
  Status InsertOutboxEvent(my::Connection& c, const StatusChangeEvent& e, SysTime now);

  const MysqlStoreOptions options_;
  const Clock* const clock_;
  my::Pool pool_;
};

}  // namespace dripr
