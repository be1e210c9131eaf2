#pragma once
// The one place that turns configuration into backends (one factory per interface; nothing
// else knows which backend is in use).

#include <string>
#include <utility>
#include <vector>

#include "dripr/bus/bus.h"
#include "dripr/fetcher/config.h"
#include "dripr/providers/provider.h"
#include "dripr/sqlite/db.h"
#include "dripr/store/store.h"

namespace dripr {

struct StoreSetup {
  // Apply pending migrations (and load zip centroids) instead of refusing an old schema.
  bool migrate = true;
  std::string zip_csv_path;  // data/zip_codes.csv; empty: do not load
  // A command that only reads: an SQLite file must exist (nothing is created, migrated or
  // loaded; `migrate` and `zip_csv_path` are ignored).
  bool read_only = false;
  // SQLite: PRAGMA quick_check at open; a damaged file is kDataLoss (long-running writers:
  // it reads the whole file, ~5 s per GB, so one-shot commands skip it).
  bool quick_check = false;
};

// The configuration checks of an SQLite DATABASE_URL (see sqlite::CheckDatabaseFile): a
// directory, a non-database file, a missing directory, a read-only file for a writing
// command, a missing file for a reading one are kInvalidArgument (exit 2). PostgreSQL: Ok.
Status CheckDatabaseLocation(const AppConfig& config, bool read_only);

// Opens the store of config.database_url and checks its schema: an older schema is migrated
// when setup.migrate (else kFailedPrecondition "run dripr migrate"); a newer one is refused.
// `clock`, `ticker` and `random` (null: the real ones; random jitters the networked
// stores' retries) must outlive the store.
Result<StorePtr> OpenConfiguredStore(const AppConfig& config, const StoreSetup& setup,
                                     const Clock* clock = nullptr, Ticker* ticker = nullptr,
                                     Random* random = nullptr);

// EVENT_BUS=embedded: the bus tables in config.embedded_bus_path; aws: SNS/SQS from
// config.aws. read_only (embedded): the file must exist and nothing is created or declared
// in it; a missing layout is kFailedPrecondition saying what creates it. `ticker` (null: the
// real one) times the embedded bus's receive waits and the SQS/SNS clients' retries, whose
// jitter `random` (null: the real one) draws; both must outlive the bus.
Result<BusPtr> OpenConfiguredBus(const AppConfig& config, bool read_only = false,
                                 Ticker* ticker = nullptr, Random* random = nullptr);

// "sqlite:/absolute/path" or "postgresql://host:port/db" (never credentials), for logs.
std::string DescribeDatabase(const AppConfig& config);

// Remembers which files the SQLite database (and the embedded bus, if it is SQLite) are now,
// and tells when a path stops naming that file: removed or replaced under a running process,
// whose writes would then be lost with the unlinked file. Empty for PostgreSQL + SQS.
class DatabaseFileWatch {
 public:
  static DatabaseFileWatch For(const AppConfig& config);
  // kUnavailable naming the file that was removed or replaced.
  Status Check() const;

 private:
  std::vector<std::pair<std::string, sqlite::FileId>> files_;
};

// What a data fetcher checks before it consumes. EVENT_BUS=aws: every work queue's
// RedrivePolicy must allow more receives than DRIPR_MAX_ATTEMPTS (else kInvalidArgument, one
// line naming the queue: exit 2). When SQS cannot answer (unreachable, a queue missing) it
// logs a warning and passes: the fetcher then retries as it does for a broker that is down.
// `ticker` and `random` (null: the real ones) time the SQS client's retries.
Status CheckBusForFetcher(const AppConfig& config, Ticker* ticker = nullptr,
                          Random* random = nullptr);

}  // namespace dripr
