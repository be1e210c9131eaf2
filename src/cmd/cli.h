#pragma once
// Shared plumbing of the `dripr` command line: parsing and wiring only (docs/contracts.md §7).
// Exit codes: 0 ok, 1 runtime failure, 2 usage or configuration error.

#include <CLI/CLI.hpp>
#include <initializer_list>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

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

// What every command gets: the environment (process over --env-file) and the settings parsed
// from it (fetcher/config.h); commands read settings from `config` only.
struct Context {
  AppConfig config;
  // The process's clock, ticker and random source: the one place commands pick the real
  // ones; every component (retry jitter included) and every timing a command prints (demo
  // progress, import) uses these.
  const Clock* clock = &SystemClock::Instance();
  Ticker* ticker = &RealTicker();
  Random* random = &SystemRandom();
};

// Loads env + config. On error prints "dripr: <reason>" and returns the exit code (2).
std::optional<int> LoadContext(const Globals& g, Context& ctx);

// Where the installation keeps data/ (zip_codes.csv), searched after DRIPR_DATA_DIR: the
// source tree the binary was built from, then ../share/dripr next to the binary.
std::vector<std::string> InstalledDataDirs();

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

// Prints JSON total: text that is not valid UTF-8 (rows other programs wrote) comes out as
// U+FFFD instead of throwing.
void PrintJson(const nlohmann::json& j);

// Numeric options parsed by core/number.h (decimal only, range-checked, overflow is an
// error); a bad value is a parse error naming the flag, exit 2.
CLI::Option* AddIntOption(CLI::App* app, const std::string& name, std::optional<int64_t>& target,
                          int64_t min, int64_t max, const std::string& description);
CLI::Option* AddIntOption(CLI::App* app, const std::string& name, int& target, int min, int max,
                          const std::string& description);
CLI::Option* AddDoubleOption(CLI::App* app, const std::string& name, std::optional<double>& target,
                             double min, double max, const std::string& description);

// Which environment variables a command reads, for its --help (with their defaults).
enum class EnvUse { kStore, kBus, kFetcher, kAws, kAll };
std::string EnvHelp(std::initializer_list<EnvUse> uses);
// Gives every command of `app` (recursively) a footer naming the variables it reads.
void AddEnvHelp(CLI::App& app);

// The first line of a command-line parse error, without echoing more than a short prefix of
// any argument, and an unknown subcommand named as such.
std::string DescribeParseError(CLI::App& app, const CLI::ParseError& e, int argc,
                               const char* const* argv);
// kInvalidArgument naming the first argument that is not valid UTF-8.
Status CheckArgs(int argc, const char* const* argv);

// A no-address campaign is placed by its zip's centroid: refuse one whose zip has none
// (kInvalidArgument with the reason) instead of letting it fail later in the fetcher.
Status CheckLocatable(Store& store, const NewCampaign& c);
// CheckLocatable's message for a zip without a centroid (also `campaign import`'s).
std::string NoCentroidMessage(const std::string& zip);

// `campaign import` (import_cmd.cc), registered under `campaign`.
void AddImportCommand(CLI::App& campaign, Globals& g, int& exit_code);

// Registers subcommands; each sets the result code through `exit_code` when it runs.
void AddCampaignCommands(CLI::App& app, Globals& g, int& exit_code);
void AddQueueCommands(CLI::App& app, Globals& g, int& exit_code);
void AddServiceCommands(CLI::App& app, Globals& g, int& exit_code);
void AddInfraCommands(CLI::App& app, Globals& g, int& exit_code);
void AddReconcileCommands(CLI::App& app, Globals& g, int& exit_code);
void AddConfigCommands(CLI::App& app, Globals& g, int& exit_code);

}  // namespace dripr::cli
