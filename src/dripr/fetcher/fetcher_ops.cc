#include "dripr/fetcher/fetcher_ops.h"

#include "dripr/core/log.h"

#ifndef DRIPR_VERSION
#define DRIPR_VERSION "dev"
#endif

namespace dripr {

std::string_view DriprVersion() { return DRIPR_VERSION; }

Result<std::unique_ptr<FetcherOps>> FetcherOps::Start(const OpsAddress& address, Store& store,
                                                      Bus& bus, const DataFetcher& fetcher,
                                                      Metrics& metrics, const BuildInfo& build,
                                                      ReadinessOptions readiness) {
  std::unique_ptr<FetcherOps> ops(new FetcherOps());
  ops->host_ = address.host;
  metrics
      .Gauge(kBuildInfo, {{"version", build.version},
                          {"store", build.store},
                          {"bus", build.bus},
                          {"provider", build.provider}})
      .Set(1);
  ops->history_ = std::make_unique<StatusHistory>();
  readiness.history = ops->history_.get();
  ops->probe_ = std::make_unique<ReadinessProbe>(
      store, bus, [&fetcher] { return fetcher.running(); }, metrics, fetcher.ticker(), readiness);
  ops->server_ = std::make_unique<OpsServer>(fetcher.ticker());
  AddStandardRoutes(*ops->server_, metrics,
                    [probe = ops->probe_.get()] { return probe->Checks(); });
  ops->dashboard_ = std::make_unique<DashboardApi>(
      store, bus, metrics, [probe = ops->probe_.get()] { return probe->Checks(); },
      ActionGuard{address.token, IsLoopbackHost(address.host)}, SystemClock::Instance(),
      DashboardSources{&fetcher.reconciler(), ops->history_.get()});
  ops->dashboard_->Register(*ops->server_);
  DRIPR_ASSIGN_OR_RETURN(ops->port_, ops->server_->Start(address.host, address.port));
  ops->probe_->Start();
  DRIPR_LOG_INFO("ops server listening on {} (/healthz /readyz /metrics)", ops->url());
  DRIPR_LOG_INFO("dashboard: {}/ (actions {})", ops->url(),
                 !address.token.empty()         ? "need DRIPR_OPS_TOKEN"
                 : IsLoopbackHost(address.host) ? "open to local users"
                                                : "disabled: set DRIPR_OPS_TOKEN");
  return ops;
}

FetcherOps::~FetcherOps() {
  if (server_) server_->Stop();
  if (probe_) probe_->Stop();
}

std::string FetcherOps::url() const {
  const bool v6 = host_.find(':') != std::string::npos;
  return "http://" + (v6 ? "[" + host_ + "]" : host_) + ":" + std::to_string(port_);
}

}  // namespace dripr
