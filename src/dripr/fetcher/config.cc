#include "dripr/fetcher/config.h"

#include <unistd.h>

#include <cctype>
#include <charconv>

namespace dripr {

Result<OpsAddress> OpsAddress::Parse(const std::string& text) {
  OpsAddress a;
  if (text == "off") {
    a.enabled = false;
    return a;
  }
  auto bad = [&](std::string_view why) {
    return Fail(ErrorCode::kInvalidArgument,
                "DRIPR_OPS_ADDR must be host:port (port 0-65535, 0 = any free port) or off, got '" +
                    text + "' (" + std::string(why) + ")");
  };
  const auto colon = text.rfind(':');
  if (colon == std::string::npos) return bad("no port");
  std::string host = text.substr(0, colon);
  const std::string port = text.substr(colon + 1);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  } else if (host.find(':') != std::string::npos) {
    return bad("write IPv6 addresses as [addr]:port");
  }
  if (host.empty()) return bad("no host");
  for (char ch : host) {
    if (!(std::isalnum(static_cast<unsigned char>(ch)) || ch == '.' || ch == '-' || ch == ':')) {
      return bad("bad host");
    }
  }
  int value = -1;
  auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
  if (port.empty() || ec != std::errc() || end != port.data() + port.size() || value < 0 ||
      value > 65535) {
    return bad("bad port");
  }
  a.host = std::move(host);
  a.port = value;
  return a;
}

std::optional<std::string> SqlitePath(const std::string& url) {
  if (url.starts_with("sqlite://")) return url.substr(9);
  if (url.starts_with("sqlite:")) return url.substr(7);
  return std::nullopt;
}

Result<AppConfig> LoadConfig(const Env& env) {
  AppConfig c;
  // Set but empty is an error, not the default: an unset variable and a blank one written by
  // a template mean different things.
  if (auto url = env.Get("DATABASE_URL"); url && url->empty()) {
    return Fail(ErrorCode::kInvalidArgument,
                "DATABASE_URL is set but empty (unset it for the default sqlite:dripr.db)");
  }
  c.database_url = env.GetOr("DATABASE_URL", c.database_url);
  if (auto p = SqlitePath(c.database_url)) {
    if (p->empty()) return Fail(ErrorCode::kInvalidArgument, "DATABASE_URL: sqlite: needs a path");
  } else if (!c.database_url.starts_with("postgresql://") &&
             !c.database_url.starts_with("postgres://") &&
             !c.database_url.starts_with("mysql://") && !c.database_url.starts_with("mariadb://")) {
    return Fail(ErrorCode::kInvalidArgument,
                "DATABASE_URL must start with sqlite:, postgresql:// or mysql://");
  }
  std::string bus = env.GetOr("EVENT_BUS", "embedded");
  if (bus == "embedded") {
    c.bus = BusKind::kEmbedded;
  } else if (bus == "aws") {
    c.bus = BusKind::kAws;
  } else {
    return Fail(ErrorCode::kInvalidArgument,
                "EVENT_BUS must be embedded or aws, got '" + bus + "'");
  }
  c.embedded_bus_path =
      env.GetOr("EMBEDDED_BUS_PATH", SqlitePath(c.database_url).value_or("dripr-bus.db"));
  if (auto parts = env.Get("DRIPR_REQUIRED_PARTS"); parts && !parts->empty()) {
    auto r = RequiredParts::Parse(*parts);
    if (!r) {
      return Fail(ErrorCode::kInvalidArgument,
                  "DRIPR_REQUIRED_PARTS must list local_market_data, active_listings, "
                  "recent_sales (comma-separated), got '" +
                      *parts + "'");
    }
    c.required_parts = *r;
  }
  c.log_level = env.GetOr("DRIPR_LOG_LEVEL", "info");
  DRIPR_ASSIGN_OR_RETURN(c.log_format,
                         ParseLogFormat(env.Get("DRIPR_LOG_FORMAT"), isatty(STDERR_FILENO) == 1));
  DRIPR_ASSIGN_OR_RETURN(c.ops, OpsAddress::Parse(env.GetOr("DRIPR_OPS_ADDR", "127.0.0.1:9464")));
  c.ops.token = env.GetOr("DRIPR_OPS_TOKEN", "");
  DRIPR_ASSIGN_OR_RETURN(auto pool, env.GetInt("DRIPR_DB_POOL_SIZE", 8, 1, 100));
  c.db_pool_size = static_cast<int>(pool);
  DRIPR_ASSIGN_OR_RETURN(auto db_retry, env.GetInt("DRIPR_DB_RETRY_SECONDS", 15, 0, 3600));
  c.db_retry = std::chrono::seconds(db_retry);

  auto& k = c.consumer;
  // Long polls are cheap on the embedded bus: short waits make shutdown prompt there.
  long long default_wait = c.bus == BusKind::kAws ? 20 : 1;
  DRIPR_ASSIGN_OR_RETURN(
      auto wait, env.GetInt("DRIPR_RECEIVE_WAIT_SECONDS", default_wait, 0, sqs::kMaxWaitSeconds));
  k.wait_time = std::chrono::seconds(wait);
  DRIPR_ASSIGN_OR_RETURN(auto in_flight, env.GetInt("DRIPR_MAX_IN_FLIGHT", 16, 1, 256));
  k.max_in_flight = static_cast<int>(in_flight);
  DRIPR_ASSIGN_OR_RETURN(auto loops, env.GetInt("DRIPR_RECEIVE_LOOPS", 2, 1, 16));
  k.receive_loops = static_cast<int>(loops);
  DRIPR_ASSIGN_OR_RETURN(
      auto vis, env.GetInt("DRIPR_VISIBILITY_TIMEOUT_SECONDS", 30, 2, sqs::kMaxVisibilitySeconds));
  k.visibility_timeout = std::chrono::seconds(vis);
  DRIPR_ASSIGN_OR_RETURN(auto attempts, env.GetInt("DRIPR_MAX_ATTEMPTS", 4, 1, 100));
  k.max_attempts = static_cast<int>(attempts);
  DRIPR_ASSIGN_OR_RETURN(auto base_ms, env.GetInt("DRIPR_RETRY_BASE_MS", 1000, 1, 600000));
  k.backoff_base = std::chrono::milliseconds(base_ms);
  DRIPR_ASSIGN_OR_RETURN(auto shutdown, env.GetInt("DRIPR_SHUTDOWN_DEADLINE_SECONDS", 25, 1, 3600));
  k.shutdown_deadline = std::chrono::seconds(shutdown);

  auto& f = c.fetch;
  DRIPR_ASSIGN_OR_RETURN(f.initial_radius_miles,
                         env.GetDouble("DRIPR_INITIAL_RADIUS_MILES", 1.0, 0.1, 100));
  DRIPR_ASSIGN_OR_RETURN(auto widenings, env.GetInt("DRIPR_MAX_WIDENINGS", 3, 0, 10));
  f.max_widenings = static_cast<int>(widenings);
  DRIPR_ASSIGN_OR_RETURN(auto min_results, env.GetInt("DRIPR_MIN_RESULTS", 10, 1, 500));
  f.min_results = static_cast<size_t>(min_results);
  DRIPR_ASSIGN_OR_RETURN(auto keep, env.GetInt("DRIPR_KEEP_RESULTS", 25, 1, 500));
  f.keep_results = static_cast<size_t>(keep);
  DRIPR_ASSIGN_OR_RETURN(auto reuse_days, env.GetInt("DRIPR_MARKET_REUSE_DAYS", 30, 0, 365));
  f.market_reuse = std::chrono::seconds(reuse_days * 24 * 3600);
  DRIPR_ASSIGN_OR_RETURN(auto market_lease, env.GetInt("DRIPR_MARKET_LEASE_SECONDS", 10, 2, 600));
  f.market_flight.lease_ttl = std::chrono::seconds(market_lease);

  auto& r = c.reconcile;
  constexpr long long kWeek = 7 * 24 * 3600;
  DRIPR_ASSIGN_OR_RETURN(auto interval,
                         env.GetInt("DRIPR_RECONCILE_INTERVAL_SECONDS", 60, 0, 24 * 3600));
  r.interval = std::chrono::seconds(interval);
  DRIPR_ASSIGN_OR_RETURN(auto stuck, env.GetInt("DRIPR_STUCK_AFTER_SECONDS", 900, 1, kWeek));
  r.stuck_after = std::chrono::seconds(stuck);
  DRIPR_ASSIGN_OR_RETURN(auto republish, env.GetInt("DRIPR_MAX_REPUBLISH", 3, 0, 100));
  r.max_republish = static_cast<int>(republish);
  DRIPR_ASSIGN_OR_RETURN(auto restart_after,
                         env.GetInt("DRIPR_RESTART_ERRORED_AFTER_SECONDS", 21600, 0, 4 * kWeek));
  r.restart_errored_after = std::chrono::seconds(restart_after);
  DRIPR_ASSIGN_OR_RETURN(auto restarts, env.GetInt("DRIPR_MAX_RESTARTS", 3, 0, 100));
  r.max_restarts = static_cast<int>(restarts);
  return c;
}

}  // namespace dripr
