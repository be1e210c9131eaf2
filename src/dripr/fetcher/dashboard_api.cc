#include "dripr/fetcher/dashboard_api.h"

#include <array>
#include <climits>
#include <variant>

#include "dripr/core/time.h"
#include "dripr/domain/campaign_id.h"
#include "dripr/fetcher/dead_letters.h"
#include "dripr/fetcher/reports.h"

namespace dripr {
namespace {

using nlohmann::json;

constexpr int kDefaultPage = 50;
// The /metrics families the overview shows (rates are computed by the page between polls).
constexpr std::array<std::string_view, 5> kOverviewFamilies = {
    kMessagesHandled, kProviderRequests, kEventsPublished, kReconcilerActions, kInFlight};

// A store or bus failure: 404 for kNotFound, 409 for a refused state change, else 503.
OpsResponse FromError(const Error& e) {
  if (e.code == ErrorCode::kNotFound) return ApiError(404, e.message);
  if (e.code == ErrorCode::kInvalidArgument) return ApiError(400, e.message);
  if (e.code == ErrorCode::kFailedPrecondition) return ApiError(409, e.message);
  return ApiError(503, e.message);
}

// The `id` parameter: a valid campaign id, or the 400 to return.
std::variant<CampaignId, OpsResponse> IdParam(const OpsRequest& r) {
  auto text = r.Param("id");
  if (!text) return ApiError(400, "missing parameter id");
  auto id = CampaignId::Parse(*text);
  if (!id) return ApiError(400, "id: " + id.error().message);
  return std::move(*id);
}

std::variant<DataPart, OpsResponse> QueueParam(const OpsRequest& r) {
  auto q = r.Param("queue");
  if (!q) return ApiError(400, "missing parameter queue");
  auto part = ParseDataPart(*q);
  if (!part) {
    return ApiError(400, "queue must be local_market_data, active_listings or recent_sales");
  }
  return *part;
}

json OutcomeJson(const TransitionOutcome& o) {
  return {{"changed", o.changed}, {"reason", o.reason}, {"campaign", CampaignJson(o.campaign)}};
}

json CountsJson(const StatusCounts& counts) {
  json j = json::object();
  for (size_t i = 0; i < kAllCampaignStatuses.size(); ++i) {
    j[std::string(ToString(kAllCampaignStatuses[i]))] = counts[i];
  }
  return j;
}

// {"enabled", "interval_seconds", "last_pass": null | {"time", "age_seconds", "ok", "error",
// "acted", "lease_lost", "looked_at", "actions": {ACTION: n}}}.
json ReconcilerJson(const Reconciler* r, SysTime now) {
  if (r == nullptr || r->interval().count() <= 0) {
    return {{"enabled", false}, {"interval_seconds", 0}, {"last_pass", nullptr}};
  }
  json last = nullptr;
  if (auto p = r->LastPass()) {
    json actions = json::object();
    for (ReconcileAction a : kAllReconcileActions) {
      actions[std::string(ToString(a))] = p->counts[static_cast<size_t>(a)];
    }
    last = {{"time", FormatIso8601(p->at)},
            {"age_seconds", std::chrono::duration<double>(now - p->at).count()},
            {"ok", p->ok},
            {"error", p->ok ? json(nullptr) : json(p->error)},
            {"acted", p->acted},
            {"lease_lost", p->lease_lost},
            {"looked_at", p->looked_at},
            {"actions", actions}};
  }
  return {{"enabled", true}, {"interval_seconds", r->interval().count()}, {"last_pass", last}};
}

}  // namespace

DashboardApi::DashboardApi(Store& store, Bus& bus, Metrics& metrics,
                           std::function<std::vector<CheckStatus>()> readiness, ActionGuard guard,
                           const Clock& clock, DashboardSources sources)
    : store_(store),
      bus_(bus),
      metrics_(metrics),
      readiness_(std::move(readiness)),
      guard_(std::move(guard)),
      clock_(clock),
      sources_(sources) {}

OpsResponse DashboardApi::Overview(const OpsRequest&) {
  const SysTime now = clock_.Now();
  auto gauges = store_.SampleGauges();
  if (!gauges) return FromError(gauges.error());
  auto queues = QueuesReport(bus_, store_, now);
  if (!queues) return FromError(queues.error());
  json failing = json::object();
  for (const auto& c : readiness_()) {
    if (!c.ok) failing[c.name] = c.detail;
  }
  return ApiJson({{"time", FormatIso8601(now)},
                  {"campaigns_by_status", CountsJson(CountsByStatus(gauges->campaigns_by_status))},
                  {"queues", (*queues)["queues"]},
                  {"outbox", (*queues)["outbox"]},
                  {"fetchers", (*queues)["fetchers"]},
                  {"ready", failing.empty()},
                  {"failing", failing},
                  {"reconciler", ReconcilerJson(sources_.reconciler, now)},
                  {"metrics", MetricSamples(metrics_.Expose(), kOverviewFamilies)}});
}

OpsResponse DashboardApi::History(const OpsRequest&) {
  const SysTime now = clock_.Now();
  json samples = json::array();
  int64_t interval = 0, window = 0;
  if (const StatusHistory* h = sources_.history) {
    interval = h->interval().count();
    window = h->window().count();
    for (const auto& s : h->Samples(now)) {
      samples.push_back({{"time", FormatIso8601(s.at)}, {"counts", CountsJson(s.counts)}});
    }
  }
  return ApiJson(
      {{"interval_seconds", interval}, {"window_seconds", window}, {"samples", samples}});
}

OpsResponse DashboardApi::Campaigns(const OpsRequest& r) {
  CampaignPageQuery q;
  if (auto s = r.Param("status"); s && !s->empty()) {
    q.status = ParseCampaignStatus(*s);
    if (!q.status) return ApiError(400, "unknown status '" + s->substr(0, 40) + "'");
  }
  if (auto text = r.Param("q")) {
    if (text->size() > 64) return ApiError(400, "q: at most 64 characters");
    q.search = *text;
  }
  if (auto after = r.Param("after"); after && !after->empty()) {
    auto after_id = CampaignId::Parse(*after);
    if (!after_id) return ApiError(400, "after: " + after_id.error().message);
    q.after_id = std::move(*after_id);
  }
  auto limit = ParsePageLimit(r.Param("limit"), kDefaultPage, kMaxCampaignPage);
  if (!limit) {
    return ApiError(400,
                    "limit must be a whole number from 1 to " + std::to_string(kMaxCampaignPage));
  }
  // One row more than asked says whether there is a next page.
  q.limit = *limit + 1;
  auto rows = store_.ListCampaignsPage(q);
  if (!rows) return FromError(rows.error());
  json next = nullptr;
  if (static_cast<int>(rows->size()) > *limit) {
    rows->resize(*limit);
    next = rows->back().id.str();
  }
  json list = json::array();
  for (const auto& c : *rows) list.push_back(CampaignJson(c));
  return ApiJson({{"campaigns", list}, {"next", next}, {"limit", *limit}});
}

OpsResponse DashboardApi::Campaign(const OpsRequest& r) {
  auto id = IdParam(r);
  if (auto* refused = std::get_if<OpsResponse>(&id)) return *refused;
  auto d = LoadDetails(store_, std::get<CampaignId>(id));
  if (!d) return FromError(d.error());
  return ApiJson(DetailsJson(*d));
}

OpsResponse DashboardApi::CampaignAction(const OpsRequest& r) {
  if (auto refused = CheckAction(r, guard_)) return *refused;
  auto id_or = IdParam(r);
  if (auto* refused = std::get_if<OpsResponse>(&id_or)) return *refused;
  const CampaignId& id = std::get<CampaignId>(id_or);
  Result<TransitionOutcome> out = Fail(ErrorCode::kInvalidArgument, "unknown action");
  if (r.path.ends_with("/reset")) {
    out = store_.ResetCampaign(id);
  } else if (r.path.ends_with("/republish")) {
    // The reconciler's republish, asked for now: the cycle's event again (same event_id).
    ReconcileSettings now_settings;
    now_settings.stuck_after = std::chrono::seconds(0);
    now_settings.max_republish = INT_MAX;
    out = store_.ReconcileCampaign(id, ReconcileAction::kRepublish, now_settings);
  }
  if (!out) return FromError(out.error());
  return ApiJson(OutcomeJson(*out));
}

OpsResponse DashboardApi::DeadLetters(const OpsRequest&) {
  const SysTime now = clock_.Now();
  json queues = json::array();
  for (DataPart p : kAllDataParts) {
    Queue& dlq = bus_.DeadLetterQueue(p);
    auto msgs = PeekQueue(dlq);
    if (!msgs) return FromError(msgs.error().Wrap(dlq.Name()));
    json list = json::array();
    for (const auto& m : *msgs) list.push_back(DeadLetterJson(m, now));
    queues.push_back({{"part", ToString(p)},
                      {"dlq", dlq.Name()},
                      {"queue", bus_.WorkQueue(p).Name()},
                      {"messages", list}});
  }
  return ApiJson({{"queues", queues}});
}

OpsResponse DashboardApi::DeadLetterAction(const OpsRequest& r) {
  if (auto refused = CheckAction(r, guard_)) return *refused;
  auto part_or = QueueParam(r);
  if (auto* refused = std::get_if<OpsResponse>(&part_or)) return *refused;
  const DataPart part = std::get<DataPart>(part_or);
  Queue& dlq = bus_.DeadLetterQueue(part);
  Queue& work = bus_.WorkQueue(part);
  const auto message_id = r.Param("message_id");
  if (message_id && (message_id->empty() || message_id->size() > 128)) {
    return ApiError(400, "message_id: 1 to 128 characters");
  }
  auto entry_json = [](const RedriveEntry& e) {
    json j = {{"message_id", e.message_id},
              {"campaign_id", e.campaign_id.str()},
              {"action", ToString(e.action)}};
    if (!e.queue.empty()) j["queue"] = e.queue;
    if (!e.reason.empty()) j["reason"] = e.reason;
    return j;
  };
  const bool del = r.path.ends_with("/delete");
  if (del && !message_id) return ApiError(400, "missing parameter message_id");
  if (message_id) {
    auto e = ActOnDeadLetter(dlq, work, *message_id,
                             del ? DeadLetterOp::kDelete : DeadLetterOp::kRedrive);
    if (!e) return FromError(e.error());
    return ApiJson({{"dlq", dlq.Name()}, {"queue", work.Name()}, {"messages", {entry_json(*e)}}});
  }
  auto entries = RedriveDeadLetters(dlq, work, part, store_, {});
  if (!entries) return FromError(entries.error());
  json arr = json::array();
  for (const auto& e : *entries) arr.push_back(entry_json(e));
  return ApiJson({{"dlq", dlq.Name()}, {"queue", work.Name()}, {"messages", arr}});
}

void DashboardApi::Register(OpsServer& server) {
  AddDashboardPages(server);
  server.Get("/api/overview", [this](const OpsRequest& r) { return Overview(r); });
  server.Get("/api/history", [this](const OpsRequest& r) { return History(r); });
  server.Get("/api/campaigns", [this](const OpsRequest& r) { return Campaigns(r); });
  server.Get("/api/campaign", [this](const OpsRequest& r) { return Campaign(r); });
  server.Post("/api/campaign/(reset|republish)",
              [this](const OpsRequest& r) { return CampaignAction(r); });
  server.Get("/api/dead-letters", [this](const OpsRequest& r) { return DeadLetters(r); });
  server.Post("/api/dead-letters/(redrive|delete)",
              [this](const OpsRequest& r) { return DeadLetterAction(r); });
}

}  // namespace dripr
