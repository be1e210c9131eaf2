#pragma once
// The one place that turns configuration into backends (STYLE.md: one factory per
// interface; nothing else knows which backend is in use).

#include <string>

#include "dripr/bus/bus.h"
#include "dripr/core/env.h"
#include "dripr/fetcher/config.h"
#include "dripr/providers/provider.h"
#include "dripr/store/store.h"

namespace dripr {

struct StoreSetup {
  // Apply pending migrations (and load zip centroids) instead of refusing an old schema.
  bool migrate = true;
  std::string zip_csv_path;  // data/zip_codes.csv; empty: do not load
};

// Opens the store of config.database_url and checks its schema: an older schema is migrated
// when setup.migrate (else kFailedPrecondition "run dripr migrate"); a newer one is refused.
Result<StorePtr> OpenConfiguredStore(const AppConfig& config, const StoreSetup& setup,
                                     const Clock* clock = nullptr);

// EVENT_BUS=embedded: the bus tables in config.embedded_bus_path; aws: SNS/SQS from env.
Result<BusPtr> OpenConfiguredBus(const AppConfig& config, const Env& env);

}  // namespace dripr
