#pragma once
// Shared plumbing of the `dripr` command line: parsing and wiring only (DESIGN §7).
// Exit codes: 0 ok, 1 runtime failure, 2 usage or configuration error.

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <memory>
#include <optional>
#include <string>

#include "dripr/core/env.h"
#include "dripr/fetcher/config.h"
#include "dripr/fetcher/wiring.h"

namespace dripr::cli {

inline constexpr int kExitOk = 0;
inline constexpr int kExitFailure = 1;
inline constexpr int kExitUsage = 2;

// Global options, filled by CLI11 before a command runs.
struct Globals {
  std::string env_file;
};

// What every command gets: the environment (process over --env-file) and the config.
struct Context {
  Env env = Env::FromProcess();
  AppConfig config;
};

// Loads env + config. On error prints "dripr: <reason>" and returns the exit code (2).
std::optional<int> LoadContext(const Globals& g, Context& ctx);

// Where data/zip_codes.csv is: DRIPR_DATA_DIR, the source tree the binary was built from,
// or ../share/dripr next to the binary.
std::string ZipCsvPath(const Env& env);

// Opens the configured store (auto-migrating SQLite). Prints the error and returns nullptr.
// How a command uses the database (docs/operations.md, "Database files"):
//   kRead     only reads: nothing is created or migrated; a missing database is an error that
//             says how to create one.
//   kWrite    one-shot writer: creates and migrates an SQLite file.
//   kService  long-running writer (data-fetcher, demo): as kWrite, plus PRAGMA quick_check at
//             open so a damaged file does not keep accepting writes.
enum class DbUse { kRead, kWrite, kService };
StorePtr OpenStoreOrReport(const Context& ctx, int& exit_code, DbUse use = DbUse::kWrite);
BusPtr OpenBusOrReport(const Context& ctx, int& exit_code, DbUse use = DbUse::kWrite);

// Prints "dripr: <message>" to stderr and returns the exit code for the error
// (kInvalidArgument → 2, everything else → 1).
int ReportError(const Error& e);
int ReportUsage(const std::string& message);

void PrintJson(const nlohmann::json& j);

// Registers subcommands; each sets the result code through `exit_code` when it runs.
void AddCampaignCommands(CLI::App& app, Globals& g, int& exit_code);
void AddQueueCommands(CLI::App& app, Globals& g, int& exit_code);
void AddServiceCommands(CLI::App& app, Globals& g, int& exit_code);
void AddInfraCommands(CLI::App& app, Globals& g, int& exit_code);
void AddReconcileCommands(CLI::App& app, Globals& g, int& exit_code);

}  // namespace dripr::cli
