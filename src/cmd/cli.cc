#include "cmd/cli.h"

#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <iostream>

#include "dripr/core/log.h"
#include "dripr/core/number.h"
#include "dripr/core/text.h"

#ifndef DRIPR_DATA_DIR
#define DRIPR_DATA_DIR ""
#endif

namespace dripr::cli {

namespace {

// One line for stderr: control characters and invalid UTF-8 escaped, at most ~1000 bytes
// (messages echo inputs only through QuotedEcho, this is the backstop).
std::string ErrorLine(std::string_view message) {
  constexpr size_t kMax = 1000;
  std::string out = TerminalSafe(TruncateUtf8(message, kMax));
  if (message.size() > kMax) out += "...";
  return out;
}

}  // namespace

int ReportUsage(const std::string& message) {
  std::fprintf(stderr, "dripr: %s\n", ErrorLine(message).c_str());
  return kExitUsage;
}

int ReportError(const Error& e) {
  std::fprintf(stderr, "dripr: %s\n", ErrorLine(e.message).c_str());
  return e.code == ErrorCode::kInvalidArgument ? kExitUsage : kExitFailure;
}

std::optional<int> LoadContext(const Globals& g, Context& ctx) {
  Env env = Env::FromProcess();
  if (!g.env_file.empty()) {
    auto from_file = Env::FromProcessAndFile(g.env_file);
    if (!from_file) return ReportUsage(from_file.error().message);
    env = std::move(*from_file);
  }
  auto config = LoadConfig(env, InstalledDataDirs());
  if (!config) return ReportUsage(config.error().message);
  ctx.config = std::move(*config);
  InitLogging(ctx.config.log_level, ctx.config.log_format);
  return std::nullopt;
}

std::vector<std::string> InstalledDataDirs() {
  namespace fs = std::filesystem;
  std::vector<std::string> dirs;
  if (std::string_view(DRIPR_DATA_DIR).size() > 0) dirs.emplace_back(DRIPR_DATA_DIR);
  std::error_code ec;
  auto exe = fs::read_symlink("/proc/self/exe", ec);
  if (!ec) dirs.push_back((exe.parent_path() / ".." / "share" / "dripr").string());
  return dirs;
}

StorePtr OpenStoreOrReport(const Context& ctx, int& exit_code, DbUse use) {
  StoreSetup setup;
  setup.read_only = use == DbUse::kRead;
  setup.quick_check = use == DbUse::kService;
  // SQLite is the zero-setup shape: bring the file up to date. PostgreSQL is migrated
  // explicitly with `dripr migrate` (one operator step, not every process at start-up).
  setup.migrate = SqlitePath(ctx.config.database_url).has_value();
  if (setup.migrate) setup.zip_csv_path = ctx.config.zip_csv_path;
  auto store = OpenConfiguredStore(ctx.config, setup, ctx.clock, ctx.ticker, ctx.random);
  if (!store) {
    exit_code = ReportError(store.error());
    return nullptr;
  }
  return std::move(*store);
}

std::string NoCentroidMessage(const std::string& zip) {
  return "zip " + zip + " has no known centroid, so a no-address campaign there " +
         "cannot be placed; give the property's --lat and --lng";
}

Status CheckLocatable(Store& store, const NewCampaign& c) {
  if (c.property) return Ok();
  DRIPR_ASSIGN_OR_RETURN(auto centroid, store.ZipCentroid(c.zip_code));
  if (centroid) return Ok();
  return Fail(ErrorCode::kInvalidArgument, NoCentroidMessage(c.zip_code));
}

BusPtr OpenBusOrReport(const Context& ctx, int& exit_code, DbUse use) {
  auto bus = OpenConfiguredBus(ctx.config, use == DbUse::kRead, ctx.ticker, ctx.random);
  if (!bus) {
    exit_code = ReportError(bus.error());
    return nullptr;
  }
  return std::move(*bus);
}

void PrintJson(const nlohmann::json& j) {
  std::cout << j.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) << std::endl;
}

namespace {

// An option whose text `parse` (text -> Result<number>) checks; the number is stored in `target`.
template <class T, class Parse>
CLI::Option* AddParsedOption(CLI::App* app, const std::string& name, T& target, Parse parse,
                             const std::string& description, const std::string& type_name) {
  return app
      ->add_option_function<std::string>(
          name,
          [&target, name, parse](const std::string& text) {
            auto n = parse(text);
            if (!n) throw CLI::ValidationError(name, n.error().message);
            target = static_cast<T>(*n);
          },
          description)
      ->type_name(type_name);
}

}  // namespace

CLI::Option* AddIntOption(CLI::App* app, const std::string& name, std::optional<int64_t>& target,
                          int64_t min, int64_t max, const std::string& description) {
  return AddParsedOption(
      app, name, target, [min, max](const std::string& t) { return ParseInt(t, min, max); },
      description, "INT");
}

CLI::Option* AddIntOption(CLI::App* app, const std::string& name, int& target, int min, int max,
                          const std::string& description) {
  return AddParsedOption(
      app, name, target, [min, max](const std::string& t) { return ParseInt(t, min, max); },
      description, "INT");
}

CLI::Option* AddDoubleOption(CLI::App* app, const std::string& name, std::optional<double>& target,
                             double min, double max, const std::string& description) {
  return AddParsedOption(
      app, name, target, [min, max](const std::string& t) { return ParseDouble(t, min, max); },
      description, "NUMBER");
}

Status CheckArgs(int argc, const char* const* argv) {
  for (int i = 1; i < argc; ++i) {
    if (auto st = CheckUtf8("argument " + std::to_string(i), argv[i]); !st) return st;
  }
  return Ok();
}

std::string DescribeParseError(CLI::App& app, const CLI::ParseError& e, int argc,
                               const char* const* argv) {
  // The deepest command the user selected, and the words that selected it.
  CLI::App* deepest = &app;
  std::vector<std::string> path;
  while (true) {
    auto selected = deepest->get_subcommands();
    if (selected.empty()) break;
    deepest = selected.front();
    path.push_back(deepest->get_name());
  }
  if (!deepest->get_subcommands({}).empty()) {
    // A command that needs a subcommand: the first word after the path is the unknown one.
    size_t matched = 0;
    for (int i = 1; i < argc; ++i) {
      std::string_view arg = argv[i];
      if (matched < path.size()) {
        if (arg == path[matched]) ++matched;
        continue;
      }
      if (arg.starts_with("-")) {
        // An option given as "--name value" (global options may appear anywhere): skip its
        // value too.
        if (arg.find('=') == std::string_view::npos) {
          for (CLI::App* a = deepest; a != nullptr; a = a->get_parent()) {
            const CLI::Option* opt = a->get_option_no_throw(std::string(arg));
            if (opt != nullptr) {
              if (opt->get_type_size() > 0) ++i;
              break;
            }
          }
        }
        continue;
      }
      std::string where = "dripr";
      for (const auto& p : path) where += " " + p;
      return "unknown command " + QuotedEcho(arg) + " for '" + where + "' (see " + where +
             " --help)";
    }
  }
  std::string what = e.what();
  if (auto nl = what.find('\n'); nl != std::string::npos) what.resize(nl);
  // CLI11 quotes offending arguments in full: cut every message to a short line.
  constexpr size_t kMax = 200;
  std::string out = TerminalSafe(TruncateUtf8(what, kMax));
  if (what.size() > kMax) out += "...";
  return out + " (see dripr --help)";
}

}  // namespace dripr::cli
