#include "dripr/ops/dashboard.h"

#include <openssl/crypto.h>

#include <algorithm>

#include "dripr/core/number.h"
#include "dripr/core/text.h"
#include "dripr/ops/assets.h"

namespace dripr {
namespace {

using nlohmann::json;

constexpr std::string_view kCsp =
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
    "connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

std::string_view ContentType(std::string_view name) {
  if (name.ends_with(".html")) return "text/html; charset=utf-8";
  if (name.ends_with(".css")) return "text/css; charset=utf-8";
  if (name.ends_with(".js")) return "text/javascript; charset=utf-8";
  if (name.ends_with(".svg")) return "image/svg+xml";
  return "application/octet-stream";
}

std::optional<OpsAsset> FindAsset(std::string_view name) {
  for (const auto& a : OpsAssets()) {
    if (a.name == name) return a;
  }
  return std::nullopt;
}

OpsResponse Page() {
  auto index = FindAsset("index.html");
  if (!index) return ApiError(500, "dashboard not built in");
  return WithSecurityHeaders(
      {200, std::string(ContentType(index->name)), std::string(index->body)});
}

// Compares without an early exit, so response times do not reveal how much of a guess was right.
bool SameSecret(const std::string& a, const std::string& b) {
  return a.size() == b.size() && CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

// `name{a="x",b="y"} value` → labels and value; false for comments and malformed lines.
bool ParseSample(std::string_view line, std::string& name, json& labels, double& value) {
  size_t i = 0;
  while (i < line.size() && line[i] != '{' && line[i] != ' ') ++i;
  name = std::string(line.substr(0, i));
  labels = json::object();
  if (i < line.size() && line[i] == '{') {
    ++i;
    while (i < line.size() && line[i] != '}') {
      size_t eq = line.find('=', i);
      if (eq == std::string_view::npos || eq + 1 >= line.size() || line[eq + 1] != '"') {
        return false;
      }
      std::string key(line.substr(i, eq - i));
      std::string val;
      size_t j = eq + 2;
      for (; j < line.size() && line[j] != '"'; ++j) {
        if (line[j] == '\\' && j + 1 < line.size()) {
          ++j;
          val += line[j] == 'n' ? '\n' : line[j];
        } else {
          val += line[j];
        }
      }
      if (j >= line.size()) return false;
      labels[key] = val;
      i = j + 1;
      if (i < line.size() && line[i] == ',') ++i;
    }
    ++i;  // '}'
  }
  if (i >= line.size() || line[i] != ' ') return false;
  std::string number(line.substr(i + 1));
  char* end = nullptr;
  value = std::strtod(number.c_str(), &end);
  return end != number.c_str();
}

}  // namespace

bool IsLoopbackHost(std::string_view host) {
  return host == "localhost" || host == "::1" || host == "[::1]" || host.starts_with("127.");
}

std::optional<OpsResponse> CheckAction(const OpsRequest& r, const ActionGuard& guard) {
  std::string presented = r.Header("X-Dripr-Token");
  const std::string auth = r.Header("Authorization");
  const bool has_header =
      !presented.empty() || r.headers.count("x-dripr-token") > 0 || auth.starts_with("Bearer ");
  if (presented.empty() && auth.starts_with("Bearer ")) presented = auth.substr(7);
  if (!guard.token.empty()) {
    if (!SameSecret(presented, guard.token)) {
      return ApiError(401, "this action needs DRIPR_OPS_TOKEN (Authorization: Bearer TOKEN)");
    }
    return std::nullopt;
  }
  if (!guard.loopback_bind) {
    return ApiError(403,
                    "actions are disabled: the ops server listens on a non-loopback address and "
                    "DRIPR_OPS_TOKEN is not set");
  }
  if (!has_header) {
    return ApiError(401, "actions need an X-Dripr-Token header (any value while no token is set)");
  }
  return std::nullopt;
}

OpsResponse WithSecurityHeaders(OpsResponse response) {
  response.headers.emplace_back("Content-Security-Policy", std::string(kCsp));
  response.headers.emplace_back("X-Content-Type-Options", "nosniff");
  response.headers.emplace_back("Referrer-Policy", "no-referrer");
  response.headers.emplace_back("X-Frame-Options", "DENY");
  response.headers.emplace_back("Cache-Control", "no-store");
  return response;
}

OpsResponse ApiError(int status, const std::string& message) {
  return ApiJson(json{{"error", message}}, status);
}

OpsResponse ApiJson(const json& body, int status) {
  return WithSecurityHeaders(
      OpsResponse::Json(status, body.dump(-1, ' ', false, json::error_handler_t::replace) + "\n"));
}

void AddDashboardPages(OpsServer& server) {
  for (const char* path : {"/", "/campaigns", "/campaigns/(.+)", "/dead-letters"}) {
    server.Get(path, [](const OpsRequest&) { return Page(); });
  }
  server.Get("/assets/([a-z0-9_.-]+)", [](const OpsRequest& r) {
    const std::string name = r.path.substr(r.path.rfind('/') + 1);
    auto asset = FindAsset(name);
    if (!asset || name == "index.html") return ApiError(404, "no such asset");
    return WithSecurityHeaders(
        {200, std::string(ContentType(asset->name)), std::string(asset->body)});
  });
}

json MetricSamples(std::string_view exposition, std::span<const std::string_view> names) {
  json out = json::object();
  for (auto n : names) out[std::string(n)] = json::array();
  LineReader lines(exposition);
  for (std::string_view line; lines.Next(line);) {
    if (line.empty() || line[0] == '#') continue;
    std::string name;
    json labels;
    double value = 0;
    if (!ParseSample(line, name, labels, value)) continue;
    if (std::find(names.begin(), names.end(), name) == names.end()) continue;
    out[name].push_back({{"labels", labels}, {"value", value}});
  }
  return out;
}

std::optional<int> ParsePageLimit(const std::optional<std::string>& text, int fallback, int max) {
  if (!text || text->empty()) return fallback;
  auto n = ParseInt(*text, 1, max);
  if (!n) return std::nullopt;
  return static_cast<int>(*n);
}

}  // namespace dripr
