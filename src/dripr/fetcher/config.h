#pragma once
// The process configuration: every variable dripr reads is parsed here, once, into the settings
// structs main hands to the components (docs/decisions/settings.md). No component reads the
// environment itself. Every value has a default that works on a single machine with no set-up,
// written once, in LoadConfig.

#include <string>
#include <vector>

#include "dripr/bus/aws/aws_settings.h"
#include "dripr/core/env.h"
#include "dripr/core/error.h"
#include "dripr/core/log.h"
#include "dripr/core/settings.h"
#include "dripr/domain/reconcile.h"
#include "dripr/domain/status.h"
#include "dripr/fetcher/consumer.h"
#include "dripr/fetcher/event_handlers.h"
#include "dripr/fetcher/outbox_relay.h"
#include "dripr/providers/provider.h"
#include "dripr/providers/rentcast/rentcast_provider.h"
#include "dripr/providers/sample/sample_provider.h"

namespace dripr {

enum class BusKind { kEmbedded, kAws };

// DRIPR_OPS_ADDR: where the ops HTTP server (/healthz, /readyz, /metrics) listens.
struct OpsAddress {
  bool enabled = true;  // false: `off`
  std::string host = "127.0.0.1";
  int port = 9464;  // 0: any free port (the chosen one is logged)
  // DRIPR_OPS_TOKEN: the secret the dashboard's actions (POST) need; empty: none (then
  // actions work only on a loopback address). Never logged or shown.
  std::string token;

  // "host:port" (IPv6 as [addr]:port) or "off"; kInvalidArgument naming the variable.
  static Result<OpsAddress> Parse(const std::string& text);
};

struct AppConfig {
  std::string database_url = "sqlite:dripr.db";
  BusKind bus = BusKind::kEmbedded;
  std::string embedded_bus_path;  // EMBEDDED_BUS_PATH; default: the SQLite database file
  RequiredParts required_parts;   // DRIPR_REQUIRED_PARTS
  ConsumerOptions consumer;       // DRIPR_MAX_IN_FLIGHT, DRIPR_RECEIVE_WAIT_SECONDS, ...
  FetchOptions fetch;             // DRIPR_INITIAL_RADIUS_MILES, ...
  OutboxRelayOptions relay;
  std::string log_level = "info";           // DRIPR_LOG_LEVEL
  LogFormat log_format = LogFormat::kText;  // DRIPR_LOG_FORMAT (default: json unless a terminal)
  OpsAddress ops;                           // DRIPR_OPS_ADDR
  int db_pool_size = 8;                     // DRIPR_DB_POOL_SIZE: connections per process
  std::chrono::seconds db_retry{15};        // DRIPR_DB_RETRY_SECONDS: retry window of one DB call
  // DRIPR_RECONCILE_INTERVAL_SECONDS, DRIPR_STUCK_AFTER_SECONDS, DRIPR_MAX_REPUBLISH,
  // DRIPR_RESTART_ERRORED_AFTER_SECONDS, DRIPR_MAX_RESTARTS (fetcher/reconciler.h)
  ReconcileSettings reconcile;
  ProviderKind provider = ProviderKind::kSample;  // DATA_PROVIDER
  SampleProviderOptions sample;                   // DRIPR_SAMPLE_*
  RentCastOptions rentcast;  // RENTCAST_* (the key is required only when provider is rentcast)
  // data/zip_codes.csv: $DRIPR_DATA_DIR, else the installation's data directories; "" none.
  std::string zip_csv_path;
  // The AWS_*, SNS_* and SQS_* variables (and HOME, for ~/.aws): the AWS layer resolves the
  // SDK's credential chain, profiles and endpoints from them lazily (credentials refresh).
  aws::AwsSettings aws;
  // Every setting read, with its effective value (secrets masked) and origin: `dripr config`.
  std::vector<SettingRow> settings;

  SettingOrigin OriginOf(std::string_view name) const;
};

// kInvalidArgument with a one-line reason naming the variable for any bad value (invalid
// UTF-8 included). `data_dirs`: where the installation keeps data/ (searched after
// DRIPR_DATA_DIR for zip_codes.csv).
Result<AppConfig> LoadConfig(const Env& env, const std::vector<std::string>& data_dirs = {});

// "sqlite:PATH" → PATH; nullopt for other schemes.
std::optional<std::string> SqlitePath(const std::string& database_url);

}  // namespace dripr
