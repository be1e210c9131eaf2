// The "Environment:" footer of every command's --help: which variables it reads and their
// defaults. Defaults of the process configuration come from LoadConfig over an empty
// environment, so they are stated once (fetcher/config.cc).

#include <fmt/format.h>

#include <map>
#include <set>
#include <string>
#include <vector>

#include "cmd/cli.h"

namespace dripr::cli {
namespace {

struct VarHelp {
  std::string name;
  std::string default_value;
};

std::vector<VarHelp> Vars(EnvUse use) {
  static const AppConfig d = [] {
    auto c = LoadConfig(Env::FromMap({}));
    return c ? *c : AppConfig{};
  }();
  auto secs = [](auto dur) {
    return std::to_string(std::chrono::duration_cast<std::chrono::seconds>(dur).count());
  };
  switch (use) {
    case EnvUse::kStore:
      return {{"DATABASE_URL", d.database_url},
              {"DRIPR_DB_POOL_SIZE", std::to_string(d.db_pool_size)},
              {"DRIPR_DB_RETRY_SECONDS", secs(d.db_retry)},
              {"DRIPR_REQUIRED_PARTS", "local_market_data,active_listings,recent_sales"},
              {"DRIPR_DATA_DIR", "data/ of the source tree, else ../share/dripr"},
              {"DRIPR_LOG_LEVEL", d.log_level}};
    case EnvUse::kBus:
      return {{"EVENT_BUS", "embedded"},
              {"EMBEDDED_BUS_PATH", "the SQLite database file"},
              {"SNS_CAMPAIGN_EVENTS_TOPIC_ARN", "(aws: required)"},
              {"SQS_*_QUEUE_URL, SQS_*_DLQ_URL", "(aws: required; `dripr infra up` prints them)"}};
    case EnvUse::kAws:
      return {{"AWS_REGION / AWS_DEFAULT_REGION", "(required)"},
              {"AWS_ENDPOINT_URL", "(the AWS endpoints)"},
              {"AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_PROFILE, ...", "(the AWS chain)"}};
    case EnvUse::kFetcher:
      return {{"DATA_PROVIDER", "sample"},
              {"RENTCAST_API_KEY", "(rentcast: required)"},
              {"RENTCAST_BASE_URL", "https://api.rentcast.io/v1"},
              {"RENTCAST_MAX_RPS, RENTCAST_PAGE_SIZE, RENTCAST_MAX_PAGES, ...",
               "see docs/operations.md"},
              {"DRIPR_MAX_IN_FLIGHT", std::to_string(d.consumer.max_in_flight)},
              {"DRIPR_RECEIVE_LOOPS", std::to_string(d.consumer.receive_loops)},
              {"DRIPR_RECEIVE_WAIT_SECONDS", "20 (aws), 1 (embedded)"},
              {"DRIPR_VISIBILITY_TIMEOUT_SECONDS", secs(d.consumer.visibility_timeout)},
              {"DRIPR_MAX_ATTEMPTS", std::to_string(d.consumer.max_attempts)},
              {"DRIPR_RETRY_BASE_MS",
               std::to_string(
                   std::chrono::duration_cast<std::chrono::milliseconds>(d.consumer.backoff_base)
                       .count())},
              {"DRIPR_SHUTDOWN_DEADLINE_SECONDS", secs(d.consumer.shutdown_deadline)},
              {"DRIPR_INITIAL_RADIUS_MILES", fmt::format("{:g}", d.fetch.initial_radius_miles)},
              {"DRIPR_MAX_WIDENINGS", std::to_string(d.fetch.max_widenings)},
              {"DRIPR_MIN_RESULTS", std::to_string(d.fetch.min_results)},
              {"DRIPR_KEEP_RESULTS", std::to_string(d.fetch.keep_results)},
              {"DRIPR_MARKET_REUSE_DAYS", std::to_string(d.fetch.market_reuse.count() / 86400)},
              {"DRIPR_MARKET_LEASE_SECONDS", secs(d.fetch.market_flight.lease_ttl)}};
    case EnvUse::kAll:
      break;
  }
  return {};
}

// What each command reads, by its path ("campaign create"). Commands not listed (added
// later) get everything: too much is better than a silent omission.
const std::map<std::string, std::vector<EnvUse>>& Uses() {
  using enum EnvUse;
  static const std::map<std::string, std::vector<EnvUse>> m = {
      {"migrate", {kStore}},
      {"campaign", {kStore}},
      {"campaign create", {kStore}},
      {"campaign import", {kStore}},
      {"campaign start", {kStore}},
      {"campaign reset", {kStore}},
      {"campaign show", {kStore}},
      {"campaign list", {kStore}},
      {"queues", {kStore, kBus, kAws}},
      {"dlq", {kStore, kBus, kAws}},
      {"dlq list", {kStore, kBus, kAws}},
      {"dlq redrive", {kStore, kBus, kAws}},
      {"publish", {kStore, kBus, kAws}},
      {"infra", {kBus, kAws}},
  };
  return m;
}

void Walk(CLI::App& app, const std::string& path) {
  for (CLI::App* sub : app.get_subcommands({})) {
    std::string p = path.empty() ? sub->get_name() : path + " " + sub->get_name();
    auto it = Uses().find(p);
    if (it != Uses().end()) {
      std::string footer;
      for (EnvUse u : it->second) footer += EnvHelp({u});
      sub->footer("Environment (default):\n" + footer);
    } else if (!p.starts_with("infra ")) {
      sub->footer("Environment (default):\n" + EnvHelp({EnvUse::kAll}));
    } else {
      sub->footer("Environment (default):\n" + EnvHelp({EnvUse::kBus, EnvUse::kAws}));
    }
    Walk(*sub, p);
  }
}

}  // namespace

std::string EnvHelp(std::initializer_list<EnvUse> uses) {
  std::string out;
  for (EnvUse use : uses) {
    std::vector<EnvUse> expanded = {use};
    if (use == EnvUse::kAll) {
      expanded = {EnvUse::kStore, EnvUse::kBus, EnvUse::kAws, EnvUse::kFetcher};
    }
    for (EnvUse u : expanded) {
      for (const auto& v : Vars(u)) {
        out += fmt::format("  {:<34} {}\n", v.name, v.default_value);
      }
    }
  }
  return out;
}

void AddEnvHelp(CLI::App& app) {
  app.footer("Environment (default):\n" + EnvHelp({EnvUse::kAll}) +
             "Every command reads these from the process environment over --env-file.");
  Walk(app, "");
}

}  // namespace dripr::cli
