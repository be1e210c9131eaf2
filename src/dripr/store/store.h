#pragma once
// The Store interface: everything the pipeline keeps in its database (docs/contracts.md §3).
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
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "dripr/core/clock.h"
#include "dripr/core/error.h"
#include "dripr/core/flat_combiner.h"
#include "dripr/core/random.h"
#include "dripr/domain/reconcile.h"
#include "dripr/domain/status.h"
#include "dripr/domain/transitions.h"
#include "dripr/domain/types.h"

namespace dripr {

// One row of the outbox: an event waiting to be published to `topic`.
struct OutboxRow {
  int64_t id = 0;
  std::string topic;  // logical topic name, "campaign-events"
  CampaignId campaign_id;
  std::string event_type;                                       // "STATUS_CHANGE"
  std::string body;                                             // the encoded event
  std::vector<std::pair<std::string, std::string>> attributes;  // event_type, to_status
  SysTime created_at{};
  int attempts = 0;
  // Why the row cannot be published as stored (its attributes or created_at, written by
  // another program, do not parse); empty when it can. The relay sets such a row aside
  // (SetAsideOutbox) instead of failing every claim that reads it.
  std::string unreadable;
  // The claim (ClaimOutbox) that returned the row: ReleaseOutbox frees only rows it still holds.
  std::string claim_token;
};

inline constexpr std::string_view kCampaignEventsTopic = "campaign-events";

struct OutboxBacklog {
  int64_t pending = 0;                    // unpublished rows
  std::optional<SysTime> oldest_created;  // created_at of the oldest one; nullopt when none
};

// One row of `fetchers`: a data-fetcher process that heartbeats while it runs.
struct FetcherInfo {
  std::string instance_id;  // unique per process start
  std::string host;
  int64_t pid = 0;
  std::string version;
  SysTime started_at{};
  SysTime heartbeat_at{};  // set by the store (its clock) on HeartbeatFetcher
};

// A fetcher is alive while its last heartbeat is younger than three intervals.
inline bool FetcherAlive(const FetcherInfo& f, SysTime now, std::chrono::milliseconds interval) {
  return now - f.heartbeat_at < 3 * interval;
}

// Result of a transition attempt that may legitimately do nothing.
struct TransitionOutcome {
  bool changed = false;                    // false: compare-and-set did not apply (see `reason`)
  std::string reason;                      // why nothing changed, for logs and the CLI
  Campaign campaign;                       // the row after the call
  std::optional<StatusChangeEvent> event;  // the event written to the outbox, if any
};

// A named lease (Store::AcquireLease) and the holder giving it up.
struct LeaseRef {
  std::string name;
  std::string holder;
};

// What a handler delivers for one part.
struct PartData {
  DataPart part = DataPart::kActiveListings;
  std::vector<RankedRecord> records;  // active listings or recent sales
  std::optional<MarketData> market;   // local market data (kept per zip, see PutMarketData)
  // Released (as ReleaseLease would) in CompletePart's own transaction, whether or not the
  // transition applies. When CompletePart returns an error the lease may still be held: the
  // caller releases it separately. The market handler's single-flight lease
  // (fetcher/market_flight.h): one commit instead of two.
  std::optional<LeaseRef> release_lease;
};

// What a part handler reads before it calls its provider (Store::LoadForPart).
struct PartInputs {
  Campaign campaign;
  std::optional<PropertyData> property;  // nullopt: a no-address newsletter
  // The centroid of the campaign's zip (zip_codes table); nullopt when the zip is not there.
  std::optional<GeoPoint> zip_centroid;
};

// One part handler's commit among several (Store::CompleteParts): CompletePart(id,
// data_cycle, *data).
struct PartCompletion {
  CampaignId id;
  int64_t data_cycle = 0;
  const PartData* data = nullptr;  // not null
};

// What the market-data handler reads before it decides whether to call its provider
// (Store::LoadForMarket).
struct MarketInputs {
  Campaign campaign;
  // The zip's newest market data created within the reuse window; nullopt when none is.
  std::optional<MarketData> stored;
};

// What Store::MarketDataOrLease found: data within the reuse window, or whether the caller
// now holds the zip's lease (it fetches) or someone else does (it waits).
struct MarketTurn {
  std::optional<MarketData> stored;  // set: reuse it; the lease is not held
  bool held = false;                 // no data: the caller took (or renewed) the lease
};

// The lease (table `leases`) that lets one caller in the cluster fetch `zip`'s market data
// (fetcher/market_flight.h): "market:" + zip.
inline std::string MarketLeaseName(const std::string& zip) { return "market:" + zip; }

// What Store::LoadForMarketOrLease found: the campaign, and the market step's turn for its
// zip (nothing set in `turn` when the lease was not tried or someone else holds it).
struct MarketLoad {
  Campaign campaign;
  MarketTurn turn;
};

// One page of the campaigns table (the ops dashboard): ordered by id, after `after_id`
// (keyset paging; empty: from the start), at most `limit` rows. `search` (optional) matches
// an exact zip code or an id prefix.
struct CampaignPageQuery {
  std::optional<CampaignStatus> status;
  std::string search;
  CampaignId after_id;  // empty: from the first row
  int limit = 50;       // 1..kMaxCampaignPage
};
inline constexpr int kMaxCampaignPage = 500;

// Keys per statement of the batch reads (Store::ExistingCampaigns, Store::ZipCentroids).
inline constexpr size_t kBatchReadChunk = 500;

struct StoreGauges {
  std::map<std::string, int64_t> campaigns_by_status;  // status name -> count (present ones)
  int64_t outbox_backlog = 0;                          // unpublished outbox rows
  std::optional<SysTime> oldest_unpublished;           // created_at of the oldest of them
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
  virtual Result<Campaign> GetCampaign(const CampaignId& id) = 0;
  virtual Result<std::vector<Campaign>> ListCampaigns(std::optional<CampaignStatus> status) = 0;
  // One page by id (indexed: campaigns_by_status_id, campaigns_by_zip_id, the primary key).
  virtual Result<std::vector<Campaign>> ListCampaignsPage(const CampaignPageQuery& q) = 0;
  // nullopt for a no-address newsletter. kNotFound when the campaign is absent.
  virtual Result<std::optional<PropertyData>> GetProperty(const CampaignId& campaign_id) = 0;
  // The campaign row, its property and its zip's centroid in ONE statement (a part handler's
  // reads before its provider call: GetCampaign + GetProperty + ZipCentroid). kNotFound when
  // the campaign is absent. Not a snapshot across calls: the row may change right after.
  virtual Result<PartInputs> LoadForPart(const CampaignId& id) = 0;
  // LoadForPart of each of `ids`, in order, each with its own result: one pooled connection and
  // ONE round trip where the backend pipelines (PostgreSQL), else one call after another. The
  // reads of a batch of messages (PartEventHandler::HandleBatch).
  virtual std::vector<Result<PartInputs>> LoadForParts(std::span<const CampaignId> ids) = 0;
  // Whether LoadForParts and CompleteParts take a batch in fewer round trips and transactions
  // than one call per campaign would: the part handlers then take their messages in batches.
  virtual bool BatchesParts() const = 0;
  // The market-data handler's read: GetCampaign(id) and GetMarketData(campaign's zip, max_age)
  // on ONE connection of the pool (one lease of it, not two back to back). kNotFound when the
  // campaign is absent. Not a snapshot: each read sees what is committed when it runs.
  virtual Result<MarketInputs> LoadForMarket(const CampaignId& id,
                                             std::chrono::seconds max_age) = 0;
  // The market-data handler's reads and its single flight's first step together: LoadForMarket
  // (id, max_age); data found is `turn.stored`. Without data, when the campaign waits for its
  // market data (campaign and local_market_data_status WAITING_FOR_DATA), the step
  // MarketDataOrLease(zip, max_age, {MarketLeaseName(zip), holder}, ttl, read_first=false)
  // takes: the lease, then the data read again (found: the lease given back, the data in
  // `turn.stored`; not found: `turn.held`). A campaign that does not wait takes no lease.
  // One pooled connection, and ONE round trip where the backend pipelines (PostgreSQL); the
  // others run LoadForMarket then MarketDataOrLease. kNotFound when the campaign is absent.
  virtual Result<MarketLoad> LoadForMarketOrLease(const CampaignId& id,
                                                  std::chrono::seconds max_age,
                                                  const std::string& holder,
                                                  std::chrono::seconds ttl) = 0;
  // Which of `ids` exist, ascending, each once (`dripr campaign import`'s pre-check: one
  // statement per kBatchReadChunk distinct ids, not one GetCampaign per row). Duplicates in
  // `ids` are fine; an empty span reads nothing.
  virtual Result<std::vector<CampaignId>> ExistingCampaigns(std::span<const CampaignId> ids) = 0;

  // Transitions (see domain/transitions.h). kNotFound when the campaign is absent; a
  // transition that does not apply is `changed=false` with a reason, not an error.
  virtual Result<TransitionOutcome> StartCampaign(const CampaignId& id) = 0;
  // Replaces the campaign's rows for data.part, part := READY, and the fan-in, in one
  // transaction; nothing is written when the transition does not apply (stale/duplicate),
  // except that data.release_lease is released either way.
  virtual Result<TransitionOutcome> CompletePart(const CampaignId& id, int64_t data_cycle,
                                                 const PartData& data) = 0;
  // CompletePart of each of `parts`, in order, each with its own result as CompletePart would
  // give it: the transitions whose rows are free in ONE transaction (as concurrent callers'
  // would be combined), one whose row another transaction holds after it on its own.
  virtual std::vector<Result<TransitionOutcome>> CompleteParts(
      std::span<const PartCompletion> parts) = 0;
  virtual Result<TransitionOutcome> FailCampaign(const CampaignId& id, std::optional<DataPart> part,
                                                 std::optional<int64_t> data_cycle,
                                                 const std::string& error_text) = 0;
  virtual Result<TransitionOutcome> ResetCampaign(const CampaignId& id) = 0;
  // ERROR → a new data cycle (RetryTransition), its event in the outbox. Implemented once,
  // in StoreBase.
  virtual Result<TransitionOutcome> RetryCampaign(const CampaignId& id) = 0;

  // The campaign's current rows, in rank order.
  virtual Result<std::vector<RankedRecord>> GetActiveListings(const CampaignId& campaign_id) = 0;
  virtual Result<std::vector<RankedRecord>> GetRecentSales(const CampaignId& campaign_id) = 0;

  // Newest market data for a zip, if created within `max_age` of now.
  virtual Result<std::optional<MarketData>> GetMarketData(const std::string& zip,
                                                          std::chrono::seconds max_age) = 0;
  // Newest market data for a zip regardless of age (for display).
  virtual Result<std::optional<MarketData>> LatestMarketData(const std::string& zip) = 0;

  // Centroid of a 5-digit zip (from the zip_codes table); nullopt when unknown.
  virtual Result<std::optional<GeoPoint>> ZipCentroid(const std::string& zip) = 0;
  // Loads zip centroids from a CSV (zip_code,latitude,longitude) when the table is empty.
  virtual Status LoadZipCodes(const std::string& csv_path) = 0;
  // ZipCentroid for many zips: one statement per kBatchReadChunk distinct zips. The map has
  // an entry, keyed by the zip exactly as given, for each zip of `zips` with a centroid; an
  // unknown zip has none. kInvalidArgument ("zip_code: ...") when one is not a zip code.
  virtual Result<std::map<std::string, GeoPoint>> ZipCentroids(
      std::span<const std::string> zips) = 0;

  // Outbox. Claims up to `limit` unpublished rows for `lease` (other claimers skip them
  // until it lapses), oldest first, never a row whose campaign has an older unpublished row
  // claimed by someone else (per-campaign order).
  virtual Result<std::vector<OutboxRow>> ClaimOutbox(int limit, std::chrono::seconds lease) = 0;
  virtual Status MarkPublished(const std::vector<int64_t>& ids) = 0;
  // A publish attempt failed: attempts+1 and the claim released, for the rows of `ids` that
  // the claim `claim_token` (OutboxRow::claim_token) still holds, unpublished. So a release
  // run again (its first commit's reply lost) counts nothing twice, and a row another relay
  // claimed since (the lease lapsed) keeps that claim.
  virtual Status ReleaseOutbox(const std::vector<int64_t>& ids, const std::string& claim_token) = 0;
  // A row that can never be published (unreadable, or refused by the bus as invalid) leaves
  // the outbox unpublished: published_at is set, so that it no longer holds up the rows
  // after it, and failed_reason says why; the row stays for the operator. Nothing for a row
  // already published.
  virtual Status SetAsideOutbox(int64_t id, const std::string& reason) = 0;
  virtual Result<int64_t> PendingOutboxCount() = 0;
  // Campaigns per status and the unpublished outbox (ops metrics; two cheap aggregates).
  virtual Result<StoreGauges> SampleGauges() = 0;
  // What the combining of concurrent transitions did in this process so far (StoreBase;
  // zeros where transitions are not combined, e.g. SQLite's single writer). In memory: cheap.
  virtual CombiningStats transition_combining() const = 0;
  // Unpublished rows and the creation time of the oldest one (`dripr queues`).
  virtual Result<OutboxBacklog> PendingOutbox() = 0;
  // All rows for one campaign, oldest first (CLI and tests).
  virtual Result<std::vector<OutboxRow>> OutboxForCampaign(const CampaignId& campaign_id) = 0;

  // Blocks until another transaction wrote to the outbox (this process: immediately;
  // other processes: as docs/architecture.md "Outbox wake-up" says, per backend), or `timeout`, or
  // `stop` (when given) returns true. Spurious wakeups are allowed. `stop` is read before the wait
  // and on every NotifyOutbox, so a caller that makes it true and then calls NotifyOutbox is never
  // missed (a relay shutting down; the notification alone could come just before the wait starts
  // and be lost).
  virtual void WaitForOutbox(std::chrono::milliseconds timeout,
                             const std::function<bool()>& stop) = 0;
  void WaitForOutbox(std::chrono::milliseconds timeout) { WaitForOutbox(timeout, {}); }
  // Makes every WaitForOutbox caller in this process return now.
  virtual void NotifyOutbox() = 0;

  // Non-null: the connection the store's writes commit through (SQLite: the process's one
  // writer for the file, sqlite/writer.h). A bus Topic with the same key writes the same
  // database through the same connection (Topic::TransactionKey): its publishes can join a
  // store transaction (InOneTransaction). Null (the networked stores): never.
  virtual const void* TransactionKey() const { return nullptr; }
  // Runs `fn` with every write this thread makes through TransactionKey()'s connection inside
  // it (the store's own calls and a same-key topic's publishes) joined into ONE transaction:
  // each such call is a savepoint (its failure undoes only its own writes and is its own
  // result), and all of them commit together when `fn` succeeds, or none. `what` prefixes a
  // BEGIN/COMMIT error. Without a key: runs `fn` as it is (each call its own transaction).
  virtual Status InOneTransaction(std::string_view what, const std::function<Status()>& fn) {
    (void)what;
    return fn();
  }

  // ---- Reconciler (fetcher/reconciler.h). StoreBase implements ReconcileCampaign; a backend
  // implements the other three. ----

  // Campaigns the reconciler may act on, oldest first, at most `limit` of each kind:
  //  - WAITING_FOR_DATA whose parts_changed_at (NULL: status_changed_at) and updated_at are
  //    both <= `unmoved_before`, and that have no unpublished outbox row (an event still
  //    waiting for the relay is not lost: republishing would only queue a copy behind it);
  //  - when `errored_before` is set: ERROR with status_changed_at <= it and restart_count <
  //    `max_restarts`.
  virtual Result<std::vector<Campaign>> FindReconcileCandidates(
      SysTime unmoved_before, std::optional<SysTime> errored_before, int max_restarts,
      int limit) = 0;

  // Applies `action` to campaign `id` in one transaction that decides again on the locked row
  // (domain/reconcile.h ReconcileTransition); a decision that no longer holds is
  // `changed=false` with the reason. A republish writes the cycle's original event again
  // (found in the outbox) or a new one. kNotFound when the campaign is absent.
  virtual Result<TransitionOutcome> ReconcileCampaign(const CampaignId& id, ReconcileAction action,
                                                      const ReconcileSettings& settings) = 0;

  // Named, time-limited leases (table `leases`): takes lease `name` for `holder` until now +
  // `ttl` when it is free, expired or already held by `holder` (a renewal); true when
  // `holder` holds it afterwards, false when someone else does. Uses the store's clock, so
  // the instances sharing a lease need clocks closer than its ttl.
  virtual Result<bool> AcquireLease(const std::string& name, const std::string& holder,
                                    std::chrono::seconds ttl) = 0;
  // The market single flight's step (fetcher/market_flight.h) on ONE connection of the pool:
  // when `read_first`, GetMarketData(zip, max_age), and data found is returned as it is;
  // otherwise AcquireLease(lease.name, lease.holder, ttl); when that is held, the data is read
  // again (a previous holder may have committed it after the first read): found, the lease is
  // released (best effort; an unreleased lease expires after `ttl`) and the data returned;
  // not found, `held` is true. Not held: neither is set. Errors as those calls return them
  // (after a failed re-read the lease is released, best effort).
  virtual Result<MarketTurn> MarketDataOrLease(const std::string& zip, std::chrono::seconds max_age,
                                               const LeaseRef& lease, std::chrono::seconds ttl,
                                               bool read_first) = 0;
  // Gives the lease up when `holder` has it (no-op otherwise), so another instance can take
  // it at once instead of after the ttl.
  virtual Status ReleaseLease(const std::string& name, const std::string& holder) = 0;
  // Running data-fetchers (table `fetchers`, one row per process; see fetcher/heartbeat.h).
  // Registers `f` or refreshes its row: insert, or update heartbeat_at to now (started_at,
  // host, pid and version are rewritten from `f`). Registration and heartbeat are one upsert
  // so that a fetcher whose row was removed reappears with its next beat.
  virtual Status HeartbeatFetcher(const FetcherInfo& f) = 0;
  // Removes the row (a clean stop). Absent is not an error.
  virtual Status UnregisterFetcher(const std::string& instance_id) = 0;
  // Every row, newest heartbeat first; liveness is the caller's rule (FetcherAlive).
  virtual Result<std::vector<FetcherInfo>> ListFetchers() = 0;

  // ---- Cluster-wide provider budget (table `provider_budget`, docs/decisions/cluster.md). ----

  // Reserves the next request slot of budget `name`, shared by every instance on this
  // database (GCRA): the slot is max(now, the budget's next free slot) and the next free slot
  // becomes slot + `spacing`. Returns how long the caller must wait for its slot (zero: send
  // now), or nullopt, reserving nothing, when that wait would exceed `max_wait`. One
  // transaction on the budget's row (created on first use), so concurrent callers in any
  // process get slots at least `spacing` apart. Uses the store's clock.
  virtual Result<std::optional<std::chrono::microseconds>> ReserveBudgetSlot(
      const std::string& name, std::chrono::microseconds spacing,
      std::chrono::microseconds max_wait) = 0;
  // No slot of budget `name` starts before now + `pause` (a server's Retry-After pauses every
  // instance). Never shortens a pause already in place.
  virtual Status PauseBudget(const std::string& name, std::chrono::microseconds pause) = 0;
};

using StorePtr = std::unique_ptr<Store>;

struct StoreOptions {
  // sqlite:PATH | postgresql://... | mysql://... (or mariadb://...)
  std::string database_url = "sqlite:dripr.db";
  RequiredParts required_parts;
  const Clock* clock = nullptr;  // nullptr: system clock
  // Times retry deadlines, pool and outbox waits; nullptr: the real one. Must outlive the store.
  Ticker* ticker = nullptr;
  // Jitters the PostgreSQL/MySQL retry backoff; nullptr: the real one. Must outlive the store.
  Random* random = nullptr;
  int pool_size = 8;  // PostgreSQL/MySQL: connections per process (DRIPR_DB_POOL_SIZE)
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

// The pool size (StoreOptions::pool_size) when DRIPR_DB_POOL_SIZE is not set: for PostgreSQL
// on this machine (every host of the URL a Unix socket, localhost, 127.0.0.0/8 or ::1) one more
// than the cores, at least 2 and at most 8, since the server's backends share the cores and
// more of them only take turns; otherwise 8, so that a remote server gets more round trips at
// once (docs/decisions/postgres.md, "The pool's default size").
int DefaultPoolSize(const std::string& database_url, unsigned cores);

// Chooses the backend from options.database_url. kInvalidArgument for an unknown scheme;
// kUnavailable when the database cannot be opened.
Result<StorePtr> OpenStore(const StoreOptions& options);

}  // namespace dripr
