// dripr migrate | campaign create|start|show|list|reset|retry (import: import_cmd.cc)

#include <cstdio>
#include <iostream>

#include "cmd/cli.h"
#include "cmd/render.h"
#include "dripr/core/log.h"
#include "dripr/core/text.h"
#include "dripr/core/time.h"
#include "dripr/domain/campaign_import.h"
#include "dripr/domain/event.h"

namespace dripr::cli {
namespace {

// "dripr: campaign "ID" not found" (exit 1) for kNotFound; any other error as ReportError.
int ReportCampaignError(const Error& e, const CampaignId& id) {
  if (e.code != ErrorCode::kNotFound) return ReportError(e);
  std::fprintf(stderr, "dripr: campaign %s not found\n", QuotedEcho(id.view()).c_str());
  return kExitFailure;
}

struct CreateArgs {
  CampaignFields fields;
  bool json = false;
};

int Migrate(const Globals& g) {
  Context ctx;
  if (auto rc = LoadContext(g, ctx)) return *rc;
  StoreOptions o;
  o.database_url = ctx.config.database_url;
  o.required_parts = ctx.config.required_parts;
  o.pool_size = ctx.config.db_pool_size;
  o.retry_deadline = ctx.config.db_retry;
  o.clock = ctx.clock;
  o.ticker = ctx.ticker;
  o.random = ctx.random;
  o.quick_check = true;
  if (auto st = CheckDatabaseLocation(ctx.config, /*read_only=*/false); !st) {
    return ReportError(st.error());
  }
  auto store = OpenStore(o);
  if (!store) return ReportError(store.error());
  auto before = (*store)->SchemaVersion();
  if (!before) return ReportError(before.error());
  if (auto st = (*store)->Migrate(); !st) return ReportError(st.error());
  const std::string& csv = ctx.config.zip_csv_path;
  if (csv.empty()) {
    return ReportError(
        {ErrorCode::kFailedPrecondition, "data/zip_codes.csv not found (set DRIPR_DATA_DIR)"});
  }
  if (auto st = (*store)->LoadZipCodes(csv); !st) return ReportError(st.error());
  // The embedded bus's tables too, so read-only commands (`queues`, `dlq list`) work at once.
  if (ctx.config.bus == BusKind::kEmbedded) {
    int bus_rc = kExitOk;
    if (!OpenBusOrReport(ctx, bus_rc)) return bus_rc;
  }
  std::printf("schema at version %d (was %d); zip centroids loaded\n",
              (*store)->LatestSchemaVersion(), *before);
  return kExitOk;
}

int Create(const Globals& g, const CreateArgs& a) {
  Context ctx;
  if (auto rc = LoadContext(g, ctx)) return *rc;
  auto nc = CampaignFromFields(a.fields, "--");
  if (!nc) return ReportError(nc.error());
  int rc = kExitOk;
  auto store = OpenStoreOrReport(ctx, rc);
  if (!store) return rc;
  if (auto st = CheckLocatable(*store, *nc); !st) return ReportError(st.error());
  auto c = store->CreateCampaign(*nc);
  if (!c) return ReportError(c.error());
  if (a.json) {
    PrintJson(CampaignJson(*c));
  } else {
    std::printf("created campaign %s (zip %s, %s), DORMANT\n", TerminalSafe(c->id.view()).c_str(),
                c->zip_code.c_str(), nc->property ? "with property" : "no-address newsletter");
  }
  return kExitOk;
}

// The positional id of start/reset/retry/show, parsed once here (domain/campaign_id.h): a
// bad one is a bad argument (exit 2), as the dashboard API refuses it with a 400.
std::optional<CampaignId> ParseIdArgument(const std::string& text) {
  auto id = CampaignId::Parse(text);
  if (!id) {
    ReportUsage("id: " + id.error().message);
    return std::nullopt;
  }
  return std::move(*id);
}

// start / reset / retry: one transition, reported whether or not it applied.
using TransitionMethod = Result<TransitionOutcome> (Store::*)(const CampaignId&);
int Transition(const Globals& g, const std::string& text, bool json, TransitionMethod method) {
  const auto id = ParseIdArgument(text);
  if (!id) return kExitUsage;
  Context ctx;
  if (auto rc = LoadContext(g, ctx)) return *rc;
  int rc = kExitOk;
  auto store = OpenStoreOrReport(ctx, rc);
  if (!store) return rc;
  auto r = ((*store).*method)(*id);
  if (!r) return ReportCampaignError(r.error(), *id);
  if (r->changed) {
    // The instant the transition's transaction committed (DRIPR_LOG_LEVEL=debug): B1 measures
    // the fetcher's pickup from this line's ts (bench/run_bench.py).
    LogFields f;
    f.campaign_id = r->campaign.id.str();
    LogStructured(spdlog::level::debug, f,
                  fmt::format("transition committed: {} -> {}", ToString(*r->event->from_status),
                              ToString(r->campaign.status)));
  }
  if (json) {
    nlohmann::json j = CampaignJson(r->campaign);
    j["changed"] = r->changed;
    if (!r->changed) j["reason"] = r->reason;
    if (r->event) j["event"] = nlohmann::json::parse(EncodeStatusChange(*r->event));
    PrintJson(j);
  } else if (r->changed) {
    std::printf("campaign %s: %s -> %s (data cycle %lld), STATUS_CHANGE event queued\n",
                TerminalSafe(id->view()).c_str(),
                std::string(ToString(*r->event->from_status)).c_str(),
                std::string(ToString(r->campaign.status)).c_str(),
                static_cast<long long>(r->campaign.data_cycle));
  } else {
    std::printf("campaign %s unchanged: %s\n", TerminalSafe(id->view()).c_str(),
                TerminalSafe(r->reason).c_str());
  }
  return kExitOk;
}

int Show(const Globals& g, const std::string& text, bool json) {
  const auto id = ParseIdArgument(text);
  if (!id) return kExitUsage;
  Context ctx;
  if (auto rc = LoadContext(g, ctx)) return *rc;
  int rc = kExitOk;
  auto store = OpenStoreOrReport(ctx, rc, DbUse::kRead);
  if (!store) return rc;
  auto details = LoadDetails(*store, *id);
  if (!details) return ReportCampaignError(details.error(), *id);
  if (json) {
    PrintJson(DetailsJson(*details));
  } else {
    PrintDetails(*details, std::cout);
  }
  return kExitOk;
}

int List(const Globals& g, const std::string& status, bool json) {
  Context ctx;
  if (auto rc = LoadContext(g, ctx)) return *rc;
  std::optional<CampaignStatus> filter;
  if (!status.empty()) {
    filter = ParseCampaignStatus(status);
    if (!filter) return ReportUsage("--status: unknown campaign status " + QuotedEcho(status));
  }
  int rc = kExitOk;
  auto store = OpenStoreOrReport(ctx, rc, DbUse::kRead);
  if (!store) return rc;
  auto list = store->ListCampaigns(filter);
  if (!list) return ReportError(list.error());
  if (json) {
    nlohmann::json arr = nlohmann::json::array();
    for (const auto& c : *list) arr.push_back(CampaignJson(c));
    PrintJson(arr);
  } else {
    PrintCampaignTable(*list, std::cout);
  }
  return kExitOk;
}

}  // namespace

void AddCampaignCommands(CLI::App& app, Globals& g, int& exit_code) {
  auto* migrate = app.add_subcommand("migrate", "Create or upgrade the database schema");
  migrate->callback([&] { exit_code = Migrate(g); });

  auto* campaign = app.add_subcommand("campaign", "Create, start, inspect and reset campaigns");
  campaign->require_subcommand(1);

  auto args = std::make_shared<CreateArgs>();
  CampaignFields& f = args->fields;
  auto* create = campaign->add_subcommand("create", "Create a DORMANT campaign");
  create->add_option("--id", f.id, "Campaign id: 1-64 printable ASCII characters, no spaces")
      ->required();
  create->add_option("--zip", f.zip, "5-digit zip code (ZIP+4 accepted)")->required();
  create->add_option("--user-id", f.user_id, "Owning user");
  create->add_option("--address", f.address, "Subject property address");
  create->add_option("--lat", f.lat, "Subject property latitude (decimal, -90..90)")
      ->type_name("NUMBER");
  create->add_option("--lng", f.lng, "Subject property longitude (decimal, -180..180)")
      ->type_name("NUMBER");
  create
      ->add_option("--current-value", f.current_value,
                   "Subject property value in whole dollars (decimal digits; leading zeros "
                   "are decimal)")
      ->type_name("INT");
  create->add_flag("--json", args->json, "JSON output");
  create->callback([&g, &exit_code, args] { exit_code = Create(g, *args); });

  AddImportCommand(*campaign, g, exit_code);

  struct IdArgs {
    std::string id;
    bool json = false;
    std::string status;
  };
  auto ids = std::make_shared<IdArgs>();
  auto* start =
      campaign->add_subcommand("start", "DORMANT -> WAITING_FOR_DATA (publishes STATUS_CHANGE)");
  start->add_option("id", ids->id, "Campaign id")->required();
  start->add_flag("--json", ids->json, "JSON output");
  start->callback([&g, &exit_code, ids] {
    exit_code = Transition(g, ids->id, ids->json, &Store::StartCampaign);
  });

  auto* reset = campaign->add_subcommand("reset", "ERROR -> DORMANT");
  reset->add_option("id", ids->id, "Campaign id")->required();
  reset->add_flag("--json", ids->json, "JSON output");
  reset->callback([&g, &exit_code, ids] {
    exit_code = Transition(g, ids->id, ids->json, &Store::ResetCampaign);
  });

  auto* retry = campaign->add_subcommand(
      "retry", "ERROR -> WAITING_FOR_DATA in a new data cycle (publishes STATUS_CHANGE)");
  retry->add_option("id", ids->id, "Campaign id")->required();
  retry->add_flag("--json", ids->json, "JSON output");
  retry->callback([&g, &exit_code, ids] {
    exit_code = Transition(g, ids->id, ids->json, &Store::RetryCampaign);
  });

  auto* show =
      campaign->add_subcommand("show", "Status, parts, error, listings, sales, market data");
  show->add_option("id", ids->id, "Campaign id")->required();
  show->add_flag("--json", ids->json, "JSON output");
  show->callback([&g, &exit_code, ids] { exit_code = Show(g, ids->id, ids->json); });

  auto* list = campaign->add_subcommand("list", "List campaigns");
  list->add_option("--status", ids->status, "Only campaigns in this status");
  list->add_flag("--json", ids->json, "JSON output");
  list->callback([&g, &exit_code, ids] { exit_code = List(g, ids->status, ids->json); });
}

}  // namespace dripr::cli
