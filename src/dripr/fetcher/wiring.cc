#include "dripr/fetcher/wiring.h"

#include "dripr/bus/aws/aws_bus.h"
#include "dripr/bus/embedded/embedded_bus.h"
#include "dripr/core/log.h"

namespace dripr {

Status CheckDatabaseLocation(const AppConfig& config, bool read_only) {
  auto path = SqlitePath(config.database_url);
  if (!path) return Ok();
  return sqlite::CheckDatabaseFile(
      *path, read_only ? sqlite::Access::kExistingOnly : sqlite::Access::kCreate, "DATABASE_URL");
}

Result<StorePtr> OpenConfiguredStore(const AppConfig& config, const StoreSetup& setup,
                                     const Clock* clock, Ticker* ticker, Random* random) {
  DRIPR_TRY(CheckDatabaseLocation(config, setup.read_only));
  StoreOptions o;
  o.database_url = config.database_url;
  o.required_parts = config.required_parts;
  o.clock = clock;
  o.ticker = ticker;
  o.random = random;
  o.pool_size = config.db_pool_size;
  o.retry_deadline = config.db_retry;
  o.create = !setup.read_only;
  o.quick_check = setup.quick_check && !setup.read_only;
  DRIPR_ASSIGN_OR_RETURN(StorePtr store, OpenStore(o));
  DRIPR_ASSIGN_OR_RETURN(int version, store->SchemaVersion());
  if (version > store->LatestSchemaVersion()) {
    return Fail(ErrorCode::kFailedPrecondition,
                "database schema version " + std::to_string(version) +
                    " is newer than this binary knows (" +
                    std::to_string(store->LatestSchemaVersion()) + "); upgrade dripr");
  }
  if (version < store->LatestSchemaVersion()) {
    if (!setup.migrate || setup.read_only) {
      return Fail(ErrorCode::kFailedPrecondition,
                  "database schema is at version " + std::to_string(version) + ", needs " +
                      std::to_string(store->LatestSchemaVersion()) + ": run `dripr migrate`");
    }
    DRIPR_TRY(store->Migrate());
  }
  if (!setup.read_only && !setup.zip_csv_path.empty()) {
    DRIPR_TRY(store->LoadZipCodes(setup.zip_csv_path));
  }
  return store;
}

Result<BusPtr> OpenConfiguredBus(const AppConfig& config, bool read_only, Ticker* ticker,
                                 Random* random) {
  if (config.bus == BusKind::kAws) return OpenAwsBus(config.aws, ticker, random);
  DRIPR_TRY(sqlite::CheckDatabaseFile(
      config.embedded_bus_path, read_only ? sqlite::Access::kExistingOnly : sqlite::Access::kCreate,
      "embedded bus (EMBEDDED_BUS_PATH)"));
  EmbeddedBusOptions options;
  options.visibility_timeout = config.consumer.visibility_timeout;
  // The broker's redrive is a backstop: the engine gives up on a message first, so that the
  // DLQ copy carries its reason and the campaign goes to ERROR (as CheckAwsRedrive demands
  // of SQS queues).
  options.max_receive_count = std::max(options.max_receive_count, config.consumer.max_attempts + 1);
  options.broker.create = !read_only;
  options.broker.ticker = ticker;
  options.declare = !read_only;
  auto bus = EmbeddedBus::Open(config.embedded_bus_path, BusNames{}, options);
  if (!bus) {
    if (read_only && bus.error().code == ErrorCode::kNotFound) {
      return Fail(ErrorCode::kFailedPrecondition,
                  "the embedded bus in " + sqlite::AbsolutePath(config.embedded_bus_path) +
                      " is not set up yet (" + bus.error().message +
                      "); `dripr migrate` or `dripr data-fetcher` creates it");
    }
    return Fail(bus.error());
  }
  return BusPtr(std::move(*bus));
}

std::string DescribeDatabase(const AppConfig& config) {
  if (auto path = SqlitePath(config.database_url)) return "sqlite:" + sqlite::AbsolutePath(*path);
  const std::string& url = config.database_url;
  auto scheme_end = url.find("://");
  if (scheme_end == std::string::npos) return "(unrecognised DATABASE_URL)";
  std::string rest = url.substr(scheme_end + 3);
  if (auto at = rest.rfind('@'); at != std::string::npos) rest = rest.substr(at + 1);
  if (auto q = rest.find('?'); q != std::string::npos) rest.resize(q);
  return url.substr(0, scheme_end) + "://" + rest;
}

DatabaseFileWatch DatabaseFileWatch::For(const AppConfig& config) {
  DatabaseFileWatch w;
  auto add = [&w](const std::string& raw) {
    std::string path = sqlite::AbsolutePath(raw);
    for (const auto& [p, id] : w.files_) {
      if (p == path) return;
    }
    if (auto id = sqlite::StatFileId(path)) w.files_.emplace_back(path, *id);
  };
  if (auto path = SqlitePath(config.database_url)) add(*path);
  if (config.bus == BusKind::kEmbedded) add(config.embedded_bus_path);
  return w;
}

Status DatabaseFileWatch::Check() const {
  for (const auto& [path, id] : files_) DRIPR_TRY(sqlite::CheckSameFile(path, id));
  return Ok();
}

Status CheckBusForFetcher(const AppConfig& config, Ticker* ticker, Random* random) {
  if (config.bus != BusKind::kAws) return Ok();
  auto checked = CheckAwsRedrive(config.aws, config.consumer.max_attempts, ticker, random);
  if (checked || checked.error().code == ErrorCode::kInvalidArgument) return checked;
  DRIPR_LOG_WARN("start-up check of the queues' RedrivePolicy skipped: {}",
                 checked.error().ToString());
  return Ok();
}

}  // namespace dripr
