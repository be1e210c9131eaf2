#include "cmd/cli.h"

#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <iostream>

#include "dripr/core/log.h"

#ifndef DRIPR_DATA_DIR
#define DRIPR_DATA_DIR ""
#endif

namespace dripr::cli {

int ReportUsage(const std::string& message) {
  std::fprintf(stderr, "dripr: %s\n", message.c_str());
  return kExitUsage;
}

int ReportError(const Error& e) {
  std::fprintf(stderr, "dripr: %s\n", e.message.c_str());
  return e.code == ErrorCode::kInvalidArgument ? kExitUsage : kExitFailure;
}

std::optional<int> LoadContext(const Globals& g, Context& ctx) {
  if (!g.env_file.empty()) {
    auto env = Env::FromProcessAndFile(g.env_file);
    if (!env) return ReportUsage(env.error().message);
    ctx.env = std::move(*env);
  }
  // The sample provider places homes by real zip centroids when it can find them.
  if (!ctx.env.Get("DRIPR_SAMPLE_ZIP_CSV")) {
    if (auto csv = ZipCsvPath(ctx.env); !csv.empty()) ctx.env.Set("DRIPR_SAMPLE_ZIP_CSV", csv);
  }
  auto config = LoadConfig(ctx.env);
  if (!config) return ReportUsage(config.error().message);
  ctx.config = std::move(*config);
  InitLogging(ctx.config.log_level, ctx.config.log_format);
  return std::nullopt;
}

std::string ZipCsvPath(const Env& env) {
  namespace fs = std::filesystem;
  std::vector<fs::path> candidates;
  if (auto d = env.Get("DRIPR_DATA_DIR"); d && !d->empty()) candidates.emplace_back(*d);
  candidates.emplace_back(DRIPR_DATA_DIR);
  std::error_code ec;
  auto exe = fs::read_symlink("/proc/self/exe", ec);
  if (!ec) candidates.push_back(exe.parent_path() / ".." / "share" / "dripr");
  for (const auto& dir : candidates) {
    if (dir.empty()) continue;
    auto p = dir / "zip_codes.csv";
    if (fs::exists(p, ec)) return p.string();
  }
  return "";
}

StorePtr OpenStoreOrReport(const Context& ctx, int& exit_code, DbUse use) {
  StoreSetup setup;
  setup.read_only = use == DbUse::kRead;
  setup.quick_check = use == DbUse::kService;
  // SQLite is the zero-setup shape: bring the file up to date. PostgreSQL is migrated
  // explicitly with `dripr migrate` (one operator step, not every process at start-up).
  setup.migrate = SqlitePath(ctx.config.database_url).has_value();
  if (setup.migrate) setup.zip_csv_path = ZipCsvPath(ctx.env);
  auto store = OpenConfiguredStore(ctx.config, setup);
  if (!store) {
    exit_code = ReportError(store.error());
    return nullptr;
  }
  return std::move(*store);
}

BusPtr OpenBusOrReport(const Context& ctx, int& exit_code, DbUse use) {
  auto bus = OpenConfiguredBus(ctx.config, ctx.env, use == DbUse::kRead);
  if (!bus) {
    exit_code = ReportError(bus.error());
    return nullptr;
  }
  return std::move(*bus);
}

void PrintJson(const nlohmann::json& j) { std::cout << j.dump(2) << std::endl; }

}  // namespace dripr::cli
