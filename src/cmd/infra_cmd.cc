// dripr infra up|status|down [--env dev|prod]

#include "cmd/cli.h"

namespace dripr::cli {

void AddInfraCommands(CLI::App& app, Globals& g, int& exit_code) {
  auto* infra = app.add_subcommand("infra", "Create, inspect or remove the SNS/SQS resources");
  infra->require_subcommand(1);
  for (const char* verb : {"up", "status", "down"}) {
    auto* sub = infra->add_subcommand(verb, std::string(verb) + " the topic, queues, DLQs and subscriptions");
    sub->callback([&g, &exit_code] {
      (void)g;
      exit_code = ReportError({ErrorCode::kFailedPrecondition, "infra is not built yet"});
    });
  }
}

}  // namespace dripr::cli
