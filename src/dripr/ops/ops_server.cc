#include "dripr/ops/ops_server.h"

#include <httplib.h>
#include <netdb.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <nlohmann/json.hpp>
#include <thread>

#include "dripr/core/clock.h"
#include "dripr/core/log.h"
#include "dripr/core/thread_name.h"

namespace dripr {

namespace {

std::string Lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// Why host:port cannot be listened on, found by binding it with a socket of our own (httplib
// reports only that it failed): an address this host does not have, or a privileged port, is
// the configuration's fault (kInvalidArgument: exit 2); a port in use, or anything else, a
// run-time failure (kUnavailable: exit 1).
Error BindFailure(const std::string& host, int port) {
  const std::string where = "DRIPR_OPS_ADDR " + host + ":" + std::to_string(port) + ": ";
  const std::string choose = "; choose another port, 0 for any free one, or off";
  addrinfo hints{};
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
  addrinfo* found = nullptr;
  const std::string service = std::to_string(port);
  if (int rc = getaddrinfo(host.c_str(), service.c_str(), &hints, &found); rc != 0) {
    return Error{ErrorCode::kInvalidArgument,
                 where + "the host does not resolve (" + gai_strerror(rc) + ")"};
  }
  int err = 0;
  for (addrinfo* a = found; a != nullptr; a = a->ai_next) {
    const int fd = socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC, a->ai_protocol);
    if (fd < 0) {
      err = errno;
      continue;
    }
    int yes = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof(yes));
    err = bind(fd, a->ai_addr, a->ai_addrlen) == 0 ? 0 : errno;
    close(fd);
    if (err == 0) break;
  }
  freeaddrinfo(found);
  switch (err) {
    case EADDRNOTAVAIL:
      return Error{ErrorCode::kInvalidArgument,
                   where +
                       "not an address of this host; use one of its addresses, 127.0.0.1, "
                       "0.0.0.0 (every interface) or off"};
    case EACCES:
      return Error{
          ErrorCode::kInvalidArgument,
          where + "a port below 1024 needs privileges this process does not have" + choose};
    case EADDRINUSE:
      return Error{ErrorCode::kUnavailable, where + "the port is in use" + choose};
    default:
      return Error{ErrorCode::kUnavailable, where + "cannot listen there (" +
                                                (err != 0 ? std::strerror(err) : "refused") + ")" +
                                                choose};
  }
}

}  // namespace

std::string OpsRequest::Header(std::string_view name) const {
  auto it = headers.find(Lower(name));
  return it == headers.end() ? "" : it->second;
}

std::optional<std::string> OpsRequest::Param(const std::string& name) const {
  auto it = params.find(name);
  if (it == params.end()) return std::nullopt;
  return it->second;
}

struct OpsServer::Impl {
  explicit Impl(Ticker& t) : ticker(t) {}
  Ticker& ticker;
  httplib::Server server;
  std::thread thread;
};

namespace {

httplib::Server::Handler Adapt(OpsHandler handler) {
  return [handler = std::move(handler)](const httplib::Request& req, httplib::Response& res) {
    OpsRequest r{req.method, req.path, {}, req.body};
    for (const auto& [k, v] : req.params) r.params.emplace(k, v);
    for (const auto& [k, v] : req.headers) r.headers.emplace(Lower(k), v);
    r.peer_loopback = req.remote_addr == "::1" || req.remote_addr.starts_with("127.") ||
                      req.remote_addr.starts_with("::ffff:127.");
    OpsResponse out;
    try {  // a route's bug must not take the server down
      out = handler(r);
    } catch (const std::exception& e) {
      DRIPR_LOG_ERROR("ops: {} {} failed: {}", req.method, req.path, e.what());
      out = OpsResponse{500, "text/plain; charset=utf-8", "internal error\n"};
    }
    res.status = out.status;
    for (const auto& [k, v] : out.headers) res.set_header(k, v);
    res.set_content(out.body, out.content_type.c_str());
  };
}

}  // namespace

OpsServer::OpsServer(Ticker& ticker) : impl_(std::make_unique<Impl>(ticker)) {
  // httplib's default also sets SO_REUSEPORT, which lets a second process bind the same
  // port and silently share its connections: only SO_REUSEADDR (quick restarts) here.
  impl_->server.set_socket_options([](socket_t sock) {
    int yes = 1;
    setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof(yes));
  });
  impl_->server.set_keep_alive_max_count(100);
  impl_->server.set_read_timeout(5, 0);
  impl_->server.set_write_timeout(5, 0);
}

OpsServer::~OpsServer() { Stop(); }

void OpsServer::Get(const std::string& path, OpsHandler handler) {
  impl_->server.Get(path, Adapt(std::move(handler)));
}

void OpsServer::Post(const std::string& path, OpsHandler handler) {
  impl_->server.Post(path, Adapt(std::move(handler)));
}

Result<int> OpsServer::Start(const std::string& host, int port) {
  if (impl_->thread.joinable())
    return Fail(ErrorCode::kFailedPrecondition, "ops server already started");
  int bound = port == 0 ? impl_->server.bind_to_any_port(host) : port;
  if (port != 0 && !impl_->server.bind_to_port(host, port)) bound = -1;
  if (bound <= 0) return std::unexpected(BindFailure(host, port));
  impl_->thread = std::thread([this] {
    NameThisThread("ops-http");
    impl_->server.listen_after_bind();
  });
  // httplib's stop() does nothing until the listening loop has begun, so a Stop() right
  // after Start() would leave it accepting forever: return only once it runs.
  Ticker& ticker = impl_->ticker;
  const auto deadline = ticker.Now() + std::chrono::seconds(5);
  while (!impl_->server.is_running() && ticker.Now() < deadline) {
    ticker.SleepFor(std::chrono::milliseconds(1));
  }
  return bound;
}

void OpsServer::Stop() {
  if (!impl_->thread.joinable()) return;
  impl_->server.stop();
  impl_->thread.join();
}

void AddStandardRoutes(OpsServer& server, Metrics& metrics,
                       std::function<std::vector<CheckStatus>()> readiness) {
  server.Get("/healthz", [&metrics](const OpsRequest&) {
    auto problems = metrics.HeartbeatProblems();
    nlohmann::json j;
    j["status"] = problems.empty() ? "ok" : "unhealthy";
    if (!problems.empty()) j["problems"] = problems;
    return OpsResponse::Json(problems.empty() ? 200 : 503, j.dump() + "\n");
  });
  server.Get("/readyz", [readiness = std::move(readiness)](const OpsRequest&) {
    // Ordered: "status" first, then the failing checks, for people reading it with curl.
    nlohmann::ordered_json checks = nlohmann::ordered_json::object();
    nlohmann::ordered_json failing = nlohmann::ordered_json::object();
    for (const auto& c : readiness()) {
      checks[c.name] = c.ok ? "ok" : c.detail;
      if (!c.ok) failing[c.name] = c.detail;
    }
    nlohmann::ordered_json j;
    j["status"] = failing.empty() ? "ready" : "not ready";
    if (!failing.empty()) j["failing"] = failing;
    j["checks"] = checks;
    return OpsResponse::Json(
        failing.empty() ? 200 : 503,
        j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n");
  });
  server.Get("/metrics", [&metrics](const OpsRequest&) {
    return OpsResponse{200, "text/plain; version=0.0.4; charset=utf-8", metrics.Expose()};
  });
}

}  // namespace dripr
