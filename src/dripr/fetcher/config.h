#pragma once
// The process configuration, read once from the environment (docs/contracts.md §6) and validated.
// Every value has a default that works on a single machine with no set-up.

#include <string>

#include "dripr/core/env.h"
#include "dripr/core/error.h"
#include "dripr/core/log.h"
#include "dripr/domain/reconcile.h"
#include "dripr/domain/status.h"
#include "dripr/fetcher/consumer.h"
#include "dripr/fetcher/event_handlers.h"
#include "dripr/fetcher/outbox_relay.h"

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
};

// kInvalidArgument with a one-line reason naming the variable for any bad value.
Result<AppConfig> LoadConfig(const Env& env);

// "sqlite:PATH" → PATH; nullopt for other schemes.
std::optional<std::string> SqlitePath(const std::string& database_url);

}  // namespace dripr
