// dripr config [--json]: the effective configuration, what an operator checks first. Every
// setting (fetcher/config.cc), its value (secrets masked), its default and where the value came
// from: default, environment or env-file (docs/decisions/settings.md).

#include <fmt/format.h>

#include <algorithm>
#include <cstdio>

#include "cmd/cli.h"
#include "dripr/core/text.h"

namespace dripr::cli {
namespace {

int ConfigCmd(const Globals& g, bool json) {
  Context ctx;
  if (auto rc = LoadContext(g, ctx)) return *rc;
  const auto& rows = ctx.config.settings;
  if (json) {
    nlohmann::json out = nlohmann::json::array();
    for (const auto& r : rows) {
      out.push_back({{"name", r.name},
                     {"value", r.value},
                     {"default", r.default_text},
                     {"source", std::string(ToString(r.origin))},
                     {"masked", r.masked}});
    }
    PrintJson({{"settings", out}});
    return kExitOk;
  }
  size_t width = 0;
  for (const auto& r : rows) width = std::max(width, r.name.size());
  for (const auto& r : rows) {
    // Unset with no value of its own (e.g. the AWS chain's): the default says what happens.
    const std::string value = r.value.empty() ? r.default_text : r.value;
    std::printf("%s\n", fmt::format("{:<{}}  {:<11}  {}", r.name, width, ToString(r.origin),
                                    TerminalSafe(value))
                            .c_str());
  }
  return kExitOk;
}

}  // namespace

void AddConfigCommands(CLI::App& app, Globals& g, int& exit_code) {
  auto* cmd = app.add_subcommand(
      "config",
      "Print the effective configuration: every setting, its value (secrets masked) and where "
      "it came from (default, environment, env-file)");
  auto json = std::make_shared<bool>(false);
  cmd->add_flag("--json", *json, "JSON: {\"settings\": [{name, value, default, source, masked}]}");
  cmd->callback([&g, &exit_code, json] { exit_code = ConfigCmd(g, *json); });
}

}  // namespace dripr::cli
