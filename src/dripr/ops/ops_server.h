#pragma once
// OpsServer: the data fetcher's operations HTTP server (cpp-httplib, one listening thread
// plus httplib's worker pool). Routes are plain functions over OpsRequest/OpsResponse, so
// more (a dashboard) can be added without touching the server:
//
//   server.Get("/dashboard", [&](const OpsRequest& r) { return OpsResponse::Html(...); });
//
// AddStandardRoutes() installs GET /healthz, /readyz and /metrics (docs/operations.md).
// Thread-safety: register routes before Start(); handlers run on httplib's worker threads,
// concurrently.

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "dripr/core/clock.h"
#include "dripr/core/error.h"
#include "dripr/core/metrics.h"

namespace dripr {

struct OpsRequest {
  std::string method;
  std::string path;
  std::multimap<std::string, std::string> params;  // query string
  std::string body;
  std::multimap<std::string, std::string> headers;  // names in lower case
  bool peer_loopback = false;                       // the connection comes from 127.0.0.0/8 or ::1

  // The first value of header `name` (case-insensitive), or "" when absent.
  std::string Header(std::string_view name) const;
  // The first value of query parameter `name`, or nullopt when absent.
  std::optional<std::string> Param(const std::string& name) const;
};

struct OpsResponse {
  int status = 200;
  std::string content_type = "text/plain; charset=utf-8";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;  // extra response headers

  static OpsResponse Json(int status, const std::string& body) {
    return {status, "application/json", body};
  }
};

using OpsHandler = std::function<OpsResponse(const OpsRequest&)>;

// One readiness check's state; `ok` false with a one-line `detail` naming the cause.
struct CheckStatus {
  std::string name;
  bool ok = false;
  std::string detail;
};

class OpsServer {
 public:
  // `ticker` (start-up wait) must outlive the server.
  explicit OpsServer(Ticker& ticker);
  ~OpsServer();  // stops the server
  OpsServer(const OpsServer&) = delete;
  OpsServer& operator=(const OpsServer&) = delete;

  void Get(const std::string& path, OpsHandler handler);
  void Post(const std::string& path, OpsHandler handler);

  // Binds host:port (port 0: any free port) and serves on a thread. Returns the bound
  // port. kUnavailable when the address cannot be bound (in use, not local).
  Result<int> Start(const std::string& host, int port);
  void Stop();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// GET /healthz: 200 {"status":"ok"} while every heartbeat of `metrics` is alive, else 503
//   {"status":"unhealthy","problems":[…]}.
// GET /readyz: 200 {"status":"ready","checks":{…}} when every check of `readiness()` is ok,
//   else 503 {"status":"not ready","failing":{name: detail},"checks":{…}}.
// GET /metrics: `metrics` in Prometheus text format 0.0.4.
// `metrics` and whatever `readiness` refers to must outlive the server.
void AddStandardRoutes(OpsServer& server, Metrics& metrics,
                       std::function<std::vector<CheckStatus>()> readiness);

}  // namespace dripr
