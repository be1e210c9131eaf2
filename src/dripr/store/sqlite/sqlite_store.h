#pragma once
// SqliteStore: the Store (store/store.h) over one SQLite file in WAL mode.
//
// Concurrency: any number of threads and any number of processes on the same file. Reads use
// pooled WAL connections, one per concurrent call. Every write is one BEGIN IMMEDIATE
// transaction on the process's one writer connection for the file (sqlite/writer.h, shared
// with the embedded bus on the same file): writers in one process queue on its mutex and
// never sleep in SQLite's busy handler against each other; another process's write lock is
// waited for (busy timeout, default 10 s). A database still locked after the busy timeout is
// kUnavailable (retry later).
//
// Outbox notification: commits that add outbox rows wake WaitForOutbox callers in this
// process immediately (NotifyOutbox), through whichever SqliteStore on the file they were
// made (the file's OutboxHub, sqlite_outbox_hub.h: the stores share the writer, so the change
// watcher counts their commits as this process's own); rows written by other processes within
// a millisecond or two (the change watcher, sqlite/change_watcher.h, started by the first
// wait), and otherwise by re-reading max(outbox.id) every `outbox_poll_interval` as a fallback.

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>

#include "dripr/sqlite/change_watcher.h"
#include "dripr/sqlite/db.h"
#include "dripr/sqlite/writer.h"
#include "dripr/store/sqlite/sqlite_outbox_hub.h"
#include "dripr/store/store_base.h"

namespace dripr {

struct SqliteStoreOptions {
  std::string path;          // database file; created when missing unless !create
  bool create = true;        // false: a missing file is an error (read-only commands)
  bool quick_check = false;  // run PRAGMA quick_check at open; corrupt: kDataLoss
  RequiredParts required_parts;
  const Clock* clock = nullptr;  // nullptr: SystemClock::Instance()
  Ticker* ticker = nullptr;      // WaitForOutbox; nullptr: the real one
  std::chrono::milliseconds busy_timeout{10'000};
  std::chrono::milliseconds outbox_poll_interval{500};
};

class SqliteStore final : public StoreBase {
 public:
  // Opens the file (creating it unless !options.create) and checks it is usable (and intact,
  // with options.quick_check); does not migrate.
  // kInvalidArgument for an empty path or ":memory:" (each pooled connection would see its own
  // database); kUnavailable when the file cannot be opened.
  static Result<std::unique_ptr<SqliteStore>> Open(SqliteStoreOptions options);
  ~SqliteStore() override;  // leaves the file's OutboxHub first

  Status Migrate() override;
  Result<int> SchemaVersion() override;
  int LatestSchemaVersion() const override;

  Result<Campaign> GetCampaign(const CampaignId& id) override;
  Result<std::vector<Campaign>> ListCampaigns(std::optional<CampaignStatus> status) override;
  Result<std::vector<Campaign>> ListCampaignsPage(const CampaignPageQuery& q) override;
  Result<std::optional<PropertyData>> GetProperty(const CampaignId& campaign_id) override;
  Result<PartInputs> LoadForPart(const CampaignId& id) override;

  Result<std::vector<RankedRecord>> GetActiveListings(const CampaignId& campaign_id) override;
  Result<std::vector<RankedRecord>> GetRecentSales(const CampaignId& campaign_id) override;

  Result<std::optional<MarketData>> GetMarketData(const std::string& zip,
                                                  std::chrono::seconds max_age) override;
  Result<std::optional<MarketData>> LatestMarketData(const std::string& zip) override;

  Result<std::optional<GeoPoint>> ZipCentroid(const std::string& zip) override;
  Status LoadZipCodes(const std::string& csv_path) override;

  Result<std::vector<OutboxRow>> ClaimOutbox(int limit, std::chrono::seconds lease) override;
  Status MarkPublished(const std::vector<int64_t>& ids) override;
  // Wakes this store's waiters and makes the other stores on the file re-check (OutboxHub).
  void NotifyOutbox() override;
  Status ReleaseOutbox(const std::vector<int64_t>& ids, const std::string& claim_token) override;
  Status SetAsideOutbox(int64_t id, const std::string& reason) override;
  Result<int64_t> PendingOutboxCount() override;
  Result<StoreGauges> SampleGauges() override;
  Result<std::vector<OutboxRow>> OutboxForCampaign(const CampaignId& campaign_id) override;
  // The process's writer for the file; InOneTransaction is one writer transaction in which
  // the thread's other calls through the writer are savepoints (sqlite::Writer).
  const void* TransactionKey() const override { return writer_.get(); }
  Status InOneTransaction(std::string_view what, const std::function<Status()>& fn) override {
    return writer_->InWriteTransaction(what, [&](sqlite::Connection&) { return fn(); });
  }

  // sqlite_reconciler.cc
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
  class Tx;  // TransitionTx over one connection (sqlite_store.cc)

  Status SelectExistingIds(std::span<const std::string> ids,
                           std::vector<CampaignId>& out) override;  // sqlite_store_data.cc
  Status SelectZipCentroids(std::span<const std::string> zips,
                            std::map<std::string, GeoPoint>& out) override;
  Status InTransitionTransaction(std::string_view what, const TransitionBody& body) override;
  Result<int64_t> MaxOutboxId() override;
  void BeforeOutboxWait() override;
  void JoinOutboxHub();  // sqlite_outbox.cc; by Open, once the writer is set

  SqliteStore(SqliteStoreOptions options, const Clock* clock)
      : StoreBase(options.required_parts, options.outbox_poll_interval, options.ticker),
        options_(std::move(options)),
        clock_(clock),
        pool_(options_.path, sqlite::ConnectionOptions{.busy_timeout = options_.busy_timeout,
                                                       .create = options_.create,
                                                       .foreign_keys = true}) {}

  SysTime Now() const override;
  Status UpdateBudget(std::string_view what, const std::string& name,
                      const BudgetDecision& decide) override;  // sqlite_budget.cc
  // Runs `fn` inside one write transaction on writer_;
  // commits when it succeeds, rolls back otherwise. `what` prefixes error messages.
  Status InWriteTransaction(std::string_view what,
                            const std::function<Status(sqlite::Connection&)>& fn,
                            sqlite::Writer::Carry carry = sqlite::Writer::Carry::kNo);
  Result<std::vector<RankedRecord>> GetRecords(const CampaignId& campaign_id, DataPart part);
  Status ReplaceRecords(sqlite::Connection& c, const CampaignId& campaign_id, DataPart part,
                        const std::vector<RankedRecord>& records);
  Status InsertMarketData(sqlite::Connection& c, const MarketData& m, SysTime now);
  Status InsertOutboxEvent(sqlite::Connection& c, const StatusChangeEvent& e, SysTime now);
  // ReleaseLease's statement, inside the caller's transaction (sqlite_reconciler.cc).
  static Status DeleteLease(sqlite::Connection& c, const std::string& name,
                            const std::string& holder);

  // Constant after construction.
  const SqliteStoreOptions options_;
  const Clock* const clock_;
  sqlite::ConnectionPool pool_;
  std::shared_ptr<sqlite::Writer> writer_;  // set by Open
  // Other connections' commits (not this process's own) re-check the outbox; last, so it is
  // removed first.
  sqlite::OthersCommitsSubscription others_commits_;
  // The SqliteStores on the file in this process (JoinOutboxHub; left by the destructor).
  std::shared_ptr<sqlite_store::OutboxHub> outbox_hub_;
};

}  // namespace dripr
