#pragma once
// SqliteStore: the Store (store/store.h) over one SQLite file in WAL mode.
//
// Concurrency: any number of threads (connections come from a pool, one per concurrent
// call) and any number of processes on the same file. Every write is one BEGIN IMMEDIATE
// transaction: the write lock is taken up front and a busy database is waited for (busy
// timeout, default 10 s) instead of failing on a lock upgrade. Within a process, writers
// also queue on a mutex so they do not spin in SQLite's busy handler against each other.
// A database still locked after the busy timeout is kUnavailable (retry later).
//
// Outbox notification: commits that add outbox rows wake WaitForOutbox callers in this
// process immediately; rows written by other processes are noticed by polling max(outbox.id)
// every `outbox_poll_interval`.

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>

#include "dripr/store/sqlite/sqlite_db.h"
#include "dripr/store/store.h"

namespace dripr {

struct SqliteStoreOptions {
  std::string path;  // database file; created when missing
  RequiredParts required_parts;
  const Clock* clock = nullptr;  // nullptr: SystemClock::Instance()
  std::chrono::milliseconds busy_timeout{10'000};
  std::chrono::milliseconds outbox_poll_interval{50};
};

class SqliteStore final : public Store {
 public:
  // Opens the file (creating it) and checks it is usable; does not migrate.
  // kInvalidArgument for an empty path or ":memory:" (each pooled connection would see its own
  // database); kUnavailable when the file cannot be opened.
  static Result<std::unique_ptr<SqliteStore>> Open(SqliteStoreOptions options);

  Status Migrate() override;
  Result<int> SchemaVersion() override;
  int LatestSchemaVersion() const override;

  Result<Campaign> CreateCampaign(const NewCampaign& c) override;
  Result<Campaign> GetCampaign(const std::string& id) override;
  Result<std::vector<Campaign>> ListCampaigns(std::optional<CampaignStatus> status) override;
  Result<std::optional<PropertyData>> GetProperty(const std::string& campaign_id) override;

  Result<TransitionOutcome> StartCampaign(const std::string& id) override;
  Result<TransitionOutcome> CompletePart(const std::string& id, int64_t data_cycle,
                                         const PartData& data) override;
  Result<TransitionOutcome> FailCampaign(const std::string& id, std::optional<DataPart> part,
                                         std::optional<int64_t> data_cycle,
                                         const std::string& error_text) override;
  Result<TransitionOutcome> ResetCampaign(const std::string& id) override;

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
  Result<std::vector<OutboxRow>> OutboxForCampaign(const std::string& campaign_id) override;
  // Rows inserted since the last ClaimOutbox of this store (by anyone) make it return at once,
  // so a relay that claims, finds nothing and then waits cannot miss a row in between.
  void WaitForOutbox(std::chrono::milliseconds timeout) override;
  void NotifyOutbox() override;

 private:
  // Computes the next state from the current row; kFailedPrecondition = does not apply.
  using TransitionFn =
      std::function<Result<TransitionResult>(const Campaign&, SysTime now, std::string event_id)>;
  // Extra writes in the transaction once the transition applies (e.g. a part's rows).
  using ExtraWrites = std::function<Status(sqlite::Connection&, const Campaign& next, SysTime now)>;

  SqliteStore(SqliteStoreOptions options, const Clock* clock)
      : options_(std::move(options)), clock_(clock), pool_(options_.path, options_.busy_timeout) {}

  SysTime Now() const;
  // Runs `fn` inside one write transaction (in-process writers serialized by write_mu_);
  // commits when it succeeds, rolls back otherwise. `what` prefixes error messages.
  Status InWriteTransaction(std::string_view what,
                            const std::function<Status(sqlite::Connection&)>& fn);
  Result<TransitionOutcome> RunTransition(const std::string& id, const TransitionFn& fn,
                                          const ExtraWrites& extra);
  Status ReplaceRecords(sqlite::Connection& c, const std::string& campaign_id, DataPart part,
                        const std::vector<RankedRecord>& records);
  Status InsertMarketData(sqlite::Connection& c, const MarketData& m, SysTime now);
  Status InsertOutboxEvent(sqlite::Connection& c, const StatusChangeEvent& e, SysTime now);
  Result<int64_t> MaxOutboxId();

  // Constant after construction.
  const SqliteStoreOptions options_;
  const Clock* const clock_;
  sqlite::ConnectionPool pool_;

  std::mutex write_mu_;  // held for the duration of every write transaction

  std::mutex notify_mu_;
  std::condition_variable notify_cv_;
  uint64_t outbox_generation_ = 0;  // guarded by notify_mu_; bumped after outbox commits
  // max(outbox.id) seen by the last ClaimOutbox; -1 before the first claim.
  std::atomic<int64_t> claimed_max_id_{-1};
};

}  // namespace dripr
