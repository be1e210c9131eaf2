// dripr infra up [--dry-run] [--force] | status | down   [--env dev|prod] [--json]

#include <cstdio>

#include "cmd/cli.h"
#include "dripr/bus/aws/infra.h"

namespace dripr::cli {
namespace {

struct InfraArgs {
  std::string env_name = "dev";
  bool json = false;
  bool dry_run = false;  // up only
  bool force = false;    // up only
};

int Infra(const Globals& g, const InfraArgs& a, const std::string& verb) {
  Context ctx;
  if (auto rc = LoadContext(g, ctx)) return *rc;
  if (a.env_name != "dev" && a.env_name != "prod") {
    return ReportUsage("--env must be dev or prod, got '" + a.env_name + "'");
  }
  auto clients = aws::InfraClientsFromSettings(ctx.config.aws, ctx.ticker, ctx.random);
  if (!clients) return ReportError(clients.error());
  aws::InfraOptions o;
  o.env_name = a.env_name;
  o.visibility_timeout = ctx.config.consumer.visibility_timeout;
  // up and status: the topic and queues the environment names (adopted, not recreated).
  // down only ever deletes the resources of the standard names.
  if (verb != "down") {
    if (auto s = aws::AdoptFromSettings(ctx.config.aws, o); !s) return ReportError(s.error());
  }
  if (verb == "up") {
    o.dry_run = a.dry_run;
    o.force = a.force;
    auto r = aws::InfraUp(*clients->sns, *clients->sqs, o);
    if (!r) return ReportError(r.error().Wrap(a.dry_run ? "infra up --dry-run" : "infra up"));
    if (a.json) {
      PrintJson(r->ToJson());
    } else if (a.dry_run) {
      for (const auto& step : r->plan) std::printf("%s\n", step.ToText().c_str());
      std::fprintf(stderr, "dry run: nothing was changed\n");
    } else {
      for (const auto& step : r->plan) std::fprintf(stderr, "%s\n", step.ToText().c_str());
      std::fprintf(stderr, "# paste into your env file:\n");
      for (const auto& line : r->env_lines) std::printf("%s\n", line.c_str());
    }
    return kExitOk;
  }
  if (verb == "status") {
    auto r = aws::InfraStatus(*clients->sns, *clients->sqs, o);
    if (!r) return ReportError(r.error().Wrap("infra status"));
    if (a.json) {
      PrintJson(r->ToJson());
    } else {
      std::printf("%s", r->ToText().c_str());
    }
    return r->Complete() ? kExitOk : kExitFailure;
  }
  auto r = aws::InfraDown(*clients->sns, *clients->sqs, o);
  if (!r) return ReportError(r.error().Wrap("infra down"));
  if (a.json) {
    PrintJson(*r);
  } else {
    for (const auto& d : *r) std::printf("%s\n", d.c_str());
  }
  return kExitOk;
}

}  // namespace

void AddInfraCommands(CLI::App& app, Globals& g, int& exit_code) {
  auto* infra = app.add_subcommand("infra", "Create, inspect or remove the SNS/SQS resources");
  infra->require_subcommand(1);
  auto a = std::make_shared<InfraArgs>();
  for (std::string verb : {"up", "status", "down"}) {
    auto* sub = infra->add_subcommand(
        verb, verb == "up"       ? "Create or adopt the topic, queues, DLQs and subscriptions "
                                   "(idempotent); print env lines"
              : verb == "status" ? "Depths, DLQ depths and subscription filters"
                                 : "Delete the topic, queues, DLQs and subscriptions");
    sub->add_option("--env", a->env_name, "dev or prod (names end in -dev / -prod)");
    sub->add_flag("--json", a->json, "JSON output");
    if (verb == "up") {
      sub->add_flag("--dry-run", a->dry_run,
                    "Print the plan (create/reuse/change) and change nothing");
      sub->add_flag("--force", a->force,
                    "Also change existing values that differ (queue attributes, filter policies)");
    }
    sub->callback([&g, &exit_code, a, verb] { exit_code = Infra(g, *a, verb); });
  }
}

}  // namespace dripr::cli
