#pragma once
// The ops dashboard's HTTP side that needs no database or bus (docs/operations.md
// "Dashboard", docs/decisions/dashboard.md): its pages and embedded assets, the security
// headers every response carries, the rule that lets a POST action through, and reading
// figures back out of the /metrics exposition so the dashboard shows the very same numbers.
// The JSON API over the store and the bus is fetcher/dashboard_api.*.

#include <nlohmann/json.hpp>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "dripr/ops/ops_server.h"

namespace dripr {

// Who may act (POST): with a token (DRIPR_OPS_TOKEN) set, only requests carrying it in
// `Authorization: Bearer TOKEN` or `X-Dripr-Token: TOKEN`; without one, only when the ops
// server listens on a loopback address, and still only with one of those headers present
// (a header a cross-site form cannot send: CSRF-safe without cookies).
struct ActionGuard {
  std::string token;   // empty: none configured
  bool loopback_bind;  // the ops address is 127.0.0.0/8, ::1 or localhost
};

// True for 127.0.0.0/8, ::1 and "localhost".
bool IsLoopbackHost(std::string_view host);

// nullopt when `r` may act; otherwise the refusal (401 wrong/missing token, 403 no token
// configured on a non-loopback address), a JSON {"error": "..."} body.
std::optional<OpsResponse> CheckAction(const OpsRequest& r, const ActionGuard& guard);

// Adds the headers every dashboard response carries: a strict Content-Security-Policy (no
// inline script or style, nothing from another origin), nosniff, no referrer, no framing,
// and no caching for the API.
OpsResponse WithSecurityHeaders(OpsResponse response);

// {"error": message} with `status`, security headers included.
OpsResponse ApiError(int status, const std::string& message);
// `body` as JSON with status 200, security headers included.
OpsResponse ApiJson(const nlohmann::json& body, int status = 200);

// GET /, /campaigns, /campaigns/ID, /dead-letters (the single page; its script routes on the
// path, so every page survives a reload) and /assets/NAME.
void AddDashboardPages(OpsServer& server);

// The samples of the families `names` in a Prometheus text exposition:
// {"family": [{"labels": {...}, "value": v}, ...]} (histograms and unknown names skipped).
nlohmann::json MetricSamples(std::string_view exposition, std::span<const std::string_view> names);

// Parses a page size: empty → `fallback`; otherwise a decimal in 1..max, else nullopt.
std::optional<int> ParsePageLimit(const std::optional<std::string>& text, int fallback, int max);

}  // namespace dripr
