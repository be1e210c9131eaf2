#pragma once
// The ops dashboard's JSON API (GET/POST /api/..., docs/operations.md "Dashboard"), served by
// every `dripr data-fetcher` on its ops server. Each figure comes from the function the CLI
// uses for it (fetcher/reports.h, fetcher/dead_letters.h, Store::SampleGauges, the /metrics
// registry), so the dashboard, /metrics and the CLI agree. Handlers are plain functions of
// the request, so tests call them without HTTP. Every response is JSON; bad parameters are
// 400 with {"error": "..."}; store or bus failures 503.

#include <functional>
#include <vector>

#include "dripr/bus/bus.h"
#include "dripr/core/clock.h"
#include "dripr/core/metrics.h"
#include "dripr/fetcher/reconciler.h"
#include "dripr/fetcher/status_history.h"
#include "dripr/ops/dashboard.h"
#include "dripr/ops/ops_server.h"
#include "dripr/store/store.h"

namespace dripr {

// What a running fetcher adds to the overview; each may be null (not shown).
struct DashboardSources {
  const Reconciler* reconciler = nullptr;  // its last pass
  const StatusHistory* history = nullptr;  // the chart's samples (ReadinessProbe records them)
};

class DashboardApi {
 public:
  // Everything referenced must outlive the object (and the server it is registered on).
  DashboardApi(Store& store, Bus& bus, Metrics& metrics,
               std::function<std::vector<CheckStatus>()> readiness, ActionGuard guard,
               const Clock& clock, DashboardSources sources = {});

  // GET /api/overview: campaigns by status, queues + outbox + fetchers (= `dripr queues
  // --json`), readiness, the reconciler's last pass, and the counters of /metrics the
  // overview charts.
  OpsResponse Overview(const OpsRequest& r);
  // GET /api/history: the chart's samples of the last `window` (StatusHistory), oldest first:
  // {"interval_seconds", "window_seconds", "samples":[{"time", "counts":{STATUS: n}}]}.
  OpsResponse History(const OpsRequest& r);
  // GET /api/campaigns?status=S&q=TEXT&after=ID&limit=N: one page by id, "next" the `after`
  // of the following page (null on the last).
  OpsResponse Campaigns(const OpsRequest& r);
  // GET /api/campaign?id=ID: `dripr campaign show --json`.
  OpsResponse Campaign(const OpsRequest& r);
  // POST /api/campaign/reset?id=ID | /api/campaign/republish?id=ID.
  OpsResponse CampaignAction(const OpsRequest& r);
  // GET /api/dead-letters: per queue its DLQ's messages (`dripr dlq list --json` each).
  OpsResponse DeadLetters(const OpsRequest& r);
  // POST /api/dead-letters/redrive?queue=PART[&message_id=ID] (all = `dripr dlq redrive`;
  // one = that message, whatever its verdict) | /api/dead-letters/delete?queue=PART&message_id=ID.
  OpsResponse DeadLetterAction(const OpsRequest& r);

  // Registers the routes above and the pages (AddDashboardPages) on `server`.
  void Register(OpsServer& server);

 private:
  Store& store_;
  Bus& bus_;
  Metrics& metrics_;
  const std::function<std::vector<CheckStatus>()> readiness_;
  const ActionGuard guard_;
  const Clock& clock_;
  const DashboardSources sources_;
};

}  // namespace dripr
