// `dripr`: the command line of the data pipeline. Parsing and wiring only.

#include <cstdio>

#include "cmd/cli.h"

int main(int argc, char** argv) {
  using namespace dripr::cli;
  // Text is validated once, at the boundary: no command ever sees an argument that is not
  // UTF-8 (docs/decisions/cli.md "Text").
  if (auto st = CheckArgs(argc, argv); !st) return ReportUsage(st.error().message);
  CLI::App app{"dripr data pipeline: event-driven data fetcher for campaigns", "dripr"};
  app.require_subcommand(1);
  app.fallthrough();  // global options may follow the subcommand
  Globals g;
  app.add_option("--env-file", g.env_file,
                 "Read variables from this file (the real environment wins)")
      ->check(CLI::ExistingFile);
  int exit_code = kExitOk;
  AddCampaignCommands(app, g, exit_code);
  AddQueueCommands(app, g, exit_code);
  AddServiceCommands(app, g, exit_code);
  AddInfraCommands(app, g, exit_code);
  AddReconcileCommands(app, g, exit_code);
  AddConfigCommands(app, g, exit_code);
  AddEnvHelp(app);
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    std::fprintf(stderr, "dripr: %s\n", DescribeParseError(app, e, argc, argv).c_str());
    return kExitUsage;
  }
  return exit_code;
}
