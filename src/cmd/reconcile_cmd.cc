// dripr reconcile [--dry-run] [--json]: one reconciler pass from the command line.

#include <fmt/format.h>

#include <cstdio>
#include <iostream>

#include "cmd/cli.h"
#include "cmd/render.h"
#include "dripr/fetcher/reconciler.h"

namespace dripr::cli {
namespace {

struct ReconcileArgs {
  bool dry_run = false;
  bool json = false;
};

nlohmann::json PassJson(const ReconcilePass& pass) {
  nlohmann::json counts = nlohmann::json::object();
  for (ReconcileAction a : kAllReconcileActions) counts[std::string(ToString(a))] = pass.count(a);
  nlohmann::json campaigns = nlohmann::json::array();
  for (const ReconcileItem& item : pass.items) {
    campaigns.push_back({{"campaign_id", item.campaign_id.str()},
                         {"action", ToString(item.action)},
                         {"applied", item.applied},
                         {"note", item.note},
                         {"before", CampaignJson(item.before)},
                         {"after", CampaignJson(item.after)}});
  }
  return {{"dry_run", pass.dry_run}, {"counts", counts}, {"campaigns", campaigns}};
}

void PrintPass(const ReconcilePass& pass) {
  if (pass.items.empty()) {
    std::printf("reconcile%s: nothing to do\n", pass.dry_run ? " (dry run)" : "");
    return;
  }
  for (const ReconcileItem& item : pass.items) {
    std::printf("%-24s %-11s %s\n", item.campaign_id.str().c_str(),
                std::string(ToString(item.action)).c_str(), item.note.c_str());
  }
  if (pass.dry_run) {
    std::printf("reconcile (dry run): %zu campaign(s) would be acted on; nothing was changed\n",
                pass.items.size());
    return;
  }
  std::string summary;
  for (ReconcileAction a : kAllReconcileActions) {
    summary += fmt::format("{}{} {}", summary.empty() ? "" : ", ", ToString(a), pass.count(a));
  }
  std::printf("reconcile: %s\n", summary.c_str());
}

int ReconcileCmd(const Globals& g, const ReconcileArgs& a) {
  Context ctx;
  if (auto rc = LoadContext(g, ctx)) return *rc;
  int rc = kExitOk;
  // A dry run only reads: like the other read-only commands it creates no database file.
  auto store = OpenStoreOrReport(ctx, rc, a.dry_run ? DbUse::kRead : DbUse::kWrite);
  if (!store) return rc;
  // An operator's pass does not wait for the fetchers' lease: every action is a
  // compare-and-set on the row it decided on, so it cannot double a fetcher's action.
  ReconcilerOptions options;
  options.settings = ctx.config.reconcile;
  options.use_lease = false;
  Reconciler reconciler(*store, *ctx.clock, *ctx.ticker, options);
  auto pass = reconciler.RunOnce(a.dry_run);
  if (!pass) return ReportError(pass.error());
  if (a.json) {
    PrintJson(PassJson(*pass));
  } else {
    PrintPass(*pass);
  }
  return kExitOk;
}

}  // namespace

void AddReconcileCommands(CLI::App& app, Globals& g, int& exit_code) {
  auto a = std::make_shared<ReconcileArgs>();
  auto* cmd = app.add_subcommand(
      "reconcile", "One reconciler pass: republish stuck campaigns' events, restart errored ones");
  cmd->add_flag("--dry-run", a->dry_run, "Print what would be done; change nothing");
  cmd->add_flag("--json", a->json, "Machine-readable output");
  cmd->callback([&g, &exit_code, a] { exit_code = ReconcileCmd(g, *a); });
}

}  // namespace dripr::cli
