#pragma once
// FetcherOps: the ops HTTP server of a `dripr data-fetcher` — the standard routes over the
// process's Metrics, its readiness probe, dripr_build_info, and the web dashboard
// (fetcher/dashboard_api.h). The caller (cmd/) keeps it
// alive for the life of the fetcher; more routes can be added through server().

#include <memory>
#include <string>

#include "dripr/bus/bus.h"
#include "dripr/core/metrics.h"
#include "dripr/fetcher/config.h"
#include "dripr/fetcher/dashboard_api.h"
#include "dripr/fetcher/data_fetcher.h"
#include "dripr/fetcher/readiness.h"
#include "dripr/ops/ops_server.h"
#include "dripr/store/store.h"

namespace dripr {

struct BuildInfo {
  std::string version;
  std::string store;     // sqlite | postgres
  std::string bus;       // embedded | aws
  std::string provider;  // sample | rentcast
};

// The version compiled into this binary.
std::string_view DriprVersion();

class FetcherOps {
 public:
  // Binds `address` (which must be enabled) and starts serving and probing. Everything
  // referenced must outlive the returned object. kUnavailable when it cannot listen.
  static Result<std::unique_ptr<FetcherOps>> Start(const OpsAddress& address, Store& store,
                                                   Bus& bus, const DataFetcher& fetcher,
                                                   Metrics& metrics, const BuildInfo& build,
                                                   ReadinessOptions readiness = {});
  ~FetcherOps();

  int port() const { return port_; }
  // http://host:port
  std::string url() const;

 private:
  FetcherOps() = default;

  std::string host_;
  int port_ = 0;
  std::unique_ptr<StatusHistory> history_;  // the overview chart's; the probe records
  std::unique_ptr<ReadinessProbe> probe_;
  std::unique_ptr<DashboardApi> dashboard_;
  std::unique_ptr<OpsServer> server_;  // stopped before the probe it reads
};

}  // namespace dripr
