#include "dripr/fetcher/wiring.h"

#include "dripr/bus/aws/aws_bus.h"
#include "dripr/bus/embedded/embedded_bus.h"

namespace dripr {

Result<StorePtr> OpenConfiguredStore(const AppConfig& config, const StoreSetup& setup,
                                     const Clock* clock) {
  StoreOptions o;
  o.database_url = config.database_url;
  o.required_parts = config.required_parts;
  o.clock = clock;
  o.pool_size = config.db_pool_size;
  o.retry_deadline = config.db_retry;
  DRIPR_ASSIGN_OR_RETURN(StorePtr store, OpenStore(o));
  DRIPR_ASSIGN_OR_RETURN(int version, store->SchemaVersion());
  if (version > store->LatestSchemaVersion()) {
    return Fail(ErrorCode::kFailedPrecondition,
                "database schema version " + std::to_string(version) +
                    " is newer than this binary knows (" +
                    std::to_string(store->LatestSchemaVersion()) + "); upgrade dripr");
  }
  if (version < store->LatestSchemaVersion()) {
    if (!setup.migrate) {
      return Fail(ErrorCode::kFailedPrecondition,
                  "database schema is at version " + std::to_string(version) + ", needs " +
                      std::to_string(store->LatestSchemaVersion()) + ": run `dripr migrate`");
    }
    DRIPR_TRY(store->Migrate());
  }
  if (!setup.zip_csv_path.empty()) DRIPR_TRY(store->LoadZipCodes(setup.zip_csv_path));
  return store;
}

Result<BusPtr> OpenConfiguredBus(const AppConfig& config, const Env& env) {
  if (config.bus == BusKind::kAws) return OpenAwsBus(env);
  EmbeddedBusOptions options;
  options.visibility_timeout = config.consumer.visibility_timeout;
  DRIPR_ASSIGN_OR_RETURN(auto bus, EmbeddedBus::Open(config.embedded_bus_path, BusNames{}, options));
  return BusPtr(std::move(bus));
}

}  // namespace dripr
