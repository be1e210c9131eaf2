#include "support/fake_rentcast.h"

#include <fmt/format.h>
#include <httplib.h>

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cmath>
#include <set>

namespace dripr::fake {
namespace {

using nlohmann::json;

std::string ErrorBody(int status, const std::string& error, const std::string& message) {
  return json{{"status", status}, {"error", error}, {"message", message}}.dump();
}

const char* ErrorToken(int status) {
  switch (status) {
    case 400:
      return "resource/bad-request";
    case 401:
      return "auth/api-key-invalid";
    case 404:
      return "resource/not-found";
    case 405:
      return "resource/method-not-allowed";
    case 429:
      return "auth/rate-limit-exceeded";
    case 504:
      return "server/timeout";
    default:
      return "server/internal-error";
  }
}

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// The parameter problems of the real API: every answer is 400 resource/bad-request.
struct BadRequest {
  std::string message;
};

bool ParseDouble(const std::string& s, double& out) {
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc() && p == s.data() + s.size() && std::isfinite(out);
}

bool ParseInt(const std::string& s, long long& out) {
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc() && p == s.data() + s.size();
}

std::optional<std::string> Param(const httplib::Request& req, const char* name) {
  if (!req.has_param(name)) return std::nullopt;
  return req.get_param_value(name);
}

long long IntParam(const httplib::Request& req, const char* name, long long fallback, long long min,
                   long long max) {
  auto v = Param(req, name);
  if (!v) return fallback;
  long long out = 0;
  if (!ParseInt(*v, out) || out < min || out > max) {
    throw BadRequest{fmt::format("Invalid {} parameter '{}': must be an integer between {} and {}",
                                 name, *v, min, max)};
  }
  return out;
}

std::optional<double> DoubleParam(const httplib::Request& req, const char* name, double min,
                                  double max) {
  auto v = Param(req, name);
  if (!v) return std::nullopt;
  double out = 0;
  if (!ParseDouble(*v, out) || out < min || out > max) {
    throw BadRequest{fmt::format("Invalid {} parameter '{}': must be a number between {} and {}",
                                 name, *v, min, max)};
  }
  return out;
}

bool ValidZip(const std::string& z) {
  return z.size() == 5 && z.find_first_not_of("0123456789") == std::string::npos;
}

// "min:max" with "*" for an open end.
std::pair<int, int> ParseRange(const std::string& v) {
  size_t colon = v.find(':');
  auto bad = [&] {
    return BadRequest{"Invalid saleDateRange parameter '" + v + "': expected min:max"};
  };
  if (colon == std::string::npos) throw bad();
  std::string lo = v.substr(0, colon), hi = v.substr(colon + 1);
  long long a = 0, b = 1 << 30;
  if (lo != "*" && (!ParseInt(lo, a) || a < 0)) throw bad();
  if (hi != "*" && (!ParseInt(hi, b) || b < 0)) throw bad();
  return {static_cast<int>(a), static_cast<int>(std::min<long long>(b, 1 << 30))};
}

uint64_t SplitMix64(uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

// A body cut in half: what a dropped connection or a broken proxy hands a client.
std::string Truncated(const std::string& body) {
  std::string cut = body.substr(0, body.size() / 2);
  return cut.empty() ? "[{\"id\":" : cut;
}

}  // namespace

std::string FakeChaos::ToString() const {
  return fmt::format("seed={},5xx={},429={},timeout={},malformed={},timeout_ms={},retry_after={}",
                     seed, p_5xx, p_429, p_timeout, p_malformed, timeout_ms, retry_after);
}

Result<FakeChaos> ParseFakeChaos(const std::string& spec) {
  FakeChaos c;
  auto bad = [&](const std::string& why) {
    return Fail(ErrorCode::kInvalidArgument, "bad chaos spec '" + spec + "': " + why);
  };
  size_t start = 0;
  while (start <= spec.size()) {
    size_t comma = spec.find(',', start);
    std::string item =
        spec.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    start = comma == std::string::npos ? spec.size() + 1 : comma + 1;
    size_t eq = item.find('=');
    if (eq == std::string::npos) return bad("expected key=value, got '" + item + "'");
    std::string key = item.substr(0, eq), value = item.substr(eq + 1);
    if (key == "seed" || key == "timeout_ms" || key == "retry_after") {
      long long v = 0;
      if (!ParseInt(value, v) || v < 0 || (key != "seed" && v > 600000)) {
        return bad(key + " must be a non-negative integer");
      }
      if (key == "seed") c.seed = static_cast<uint64_t>(v);
      if (key == "timeout_ms") c.timeout_ms = static_cast<int>(v);
      if (key == "retry_after") c.retry_after = static_cast<int>(v);
      continue;
    }
    double p = 0;
    if (!ParseDouble(value, p) || p < 0 || p > 1) return bad(key + " must be a number in 0..1");
    if (key == "5xx") {
      c.p_5xx = p;
    } else if (key == "429") {
      c.p_429 = p;
    } else if (key == "timeout") {
      c.p_timeout = p;
    } else if (key == "malformed") {
      c.p_malformed = p;
    } else {
      return bad("unknown key '" + key +
                 "' (seed, 5xx, 429, timeout, malformed, timeout_ms, "
                 "retry_after)");
    }
  }
  if (c.p_5xx + c.p_429 + c.p_timeout + c.p_malformed > 1 + 1e-9) {
    return bad("the probabilities add up to more than 1");
  }
  return c;
}

Result<FakeFault> FakeFaultFromJson(const json& j) {
  if (!j.is_object() || !j.contains("kind") || !j["kind"].is_string()) {
    return Fail(ErrorCode::kInvalidArgument, "a fault needs a string \"kind\"");
  }
  static const std::set<std::string> kKinds = {"latency",   "429", "500",   "502", "503", "504",
                                               "malformed", "404", "empty", "401", "400"};
  FakeFault f;
  f.kind = j["kind"];
  if (!kKinds.contains(f.kind)) {
    return Fail(ErrorCode::kInvalidArgument, "unknown fault kind '" + f.kind + "'");
  }
  auto get_int = [&](const char* k, int& out) -> Status {
    if (!j.contains(k)) return Ok();
    if (!j[k].is_number_integer()) {
      return Fail(ErrorCode::kInvalidArgument,
                  std::string("fault \"") + k + "\" must be an integer");
    }
    out = j[k].get<int>();
    return Ok();
  };
  DRIPR_TRY(get_int("count", f.count));
  DRIPR_TRY(get_int("latency_ms", f.latency_ms));
  DRIPR_TRY(get_int("retry_after", f.retry_after));
  if (j.contains("path") && j["path"].is_string()) f.path = j["path"];
  return f;
}

Result<FakeFault> ParseFakeFault(const std::string& spec) {
  std::vector<std::string> parts;
  size_t start = 0;
  while (true) {
    size_t c = spec.find(':', start);
    parts.push_back(spec.substr(start, c == std::string::npos ? std::string::npos : c - start));
    if (c == std::string::npos) break;
    start = c + 1;
  }
  json j = {{"kind", parts[0]}};
  const char* names[] = {"count", "latency_ms", "retry_after"};
  for (size_t i = 1; i < parts.size() && i <= 3; ++i) {
    long long v = 0;
    if (!ParseInt(parts[i], v)) {
      return Fail(ErrorCode::kInvalidArgument,
                  "bad --fault '" + spec + "': expected kind[:count[:latency_ms[:retry_after]]]");
    }
    j[names[i - 1]] = v;
  }
  return FakeFaultFromJson(j);
}

FakeRentCastServer::FakeRentCastServer(FakeRentCastConfig config) : config_(std::move(config)) {
  std::lock_guard lock(mu_);
  RebuildWorld();
}

FakeRentCastServer::~FakeRentCastServer() { Stop(); }

void FakeRentCastServer::RebuildWorld() {
  world_ = std::make_shared<const FakeWorld>(config_.world, zips_);
}

Result<int> FakeRentCastServer::Start(const std::string& host, int port) {
  if (server_) return Fail(ErrorCode::kFailedPrecondition, "fake RentCast already started");
  int keep_alive = 0;
  int threads = 1;
  {
    std::lock_guard lock(mu_);
    keep_alive = config_.keep_alive_seconds;
    threads = std::max(1, config_.threads);
    if (!config_.zip_centroids_csv.empty()) {
      DRIPR_ASSIGN_OR_RETURN(zips_, ZipTable::Load(config_.zip_centroids_csv));
      RebuildWorld();
    }
    stopping_ = false;
  }
  server_ = std::make_unique<httplib::Server>();
  server_->new_task_queue = [threads] { return new httplib::ThreadPool(threads); };
  server_->set_tcp_nodelay(true);
  server_->set_keep_alive_timeout(keep_alive);
  auto handler = [this](const httplib::Request& req, httplib::Response& res) { Handle(req, res); };
  server_->Get(".*", handler);
  server_->Post(".*", handler);
  server_->Put(".*", handler);
  server_->Delete(".*", handler);
  int bound =
      port == 0 ? server_->bind_to_any_port(host) : (server_->bind_to_port(host, port) ? port : -1);
  if (bound <= 0) {
    server_.reset();
    return Fail(ErrorCode::kUnavailable,
                "fake RentCast cannot listen on " + host + ":" + std::to_string(port));
  }
  host_ = host;
  port_ = bound;
  thread_ = std::thread([this] { server_->listen_after_bind(); });
  // httplib's stop() is a no-op until the accept loop runs: wait for it, so that a Stop()
  // right after Start() cannot hang.
  auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (!server_->is_running() && std::chrono::steady_clock::now() < give_up) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return port_;
}

void FakeRentCastServer::Stop() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
    held_ = false;
  }
  released_.notify_all();
  if (server_) server_->stop();
  if (thread_.joinable()) thread_.join();
  server_.reset();
}

std::string FakeRentCastServer::base_url() const {
  return "http://" + (host_.empty() ? std::string("127.0.0.1") : host_) + ":" +
         std::to_string(port_) + "/v1";
}

std::string FakeRentCastServer::api_key() const {
  std::lock_guard lock(mu_);
  return config_.api_key;
}

void FakeRentCastServer::AddFault(FakeFault fault) {
  std::lock_guard lock(mu_);
  faults_.push_back(std::move(fault));
}

void FakeRentCastServer::ClearFaults() {
  std::lock_guard lock(mu_);
  faults_.clear();
}

void FakeRentCastServer::SetEmptyAs404(bool v) {
  std::lock_guard lock(mu_);
  config_.empty_as_404 = v;
}

void FakeRentCastServer::SetFixedCount(int n) {
  std::lock_guard lock(mu_);
  config_.world.fixed_count = n;
  RebuildWorld();
}

void FakeRentCastServer::SetCanned(const std::string& path, int status, std::string body) {
  std::lock_guard lock(mu_);
  canned_.push_back(Canned{path, status, std::move(body)});
}

void FakeRentCastServer::ClearCanned() {
  std::lock_guard lock(mu_);
  canned_.clear();
}

void FakeRentCastServer::SetChaos(FakeChaos chaos) {
  std::lock_guard lock(mu_);
  chaos_ = chaos;
}

void FakeRentCastServer::ClearChaos() {
  std::lock_guard lock(mu_);
  chaos_.reset();
}

json FakeRentCastServer::Stats() const {
  static const char* kKinds[] = {"ok", "5xx", "429", "timeout", "malformed", "fault"};
  auto zero = [] {
    json j = json::object();
    for (const char* k : kKinds) j[k] = 0;
    return j;
  };
  json by_kind = zero(), by_path = json::object(), by_status = json::object();
  std::lock_guard lock(mu_);
  for (const FakeRequestLog& r : log_) {
    std::string kind = r.injected.empty() ? "ok" : r.injected;
    std::string path = r.path.starts_with("/v1/") ? r.path.substr(3) : r.path;
    by_kind[kind] = by_kind[kind].get<int64_t>() + 1;
    if (!by_path.contains(path)) {
      by_path[path] = zero();
      by_path[path]["requests"] = 0;
    }
    json& p = by_path[path];
    p["requests"] = p["requests"].get<int64_t>() + 1;
    p[kind] = p[kind].get<int64_t>() + 1;
    std::string status = std::to_string(r.status);
    by_status[status] = by_status.value(status, int64_t{0}) + 1;
  }
  return {{"requests", log_.size()},
          {"in_flight", in_flight_},
          {"chaos", chaos_ ? json(chaos_->ToString()) : json(nullptr)},
          {"by_kind", by_kind},
          {"by_path", by_path},
          {"by_status", by_status}};
}

std::string FakeRentCastServer::ChaosKind(size_t seq, int& status) const {
  if (!chaos_) return "";
  const FakeChaos& c = *chaos_;
  uint64_t draw = SplitMix64(c.seed ^ SplitMix64(seq));
  double u = static_cast<double>(draw >> 11) * 0x1.0p-53;
  static const int k5xx[] = {500, 502, 503, 504};
  if (u < c.p_5xx) {
    status = k5xx[draw & 3];
    return "5xx";
  }
  u -= c.p_5xx;
  if (u < c.p_429) {
    status = 429;
    return "429";
  }
  u -= c.p_429;
  if (u < c.p_timeout) {
    status = 504;
    return "timeout";
  }
  u -= c.p_timeout;
  if (u < c.p_malformed) {
    status = 200;
    return "malformed";
  }
  return "";
}

std::vector<FakeRequestLog> FakeRentCastServer::Requests() const {
  std::lock_guard lock(mu_);
  return log_;
}

void FakeRentCastServer::ClearRequests() {
  std::lock_guard lock(mu_);
  log_base_ += log_.size();
  log_.clear();
}

int FakeRentCastServer::InFlight() const {
  std::lock_guard lock(mu_);
  return in_flight_;
}

void FakeRentCastServer::Hold() {
  std::lock_guard lock(mu_);
  held_ = true;
}

void FakeRentCastServer::Release() {
  {
    std::lock_guard lock(mu_);
    held_ = false;
  }
  released_.notify_all();
}

std::shared_ptr<const FakeWorld> FakeRentCastServer::world() const {
  std::lock_guard lock(mu_);
  return world_;
}

std::optional<FakeFault> FakeRentCastServer::TakeFault(const std::string& path) {
  std::lock_guard lock(mu_);
  for (auto it = faults_.begin(); it != faults_.end(); ++it) {
    if (!it->path.empty() && path.find(it->path) == std::string::npos) continue;
    FakeFault f = *it;
    if (it->count > 0 && --it->count == 0) faults_.erase(it);
    return f;
  }
  return std::nullopt;
}

void FakeRentCastServer::Handle(const httplib::Request& req, httplib::Response& res) {
  if (req.path.starts_with("/__admin/")) {
    HandleAdmin(req, res);
    return;
  }
  if (req.path == "/__stats") {
    res.status = 200;
    res.set_content(Stats().dump(), "application/json");
    return;
  }
  size_t seq;
  {
    std::unique_lock lock(mu_);
    seq = log_base_ + log_.size();
    size_t q = req.target.find('?');
    log_.push_back(FakeRequestLog{NowMs(),
                                  req.method,
                                  req.path,
                                  q == std::string::npos ? "" : req.target.substr(q + 1),
                                  {req.params.begin(), req.params.end()},
                                  0,
                                  ""});
    ++in_flight_;
    released_.wait(lock, [&] { return !held_ || stopping_; });
  }

  std::string path = req.path.starts_with("/v1/") ? req.path.substr(3) : req.path;
  int status = 0;
  std::string body;
  std::optional<FakeFault> fault = TakeFault(path);
  std::string injected = fault ? "fault" : "";
  int chaos_status = 0;
  int retry_after = -1;
  if (!fault) {
    std::unique_lock lock(mu_);
    injected = ChaosKind(seq, chaos_status);
    if (!injected.empty()) retry_after = chaos_->retry_after;
    if (injected == "timeout") {
      // Held past the client's timeout (released early only by Stop()).
      released_.wait_for(lock, std::chrono::milliseconds(chaos_->timeout_ms),
                         [&] { return stopping_; });
    }
  }
  if (fault && fault->latency_ms > 0) {
    std::this_thread::sleep_for(std::chrono::milliseconds(fault->latency_ms));
  }
  std::string kind = fault ? fault->kind : injected == "malformed" ? "malformed" : "";
  if (injected == "5xx" || injected == "429" || injected == "timeout") {
    kind = std::to_string(chaos_status);
  } else if (fault) {
    retry_after = fault->retry_after;
  }
  if (kind == "429" || kind == "500" || kind == "502" || kind == "503" || kind == "504" ||
      kind == "404" || kind == "401" || kind == "400") {
    status = std::stoi(kind);
    body = ErrorBody(status, ErrorToken(status), "Injected fault " + kind);
    if ((status == 429 || status == 503) && retry_after >= 0) {
      res.set_header("Retry-After", std::to_string(retry_after));
    }
  } else if (kind == "empty") {
    status = 200;
    body = "[]";
  } else {
    std::tie(status, body) = Answer(req, path);
    if (kind == "malformed") {
      status = 200;
      body = Truncated(body);
    }
  }
  res.status = status;
  res.set_content(body, "application/json");

  std::lock_guard lock(mu_);
  --in_flight_;
  if (seq >= log_base_ && seq - log_base_ < log_.size()) {
    log_[seq - log_base_].status = status;
    log_[seq - log_base_].injected = injected;
  }
}

std::pair<int, std::string> FakeRentCastServer::Answer(const httplib::Request& req,
                                                       const std::string& path) {
  std::shared_ptr<const FakeWorld> world;
  std::string key;
  bool empty_as_404;
  {
    std::lock_guard lock(mu_);
    for (const Canned& c : canned_) {
      if (path.find(c.path) != std::string::npos) return {c.status, c.body};
    }
    world = world_;
    key = config_.api_key;
    empty_as_404 = config_.empty_as_404;
  }
  if (req.method != "GET") {
    return {405, ErrorBody(405, ErrorToken(405), "Method " + req.method + " not allowed")};
  }
  if (!req.has_header("X-Api-Key")) {
    return {401, ErrorBody(401, "auth/api-key-missing", "No API key provided in X-Api-Key")};
  }
  if (req.get_header_value("X-Api-Key") != key) {
    return {401, ErrorBody(401, "auth/api-key-invalid", "Invalid API key")};
  }
  auto empty = [&]() -> std::pair<int, std::string> {
    if (empty_as_404) {
      return {404, ErrorBody(404, ErrorToken(404), "No data found for the specified parameters")};
    }
    return {200, "[]"};
  };
  try {
    if (path == "/markets") {
      auto zip = Param(req, "zipCode");
      if (!zip || !ValidZip(*zip)) throw BadRequest{"Invalid or missing zipCode parameter"};
      std::string type = Param(req, "dataType").value_or("All");
      if (type != "All" && type != "Sale" && type != "Rental") {
        throw BadRequest{"Invalid dataType parameter '" + type + "'"};
      }
      int months = static_cast<int>(IntParam(req, "historyRange", 12, 1, 120));
      auto market = world->Market(*zip, months, type);
      if (!market) {
        return {404, ErrorBody(404, ErrorToken(404), "No market data found for zip " + *zip)};
      }
      return {200, market->dump()};
    }
    if (path != "/listings/sale" && path != "/properties") {
      return {404, ErrorBody(404, ErrorToken(404), "Unknown endpoint " + req.path)};
    }
    SearchQuery q;
    q.kind = path == "/properties" ? FakeKind::kSale : FakeKind::kListing;
    q.limit = static_cast<size_t>(IntParam(req, "limit", 50, 1, 500));
    q.offset = static_cast<size_t>(IntParam(req, "offset", 0, 0, 1LL << 40));
    auto lat = DoubleParam(req, "latitude", -90, 90);
    auto lng = DoubleParam(req, "longitude", -180, 180);
    auto radius = DoubleParam(req, "radius", 0, 100);
    auto zip = Param(req, "zipCode");
    if (lat.has_value() != lng.has_value()) {
      throw BadRequest{"latitude and longitude must be given together"};
    }
    if (radius && *radius <= 0) throw BadRequest{"Invalid radius parameter: must be > 0"};
    if (lat) {
      q.lat = *lat;
      q.lng = *lng;
      q.radius_miles = radius.value_or(5);
    } else if (zip) {
      if (!ValidZip(*zip)) throw BadRequest{"Invalid zipCode parameter '" + *zip + "'"};
      // No geocoder: a zip search is a 3-mile search around a point derived from the zip.
      long long z = std::atoll(zip->c_str());
      q.lat = 30 + static_cast<double>(z % 1500) / 100;
      q.lng = -120 + static_cast<double>(z % 4000) / 100;
      q.radius_miles = 3;
    } else {
      throw BadRequest{"A location is required: latitude/longitude/radius or zipCode"};
    }
    if (auto status = Param(req, "status");
        status && *status != "Active" && *status != "Inactive") {
      throw BadRequest{"Invalid status parameter '" + *status + "'"};
    }
    if (auto range = Param(req, "saleDateRange")) {
      std::tie(q.min_days, q.max_days) = ParseRange(*range);
    }
    if (q.kind == FakeKind::kListing && Param(req, "status").value_or("Active") == "Inactive") {
      return empty();  // the fake world has no off-market listings
    }
    std::vector<json> records = world->Search(q);
    if (records.empty()) return empty();
    return {200, json(records).dump()};
  } catch (const BadRequest& e) {
    return {400, ErrorBody(400, ErrorToken(400), e.message)};
  }
}

void FakeRentCastServer::HandleAdmin(const httplib::Request& req, httplib::Response& res) {
  auto reply = [&](int status, const json& body) {
    res.status = status;
    res.set_content(body.dump(), "application/json");
  };
  json body;
  if (req.method == "POST") {
    body = json::parse(req.body, nullptr, /*allow_exceptions=*/false);
    if (body.is_discarded()) return reply(400, {{"error", "body is not JSON"}});
  }
  const std::string& p = req.path;
  if (p == "/__admin/health") return reply(200, {{"status", "ok"}});
  if (p == "/__admin/faults" && req.method == "POST") {
    json list = body.is_array() ? body : json::array({body});
    std::vector<FakeFault> parsed;
    for (const json& f : list) {
      auto fault = FakeFaultFromJson(f);
      if (!fault) return reply(400, {{"error", fault.error().message}});
      parsed.push_back(*fault);
    }
    for (auto& f : parsed) AddFault(std::move(f));
    return reply(200, {{"added", parsed.size()}});
  }
  if (p == "/__admin/faults" && req.method == "DELETE") {
    ClearFaults();
    return reply(200, {{"cleared", true}});
  }
  if (p == "/__admin/requests" && req.method == "GET") {
    json out = json::array();
    for (const FakeRequestLog& r : Requests()) {
      json params = json::object();
      for (const auto& [k, v] : r.params) params[k] = v;
      out.push_back({{"time_ms", r.time_ms},
                     {"method", r.method},
                     {"path", r.path},
                     {"query", r.query},
                     {"params", params},
                     {"status", r.status}});
    }
    return reply(200, out);
  }
  if (p == "/__admin/requests" && req.method == "DELETE") {
    ClearRequests();
    return reply(200, {{"cleared", true}});
  }
  if (p == "/__admin/config" && req.method == "POST" && body.is_object()) {
    std::lock_guard lock(mu_);
    if (body.contains("fixed_count") && body["fixed_count"].is_number_integer()) {
      config_.world.fixed_count = body["fixed_count"];
    }
    if (body.contains("odd_fraction") && body["odd_fraction"].is_number()) {
      config_.world.odd_fraction = body["odd_fraction"];
    }
    if (body.contains("empty_as_404") && body["empty_as_404"].is_boolean()) {
      config_.empty_as_404 = body["empty_as_404"];
    }
    if (body.contains("api_key") && body["api_key"].is_string()) config_.api_key = body["api_key"];
    RebuildWorld();
    return reply(200, {{"fixed_count", config_.world.fixed_count},
                       {"odd_fraction", config_.world.odd_fraction},
                       {"empty_as_404", config_.empty_as_404}});
  }
  if (p == "/__admin/canned" && req.method == "POST" && body.is_object()) {
    if (!body.contains("path") || !body["path"].is_string() || !body.contains("body") ||
        !body["body"].is_string()) {
      return reply(400, {{"error", "canned needs string \"path\" and \"body\""}});
    }
    int status = body.contains("status") && body["status"].is_number_integer()
                     ? body["status"].get<int>()
                     : 200;
    SetCanned(body["path"], status, body["body"]);
    return reply(200, {{"canned", body["path"]}});
  }
  if (p == "/__admin/chaos" && req.method == "POST") {
    if (!body.is_object() || !body.contains("spec") || !body["spec"].is_string()) {
      return reply(400, {{"error", "chaos needs a string \"spec\""}});
    }
    auto chaos = ParseFakeChaos(body["spec"]);
    if (!chaos) return reply(400, {{"error", chaos.error().message}});
    SetChaos(*chaos);
    return reply(200, {{"chaos", chaos->ToString()}});
  }
  if (p == "/__admin/chaos" && req.method == "DELETE") {
    ClearChaos();
    return reply(200, {{"cleared", true}});
  }
  if (p == "/__admin/canned" && req.method == "DELETE") {
    ClearCanned();
    return reply(200, {{"cleared", true}});
  }
  reply(404, {{"error", "unknown admin endpoint " + req.method + " " + p}});
}

}  // namespace dripr::fake
