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
// idempotent.
//
// Part rows are replaced with DELETE + COPY (text format) in the transaction of the
// transition; zip codes load with one COPY.
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

#include "dripr/store/postgres/pg_conn.h"
#include "dripr/store/store_base.h"

namespace dripr {

struct PostgresStoreOptions {
  std::string url;  // postgresql://user[:password]@host[:port]/db[?param=value...]
  RequiredParts required_parts;
  const Clock* clock = nullptr;  // nullptr: SystemClock::Instance()
  Ticker* ticker = nullptr;      // retry deadlines and waits; nullptr: the real one
  int pool_size = 8;
  std::chrono::seconds connect_timeout{5};
  std::chrono::milliseconds acquire_timeout{10'000};
  // Transient failures (lost connection, serialization failure, deadlock) are retried
  // until this long after the first attempt.
  std::chrono::milliseconds retry_deadline{15'000};
  std::chrono::milliseconds outbox_poll_interval{1'000};
};

class PostgresStore final : public StoreBase {
 public:
  // Connects once to check the URL and the server (no retry: a wrong URL fails at once).
  static Result<std::unique_ptr<PostgresStore>> Open(PostgresStoreOptions options);
  ~PostgresStore() override;

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

  // postgres_reconciler.cc
  Result<std::vector<Campaign>> FindReconcileCandidates(SysTime unmoved_before,
                                                        std::optional<SysTime> errored_before,
                                                        int max_restarts, int limit) override;
  Result<bool> AcquireLease(const std::string& name, const std::string& holder,
                            std::chrono::seconds ttl) override;
  Status ReleaseLease(const std::string& name, const std::string& holder) override;
  Result<OutboxBacklog> PendingOutbox() override;

  Status HeartbeatFetcher(const FetcherInfo& f) override;
  Status UnregisterFetcher(const std::string& instance_id) override;
  Result<std::vector<FetcherInfo>> ListFetchers() override;

 private:
  // Runs a SELECT of the campaign columns with text parameters (the listings' shared tail).
  Result<std::vector<Campaign>> SelectCampaigns(const std::string& sql,
                                                const std::vector<std::string>& params);
  using Work = std::function<Status(pg::Connection&)>;

  class Tx;  // TransitionTx over one connection (postgres_store.cc)

  Status InTransitionTransaction(std::string_view what, const TransitionBody& body) override;
  Result<int64_t> MaxOutboxId() override;
  void BeforeOutboxWait() override { EnsureListener(); }

  PostgresStore(PostgresStoreOptions options, const Clock* clock);

  SysTime Now() const override;
  // Runs `fn` on a pooled connection, inside BEGIN/COMMIT when `transaction`; retries the
  // whole of it on transient failures (see the header comment). `what` prefixes errors.
  Status Run(std::string_view what, bool transaction, const Work& fn);
  Status InTransaction(std::string_view what, const Work& fn) { return Run(what, true, fn); }
  Status Read(std::string_view what, const Work& fn) { return Run(what, false, fn); }

  Result<std::vector<RankedRecord>> GetRecords(const std::string& campaign_id, DataPart part);
  Status ReplaceRecords(pg::Connection& c, const std::string& campaign_id, DataPart part,
                        const std::vector<RankedRecord>& records);
  Status InsertMarketData(pg::Connection& c, const MarketData& m, SysTime now);
  Status InsertOutboxEvent(pg::Connection& c, const StatusChangeEvent& e, SysTime now);
  void EnsureListener();
  void ListenLoop();

  const PostgresStoreOptions options_;
  const Clock* const clock_;
  pg::Pool pool_;

  std::once_flag listener_started_;
  std::atomic<bool> stop_{false};
  std::thread listener_;
};

}  // namespace dripr
