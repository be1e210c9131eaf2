#pragma once
// HTTP client transport, behind an interface so tests can inject faults (docs/style.md: inject
// the transport). The libcurl backend (CurlHttpClient, http_curl.cc) reuses one connection
// pool per thread, verifies TLS always, and honours the standard proxy variables.

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "dripr/core/error.h"

namespace dripr {

using HttpHeaders = std::vector<std::pair<std::string, std::string>>;

// Abandons a request in flight (HttpRequest::cancel). Cancel() sets it and wakes the transfer
// waiting on it at once: a waiting long poll costs no periodic wake-ups. Thread-safe.
class CancelToken {
 public:
  bool cancelled() const { return cancelled_.load(std::memory_order_acquire); }
  void Cancel();
  // For transports: Cancel() calls `wake` while it is set. Setting it again (or to {}) waits
  // for a Cancel() that is calling the previous one, so its target can then be freed.
  void SetWaker(std::function<void()> wake);

 private:
  std::atomic<bool> cancelled_{false};
  std::mutex mu_;
  std::function<void()> wake_;  // guarded by mu_
};

struct HttpRequest {
  std::string method = "GET";  // GET, POST, PUT, DELETE
  std::string url;             // absolute, with query string already encoded
  HttpHeaders headers;         // sent as given (plus what the backend must add)
  std::string body;
  std::chrono::milliseconds connect_timeout{5000};
  std::chrono::milliseconds timeout{30000};  // whole request
  // When set and cancelled while no byte of the response has arrived yet, the request is
  // abandoned at once (kUnavailable "cancelled"): how a long poll is interrupted at
  // shutdown. Once the response has started it is read to the end, so a reply the server
  // already sent (e.g. received messages) is never thrown away.
  CancelToken* cancel = nullptr;
  // A response body larger than this ends the request with kUnavailable instead of being
  // read into memory (a broken or hostile server must not exhaust it). The default is far
  // above what SQS (10 messages of 256 KiB), SNS, IMDS or RentCast (a page of 500 records)
  // send.
  size_t max_response_bytes = 64u << 20;
};

struct HttpResponse {
  int status = 0;
  HttpHeaders headers;  // names lower-cased
  std::string body;
  // First value of a header (name compared case-insensitively), or "".
  std::string Header(std::string_view name) const;
};

class HttpClient {
 public:
  virtual ~HttpClient() = default;
  // Transport failures only: kUnavailable (connect/DNS/reset), kDeadlineExceeded (timeout),
  // kInvalidArgument (malformed URL). Any HTTP status, 4xx/5xx included, is a response.
  // Thread-safe.
  virtual Result<HttpResponse> Send(const HttpRequest& request) = 0;
};

using HttpClientPtr = std::shared_ptr<HttpClient>;

// The libcurl backend. Thread-safe; each calling thread keeps its own easy handle.
HttpClientPtr NewCurlHttpClient();

// Percent-encodes per RFC 3986 (unreserved kept), as SigV4 and query strings need.
std::string UrlEncode(std::string_view s);

}  // namespace dripr
