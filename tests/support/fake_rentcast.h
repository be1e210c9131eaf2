#pragma once
// A fake RentCast API server (docs/reference/rentcast-api.md) on loopback, used in-process by tests
// and as the `fake_rentcast` program by e2e runs and benchmarks. Serves real HTTP (cpp-httplib):
//
//   GET /v1/listings/sale, /v1/properties, /v1/markets   (also without the /v1 prefix)
//     - X-Api-Key must equal the configured key, else 401 {"status":401,
//       "error":"auth/api-key-invalid","message":…}
//     - parameter checks like the real API, else 400 "resource/bad-request": limit 1..500,
//       offset >= 0, latitude/longitude numeric and in range (both or neither), radius
//       0 < r <= 100, status Active|Inactive, saleDateRange "min:max" with "*" ends,
//       zipCode 5 digits, historyRange 1..120, dataType All|Sale|Rental
//     - data from FakeWorld (fake_rentcast_data.h); empty results are 404 or [] (config)
//   Admin (never logged, no key needed):
//     POST   /__admin/faults    {"kind":"latency|429|500|502|503|504|malformed|404|empty|401|400",
//                                "count":N (-1 = until cleared),"latency_ms":..,
//                                "retry_after":secs,"path":"substring"}   (or an array)
//     DELETE /__admin/faults
//     GET    /__admin/requests  [{"time_ms":unix ms,"method","path","query","status"}, …]
//     DELETE /__admin/requests
//     POST   /__admin/config {"fixed_count":N,"empty_as_404":bool,"odd_fraction":x,"api_key":"…"}
//     POST   /__admin/canned    {"path":"/listings/sale","status":200,"body":"…"} (or DELETE)
//     POST   /__admin/chaos     {"spec":"seed=N,5xx=0.2,…"} (see FakeChaos; DELETE turns it off)
//     GET    /__stats           {"requests":N,"in_flight":N,"by_kind":{"ok":…,"5xx":…,"429":…,
//                                "timeout":…,"malformed":…,"fault":…},"by_path":{"/markets":
//                                {"requests":…,"ok":…,…},…},"by_status":{"200":…,…}}
//                                (counts since the last DELETE /__admin/requests; API paths
//                                without the /v1 prefix; `ok` = answered without injection)
//
// Faults are consumed in order, first matching fault first; `latency` (and latency_ms on any
// fault) delays the response, `malformed` truncates a normal 200 body, `empty` answers [],
// the status kinds answer with RentCast's JSON error body (429/503 with Retry-After when
// retry_after >= 0). Requests no counted fault matches are then subject to the seeded chaos
// mix, if set (FakeChaos). Thread-safe.

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "dripr/core/error.h"
#include "support/fake_rentcast_data.h"

namespace httplib {
class Server;
struct Request;
struct Response;
}  // namespace httplib

namespace dripr::fake {

struct FakeRentCastConfig {
  std::string api_key = "fake-rentcast-key";
  bool empty_as_404 = true;  // empty results: 404 (true) or 200 [] (false)
  FakeWorldOptions world;
  std::string zip_centroids_csv;  // optional: records get the nearest real zip code
  // How long an idle keep-alive connection is kept. Stop() waits up to this long for idle
  // connections, so in-process tests use 0 (connections close once idle for ~10 ms).
  int keep_alive_seconds = 0;
  // Worker threads: each open connection (also an idle keep-alive one) and each held request
  // takes one, so several busy clients need many more than cpp-httplib's default.
  int threads = 128;
};

struct FakeFault {
  std::string kind;      // see the header comment
  int count = 1;         // requests it applies to; -1 = until cleared
  int latency_ms = 0;    // delay before answering
  int retry_after = -1;  // seconds, sent as Retry-After for 429/503 when >= 0
  std::string path;      // applies only to paths containing this; "" = all
};
Result<FakeFault> FakeFaultFromJson(const nlohmann::json& j);
// "kind[:count[:latency_ms[:retry_after]]]", as the program's --fault flag takes it.
Result<FakeFault> ParseFakeFault(const std::string& spec);

// Seeded probabilistic faults, as `--chaos` and POST /__admin/chaos take them:
//   "seed=N,5xx=P,429=P,timeout=P,malformed=P[,timeout_ms=MS][,retry_after=S]"
// Each API request draws one number from (seed, its sequence number): with probability
// 5xx it gets 500/502/503/504 (RentCast's error body; 503 with Retry-After), 429 a 429 with
// Retry-After: retry_after (default 1), timeout is held timeout_ms (default 3000; set it past
// the client's timeout) and then answered 504, malformed a 200 with its body truncated.
// The probabilities add up to at most 1. The same seed gives the same sequence of draws.
struct FakeChaos {
  uint64_t seed = 0;
  double p_5xx = 0, p_429 = 0, p_timeout = 0, p_malformed = 0;
  int timeout_ms = 3000;
  int retry_after = 1;
  std::string ToString() const;
};
Result<FakeChaos> ParseFakeChaos(const std::string& spec);

struct FakeRequestLog {
  int64_t time_ms = 0;  // arrival, Unix milliseconds
  std::string method;
  std::string path;                                // as received, e.g. "/v1/listings/sale"
  std::string query;                               // raw query string
  std::multimap<std::string, std::string> params;  // decoded
  int status = 0;                                  // 0 while in flight
  // What was injected: "" (nothing), "5xx", "429", "timeout", "malformed" (chaos) or
  // "fault" (a counted fault).
  std::string injected;
};

class FakeRentCastServer {
 public:
  explicit FakeRentCastServer(FakeRentCastConfig config = {});
  ~FakeRentCastServer();
  FakeRentCastServer(const FakeRentCastServer&) = delete;
  FakeRentCastServer& operator=(const FakeRentCastServer&) = delete;

  // Binds `host:port` (0 = a free port) and serves on background threads. Returns the
  // port. kInvalidArgument for a bad zip file, kUnavailable when the port cannot be bound.
  Result<int> Start(const std::string& host = "127.0.0.1", int port = 0);
  // Stops serving and joins the threads (also releases held requests). Idempotent.
  void Stop();

  int port() const { return port_; }
  std::string base_url() const;  // "http://127.0.0.1:PORT/v1"
  std::string api_key() const;

  void AddFault(FakeFault fault);
  void ClearFaults();
  void SetEmptyAs404(bool v);
  void SetFixedCount(int n);  // -1: data by density again
  // Requests to paths containing `path` get exactly this answer until ClearCanned().
  void SetCanned(const std::string& path, int status, std::string body);
  void ClearCanned();
  // Seeded probabilistic faults from now on (replaces any previous mix); ClearChaos() ends them.
  void SetChaos(FakeChaos chaos);
  void ClearChaos();

  std::vector<FakeRequestLog> Requests() const;
  // GET /__stats's document: counts per injected kind, per path and per status.
  nlohmann::json Stats() const;
  void ClearRequests();
  // API requests received and not yet answered.
  int InFlight() const;
  // While held, API requests wait (after being logged) until Release().
  void Hold();
  void Release();

  // The data the server answers from (a snapshot; config changes make a new one).
  std::shared_ptr<const FakeWorld> world() const;

 private:
  void Handle(const httplib::Request& req, httplib::Response& res);
  void HandleAdmin(const httplib::Request& req, httplib::Response& res);
  // The normal answer to an API request: status and body.
  std::pair<int, std::string> Answer(const httplib::Request& req, const std::string& path);
  std::optional<FakeFault> TakeFault(const std::string& path);
  // The chaos kind for request number `seq` ("" = none).
  std::string ChaosKind(size_t seq, int& status) const;
  void RebuildWorld();  // REQUIRES mu_

  std::unique_ptr<httplib::Server> server_;
  std::thread thread_;
  int port_ = 0;
  std::string host_;

  mutable std::mutex mu_;
  std::condition_variable released_;
  FakeRentCastConfig config_;               // GUARDED_BY(mu_)
  std::shared_ptr<const ZipTable> zips_;    // GUARDED_BY(mu_)
  std::shared_ptr<const FakeWorld> world_;  // GUARDED_BY(mu_)
  std::deque<FakeFault> faults_;            // GUARDED_BY(mu_)
  struct Canned {
    std::string path;
    int status;
    std::string body;
  };
  std::vector<Canned> canned_;       // GUARDED_BY(mu_)
  std::optional<FakeChaos> chaos_;   // GUARDED_BY(mu_)
  std::vector<FakeRequestLog> log_;  // GUARDED_BY(mu_)
  size_t log_base_ = 0;              // GUARDED_BY(mu_): requests numbered before the last clear
  int in_flight_ = 0;                // GUARDED_BY(mu_)
  bool held_ = false;                // GUARDED_BY(mu_)
  bool stopping_ = false;            // GUARDED_BY(mu_)
};

}  // namespace dripr::fake
