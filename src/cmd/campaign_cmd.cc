// dripr migrate | campaign create|start|show|list|reset|retry

#include <cmath>
#include <cstdio>
#include <iostream>

#include "cmd/cli.h"
#include "cmd/render.h"
#include "dripr/core/time.h"
#include "dripr/domain/event.h"

namespace dripr::cli {
namespace {

struct CreateArgs {
  std::string id;
  std::string zip;
  std::string user_id;
  std::optional<std::string> address;
  std::optional<double> lat;
  std::optional<double> lng;
  std::optional<int64_t> current_value;
  bool json = false;
};

// Checks the arguments a person typed; the message names the flag.
Result<NewCampaign> Validate(const CreateArgs& a) {
  NewCampaign c;
  if (a.id.empty() || a.id.size() > 64) {
    return Fail(ErrorCode::kInvalidArgument, "--id must be 1 to 64 characters");
  }
  for (unsigned char ch : a.id) {
    if (ch < 0x21 || ch > 0x7e) {
      return Fail(ErrorCode::kInvalidArgument,
                  "--id must be printable ASCII without spaces, got '" + a.id + "'");
    }
  }
  c.id = a.id;
  auto zip = NormalizeZip(a.zip);
  if (!zip) return Fail(ErrorCode::kInvalidArgument, "--zip: " + zip.error().message);
  c.zip_code = *zip;
  c.user_id = a.user_id;
  bool has_property = a.address || a.lat || a.lng || a.current_value;
  if (has_property) {
    if (!a.lat || !a.lng) {
      return Fail(ErrorCode::kInvalidArgument,
                  "a campaign with a property needs both --lat and --lng "
                  "(omit --address/--lat/--lng/--current-value for a no-address newsletter)");
    }
    if (!std::isfinite(*a.lat) || *a.lat < -90 || *a.lat > 90) {
      return Fail(ErrorCode::kInvalidArgument, "--lat must be between -90 and 90");
    }
    if (!std::isfinite(*a.lng) || *a.lng < -180 || *a.lng > 180) {
      return Fail(ErrorCode::kInvalidArgument, "--lng must be between -180 and 180");
    }
    if (a.current_value && *a.current_value <= 0) {
      return Fail(ErrorCode::kInvalidArgument,
                  "--current-value must be a positive number of dollars");
    }
    c.property = PropertyData{a.address.value_or(""), {*a.lat, *a.lng}, a.current_value};
  }
  return c;
}

int Migrate(const Globals& g) {
  Context ctx;
  if (auto rc = LoadContext(g, ctx)) return *rc;
  StoreOptions o;
  o.database_url = ctx.config.database_url;
  o.required_parts = ctx.config.required_parts;
  o.pool_size = ctx.config.db_pool_size;
  o.retry_deadline = ctx.config.db_retry;
  o.quick_check = true;
  if (auto st = CheckDatabaseLocation(ctx.config, /*read_only=*/false); !st) {
    return ReportError(st.error());
  }
  auto store = OpenStore(o);
  if (!store) return ReportError(store.error());
  auto before = (*store)->SchemaVersion();
  if (!before) return ReportError(before.error());
  if (auto st = (*store)->Migrate(); !st) return ReportError(st.error());
  std::string csv = ZipCsvPath(ctx.env);
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
  auto nc = Validate(a);
  if (!nc) return ReportError(nc.error());
  int rc = kExitOk;
  auto store = OpenStoreOrReport(ctx, rc);
  if (!store) return rc;
  auto c = store->CreateCampaign(*nc);
  if (!c) return ReportError(c.error());
  if (a.json) {
    PrintJson(CampaignJson(*c));
  } else {
    std::printf("created campaign %s (zip %s, %s), DORMANT\n", c->id.c_str(), c->zip_code.c_str(),
                nc->property ? "with property" : "no-address newsletter");
  }
  return kExitOk;
}

// start / reset / retry: one transition, reported whether or not it applied.
using TransitionMethod = Result<TransitionOutcome> (Store::*)(const std::string&);
int Transition(const Globals& g, const std::string& id, bool json, TransitionMethod method) {
  Context ctx;
  if (auto rc = LoadContext(g, ctx)) return *rc;
  int rc = kExitOk;
  auto store = OpenStoreOrReport(ctx, rc);
  if (!store) return rc;
  auto r = ((*store).*method)(id);
  if (!r) {
    if (r.error().code == ErrorCode::kNotFound) {
      std::fprintf(stderr, "dripr: campaign %s not found\n", id.c_str());
      return kExitFailure;
    }
    return ReportError(r.error());
  }
  if (json) {
    nlohmann::json j = CampaignJson(r->campaign);
    j["changed"] = r->changed;
    if (!r->changed) j["reason"] = r->reason;
    if (r->event) j["event"] = nlohmann::json::parse(EncodeStatusChange(*r->event));
    PrintJson(j);
  } else if (r->changed) {
    std::printf("campaign %s: %s -> %s (data cycle %lld), STATUS_CHANGE event queued\n", id.c_str(),
                std::string(ToString(*r->event->from_status)).c_str(),
                std::string(ToString(r->campaign.status)).c_str(),
                static_cast<long long>(r->campaign.data_cycle));
  } else {
    std::printf("campaign %s unchanged: %s\n", id.c_str(), r->reason.c_str());
  }
  return kExitOk;
}

int Show(const Globals& g, const std::string& id, bool json) {
  Context ctx;
  if (auto rc = LoadContext(g, ctx)) return *rc;
  int rc = kExitOk;
  auto store = OpenStoreOrReport(ctx, rc, DbUse::kRead);
  if (!store) return rc;
  auto details = LoadDetails(*store, id);
  if (!details) {
    if (details.error().code == ErrorCode::kNotFound) {
      std::fprintf(stderr, "dripr: campaign %s not found\n", id.c_str());
      return kExitFailure;
    }
    return ReportError(details.error());
  }
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
    if (!filter) return ReportUsage("--status: unknown campaign status '" + status + "'");
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
  auto* create = campaign->add_subcommand("create", "Create a DORMANT campaign");
  create->add_option("--id", args->id, "Campaign id")->required();
  create->add_option("--zip", args->zip, "5-digit zip code (ZIP+4 accepted)")->required();
  create->add_option("--user-id", args->user_id, "Owning user");
  create->add_option("--address", args->address, "Subject property address");
  create->add_option("--lat", args->lat, "Subject property latitude");
  create->add_option("--lng", args->lng, "Subject property longitude");
  create->add_option("--current-value", args->current_value, "Subject property value in dollars");
  create->add_flag("--json", args->json, "JSON output");
  create->callback([&g, &exit_code, args] { exit_code = Create(g, *args); });

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
