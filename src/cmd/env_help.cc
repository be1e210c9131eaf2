// The "Environment:" footer of every command's --help: which variables it reads and their
// defaults, as LoadConfig (fetcher/config.cc) records them over an empty environment, so
// they are stated once.

#include <fmt/format.h>

#include <map>
#include <set>
#include <string>
#include <vector>

#include "cmd/cli.h"

namespace dripr::cli {
namespace {

// The settings of one group, with their defaults as `dripr config` and docs/architecture.md
// state them (the one table: fetcher/config.cc).
std::vector<const SettingRow*> Vars(EnvUse use) {
  static const std::vector<SettingRow> rows = [] {
    auto c = LoadConfig(Env::FromMap({}));
    return c ? c->settings : std::vector<SettingRow>{};
  }();
  auto group = [](std::string_view n) {
    if (n == "DATABASE_URL" || n.starts_with("DRIPR_DB_") || n == "DRIPR_REQUIRED_PARTS" ||
        n == "DRIPR_DATA_DIR" || n.starts_with("DRIPR_LOG_")) {
      return EnvUse::kStore;
    }
    if (n == "EVENT_BUS" || n == "EMBEDDED_BUS_PATH" || n.starts_with("SNS_") ||
        n.starts_with("SQS_")) {
      return EnvUse::kBus;
    }
    if (n.starts_with("AWS_")) return EnvUse::kAws;
    return EnvUse::kFetcher;
  };
  // The AWS SDK chain's many variables: the common ones here, all of them in `dripr config`.
  auto shown = [](std::string_view n) {
    return !n.starts_with("AWS_") || n == "AWS_REGION" || n == "AWS_ENDPOINT_URL" ||
           n == "AWS_PROFILE" || n == "AWS_ACCESS_KEY_ID" || n == "AWS_SECRET_ACCESS_KEY";
  };
  std::vector<const SettingRow*> out;
  for (const auto& r : rows) {
    if (group(r.name) == use && shown(r.name)) out.push_back(&r);
  }
  return out;
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
      for (const SettingRow* v : Vars(u)) {
        out += fmt::format("  {:<38} {}\n", v->name, v->default_text);
      }
      if (u == EnvUse::kAws) out += fmt::format("  {:<38} {}\n", "other AWS_*", "see dripr config");
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
