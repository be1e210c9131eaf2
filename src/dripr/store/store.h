#pragma once
// The Store interface: everything the pipeline keeps in its database (DESIGN §3).
// Backends: SqliteStore (store/sqlite/), PostgresStore (store/postgres/), MysqlStore
// (store/mysql/, MySQL 8 and MariaDB >= 10.6), chosen by
// OpenStore() from DATABASE_URL. Every backend passes tests/support/store_contract.h.
//
// Thread-safety: every method may be called from any thread concurrently; several
// processes may share one database. Every state transition is one transaction that
// writes the campaign row (compare-and-set on the status and data_cycle it read) and its
// STATUS_CHANGE event into the outbox.

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "dripr/core/clock.h"
#include "dripr/core/error.h"
#include "dripr/domain/status.h"
#include "dripr/domain/transitions.h"
#include "dripr/domain/types.h"

namespace dripr {

// One row of the outbox: an event waiting to be published to `topic`.
struct OutboxRow {
  int64_t id = 0;
  std::string topic;       // logical topic name, "campaign-events"
  std::string campaign_id;
  std::string event_type;  // "STATUS_CHANGE"
  std::string body;        // the encoded event
  std::vector<std::pair<std::string, std::string>> attributes;  // event_type, to_status
  SysTime created_at{};
  int attempts = 0;
};

inline constexpr std::string_view kCampaignEventsTopic = "campaign-events";

// Result of a transition attempt that may legitimately do nothing.
struct TransitionOutcome {
  bool changed = false;      // false: compare-and-set did not apply (see `reason`)
  std::string reason;        // why nothing changed, for logs and the CLI
  Campaign campaign;         // the row after the call
  std::optional<StatusChangeEvent> event;  // the event written to the outbox, if any
};

// What a handler delivers for one part.
struct PartData {
  DataPart part = DataPart::kActiveListings;
  std::vector<RankedRecord> records;       // active listings or recent sales
  std::optional<MarketData> market;        // local market data (kept per zip, see PutMarketData)
};

class Store {
 public:
  virtual ~Store() = default;

  // Applies pending migrations (idempotent). kFailedPrecondition when the database has a
  // schema newer than this binary knows.
  virtual Status Migrate() = 0;
  // Highest migration applied (0 for an empty database).
  virtual Result<int> SchemaVersion() = 0;
  // Highest migration this binary knows.
  virtual int LatestSchemaVersion() const = 0;

  // kAlreadyExists when the id is taken; kInvalidArgument for a bad zip.
  virtual Result<Campaign> CreateCampaign(const NewCampaign& c) = 0;
  // Bulk creation (`dripr campaign import`): every campaign of `campaigns` in ONE transaction,
  // all or none. Each is validated as CreateCampaign validates (kInvalidArgument naming the
  // id); kAlreadyExists names the first id that is taken. With `start`, each campaign is also
  // started in the same transaction exactly as StartCampaign would (DORMANT ->
  // WAITING_FOR_DATA, one STATUS_CHANGE row each in the outbox). Returns the rows as stored,
  // in input order. Callers keep batches to a few hundred rows: the transaction holds the
  // database's write lock.
  virtual Result<std::vector<Campaign>> CreateCampaigns(std::span<const NewCampaign> campaigns,
                                                        bool start) = 0;
  // kNotFound when absent.
  virtual Result<Campaign> GetCampaign(const std::string& id) = 0;
  virtual Result<std::vector<Campaign>> ListCampaigns(std::optional<CampaignStatus> status) = 0;
  // nullopt for a no-address newsletter. kNotFound when the campaign is absent.
  virtual Result<std::optional<PropertyData>> GetProperty(const std::string& campaign_id) = 0;

  // Transitions (see domain/transitions.h). kNotFound when the campaign is absent; a
  // transition that does not apply is `changed=false` with a reason, not an error.
  virtual Result<TransitionOutcome> StartCampaign(const std::string& id) = 0;
  // Replaces the campaign's rows for data.part, part := READY, and the fan-in, in one
  // transaction; nothing is written when the transition does not apply (stale/duplicate).
  virtual Result<TransitionOutcome> CompletePart(const std::string& id, int64_t data_cycle,
                                                 const PartData& data) = 0;
  virtual Result<TransitionOutcome> FailCampaign(const std::string& id,
                                                 std::optional<DataPart> part,
                                                 std::optional<int64_t> data_cycle,
                                                 const std::string& error_text) = 0;
  virtual Result<TransitionOutcome> ResetCampaign(const std::string& id) = 0;

  // The campaign's current rows, in rank order.
  virtual Result<std::vector<RankedRecord>> GetActiveListings(const std::string& campaign_id) = 0;
  virtual Result<std::vector<RankedRecord>> GetRecentSales(const std::string& campaign_id) = 0;

  // Newest market data for a zip, if created within `max_age` of now.
  virtual Result<std::optional<MarketData>> GetMarketData(const std::string& zip,
                                                          std::chrono::seconds max_age) = 0;
  // Newest market data for a zip regardless of age (for display).
  virtual Result<std::optional<MarketData>> LatestMarketData(const std::string& zip) = 0;

  // Centroid of a 5-digit zip (from the zip_codes table); nullopt when unknown.
  virtual Result<std::optional<GeoPoint>> ZipCentroid(const std::string& zip) = 0;
  // Loads zip centroids from a CSV (zip_code,latitude,longitude) when the table is empty.
  virtual Status LoadZipCodes(const std::string& csv_path) = 0;

  // Outbox. Claims up to `limit` unpublished rows for `lease` (other claimers skip them
  // until it lapses), oldest first, never a row whose campaign has an older unpublished row
  // claimed by someone else (per-campaign order).
  virtual Result<std::vector<OutboxRow>> ClaimOutbox(int limit, std::chrono::seconds lease) = 0;
  virtual Status MarkPublished(const std::vector<int64_t>& ids) = 0;
  // A publish attempt failed: attempts+1 and the claim released.
  virtual Status ReleaseOutbox(const std::vector<int64_t>& ids) = 0;
  virtual Result<int64_t> PendingOutboxCount() = 0;
  // All rows for one campaign, oldest first (CLI and tests).
  virtual Result<std::vector<OutboxRow>> OutboxForCampaign(const std::string& campaign_id) = 0;

  // Blocks until another transaction wrote to the outbox (this process: immediately;
  // other processes: within ~100 ms), or `timeout`. Spurious wakeups are allowed.
  virtual void WaitForOutbox(std::chrono::milliseconds timeout) = 0;
  // Makes every WaitForOutbox caller in this process return now (a relay shutting down).
  virtual void NotifyOutbox() = 0;
};

using StorePtr = std::unique_ptr<Store>;

struct StoreOptions {
  // sqlite:PATH | postgresql://... | mysql://... (or mariadb://...)
  std::string database_url = "sqlite:dripr.db";
  RequiredParts required_parts;
  const Clock* clock = nullptr;  // nullptr: system clock
  int pool_size = 8;             // PostgreSQL/MySQL: connections per process (DRIPR_DB_POOL_SIZE)
  // PostgreSQL/MySQL: how long a call keeps retrying a lost connection, a serialization failure or
  // a deadlock before it returns the error (DRIPR_DB_RETRY_SECONDS).
  std::chrono::milliseconds retry_deadline{15'000};
  // Open modes (SQLite; PostgreSQL databases are never created by opening them).
  // create=false: a missing database file is an error, nothing is created (read-only
  // commands). quick_check: PRAGMA quick_check at open, a damaged file is kDataLoss (commands
  // that write, so a partly corrupted file does not keep accepting writes).
  bool create = true;
  bool quick_check = false;
};

// Chooses the backend from options.database_url. kInvalidArgument for an unknown scheme;
// kUnavailable when the database cannot be opened.
Result<StorePtr> OpenStore(const StoreOptions& options);

}  // namespace dripr
