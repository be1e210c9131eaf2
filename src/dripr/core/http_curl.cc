// libcurl backend of HttpClient (core/http.h).
//
// One easy handle per calling thread (thread_local), reset between requests with
// curl_easy_reset, which keeps the handle's connection cache, DNS cache and TLS session
// cache: consecutive requests to the same host reuse the connection. TLS peer and host
// verification are always on. Proxy settings come from the environment (http_proxy,
// https_proxy, no_proxy), which libcurl reads by default because CURLOPT_PROXY is never set.
// A request with a cancel token (long polls) runs on a per-thread multi handle instead, which
// CancelToken::Cancel wakes (curl_multi_wakeup) so that shutdown can abandon it at once.

#include <curl/curl.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <cstdio>
#include <mutex>
#include <string>
#include <string_view>

#include "dripr/core/hex.h"
#include "dripr/core/http.h"

namespace dripr {

std::string HttpResponse::Header(std::string_view name) const {
  for (const auto& [k, v] : headers) {
    if (k.size() == name.size() && std::equal(k.begin(), k.end(), name.begin(), [](char a, char b) {
          return std::tolower(static_cast<unsigned char>(a)) ==
                 std::tolower(static_cast<unsigned char>(b));
        })) {
      return v;
    }
  }
  return "";
}

std::string UrlEncode(std::string_view s) {
  std::string out;
  out.reserve(s.size() * 3);
  for (char ch : s) {
    auto c = static_cast<unsigned char>(ch);
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out.push_back(ch);
    } else {
      out.push_back('%');
      AppendHexByte(out, c, HexCase::kUpper);
    }
  }
  return out;
}

void CancelToken::Cancel() {
  cancelled_.store(true, std::memory_order_release);
  std::lock_guard lock(mu_);
  if (wake_) wake_();
}

void CancelToken::SetWaker(std::function<void()> wake) {
  std::lock_guard lock(mu_);
  wake_ = std::move(wake);
}

namespace {

void GlobalInitOnce() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

// A libcurl handle for one thread (held thread_local): made by `kCreate`, freed by
// `kDestroy` when the thread exits; get() is null when libcurl could not make it.
template <class Handle, Handle* (*kCreate)(), auto kDestroy>
class ThreadCurlHandle {
 public:
  ThreadCurlHandle() : handle_(kCreate()) {}
  ~ThreadCurlHandle() {
    if (handle_ != nullptr) kDestroy(handle_);
  }
  ThreadCurlHandle(const ThreadCurlHandle&) = delete;
  ThreadCurlHandle& operator=(const ThreadCurlHandle&) = delete;
  Handle* get() const { return handle_; }

 private:
  Handle* handle_ = nullptr;
};

CURL* EasyInit() {
  GlobalInitOnce();
  return curl_easy_init();
}

// The calling thread's easy handle, and its multi handle for cancellable requests.
using ThreadHandle = ThreadCurlHandle<CURL, EasyInit, curl_easy_cleanup>;
using ThreadMulti = ThreadCurlHandle<CURLM, curl_multi_init, curl_multi_cleanup>;

class HeaderList {
 public:
  HeaderList() = default;
  ~HeaderList() {
    if (list_ != nullptr) curl_slist_free_all(list_);
  }
  HeaderList(const HeaderList&) = delete;
  HeaderList& operator=(const HeaderList&) = delete;
  bool Append(const std::string& line) {
    curl_slist* next = curl_slist_append(list_, line.c_str());
    if (next == nullptr) return false;
    list_ = next;
    return true;
  }
  curl_slist* get() const { return list_; }

 private:
  curl_slist* list_ = nullptr;
};

std::string_view TrimHeaderPart(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() &&
         (s.back() == ' ' || s.back() == '\t' || s.back() == '\r' || s.back() == '\n')) {
    s.remove_suffix(1);
  }
  return s;
}

// The response body, read up to a limit (HttpRequest::max_response_bytes).
struct BodySink {
  std::string* out = nullptr;
  size_t limit = 0;
  bool too_large = false;
};

size_t OnBody(char* data, size_t size, size_t nmemb, void* user) {
  auto* sink = static_cast<BodySink*>(user);
  const size_t n = size * nmemb;
  if (n > sink->limit - std::min(sink->limit, sink->out->size())) {
    sink->too_large = true;
    return 0;  // curl ends the transfer (CURLE_WRITE_ERROR)
  }
  sink->out->append(data, n);
  return n;
}

// What the header and progress callbacks share for one request.
struct Transfer {
  HttpHeaders* headers = nullptr;
  CancelToken* cancel = nullptr;
  bool response_started = false;
};

// The longest a cancellable transfer sleeps between looks at its token when no wake-up
// comes (CancelToken::Cancel wakes it at once; this is only a safety net).
constexpr int kCancelPollMs = 1000;

// curl_easy_perform, except that a request with a cancel token runs on a multi handle that
// the token's Cancel() wakes, so it can be abandoned at once while no response byte has
// arrived.
CURLcode Perform(CURL* easy, const Transfer& transfer) {
  if (transfer.cancel == nullptr) return curl_easy_perform(easy);
  thread_local ThreadMulti thread_multi;
  CURLM* multi = thread_multi.get();
  if (multi == nullptr || curl_multi_add_handle(multi, easy) != CURLM_OK) {
    return CURLE_FAILED_INIT;
  }
  // Set before the first look at the token: a Cancel() before this is seen by that look, one
  // after it wakes the poll.
  transfer.cancel->SetWaker([multi] { curl_multi_wakeup(multi); });
  CURLcode result = CURLE_RECV_ERROR;  // if the transfer ends without a result
  while (true) {
    int running = 0;
    if (curl_multi_perform(multi, &running) != CURLM_OK) break;
    bool done = false;
    int left = 0;
    while (CURLMsg* msg = curl_multi_info_read(multi, &left)) {
      if (msg->msg == CURLMSG_DONE && msg->easy_handle == easy) {
        result = msg->data.result;
        done = true;
      }
    }
    if (done || running == 0) break;
    if (!transfer.response_started && transfer.cancel->cancelled()) {
      result = CURLE_ABORTED_BY_CALLBACK;
      break;
    }
    curl_multi_poll(multi, nullptr, 0, kCancelPollMs, nullptr);
  }
  transfer.cancel->SetWaker({});  // waits out a Cancel() calling curl_multi_wakeup
  curl_multi_remove_handle(multi, easy);
  return result;
}

size_t OnHeader(char* data, size_t size, size_t nmemb, void* user) {
  auto* transfer = static_cast<Transfer*>(user);
  transfer->response_started = true;
  auto* headers = transfer->headers;
  std::string_view line(data, size * nmemb);
  // A new status line (after 100 Continue, a proxy CONNECT reply, ...) starts a new header
  // block: only the final response's headers are kept.
  if (line.starts_with("HTTP/")) {
    headers->clear();
    return size * nmemb;
  }
  auto colon = line.find(':');
  if (colon == std::string_view::npos) return size * nmemb;  // blank line or garbage
  std::string name(TrimHeaderPart(line.substr(0, colon)));
  std::transform(name.begin(), name.end(), name.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  headers->emplace_back(std::move(name), std::string(TrimHeaderPart(line.substr(colon + 1))));
  return size * nmemb;
}

// The URL without its query string, for error messages (a query may carry tokens).
std::string UrlForErrors(const std::string& url) { return url.substr(0, url.find_first_of("?#")); }

Error MapCurlError(CURLcode rc, const char* detail, const HttpRequest& request) {
  std::string what = request.method + " " + UrlForErrors(request.url) + ": " +
                     (detail != nullptr && detail[0] != '\0' ? detail : curl_easy_strerror(rc));
  switch (rc) {
    case CURLE_OPERATION_TIMEDOUT:
      return Error{ErrorCode::kDeadlineExceeded, std::move(what)};
    case CURLE_ABORTED_BY_CALLBACK:
      return Error{ErrorCode::kUnavailable,
                   request.method + " " + UrlForErrors(request.url) + ": cancelled"};
    case CURLE_URL_MALFORMAT:
    case CURLE_UNSUPPORTED_PROTOCOL:
    case CURLE_BAD_FUNCTION_ARGUMENT:
      return Error{ErrorCode::kInvalidArgument, std::move(what)};
    case CURLE_OUT_OF_MEMORY:
      return Error{ErrorCode::kInternal, std::move(what)};
    default:
      // Connect/resolve/reset/TLS handshake/partial reply: the server may be back later.
      return Error{ErrorCode::kUnavailable, std::move(what)};
  }
}

class CurlHttpClient final : public HttpClient {
 public:
  CurlHttpClient() { GlobalInitOnce(); }

  Result<HttpResponse> Send(const HttpRequest& request) override {
    thread_local ThreadHandle thread_handle;
    CURL* curl = thread_handle.get();
    if (curl == nullptr) return Fail(ErrorCode::kInternal, "curl_easy_init failed");
    curl_easy_reset(curl);  // keeps live connections, DNS and TLS session caches

    HeaderList headers;
    for (const auto& [name, value] : request.headers) {
      // "Name:" would make curl drop the header; "Name;" sends it with an empty value.
      if (!headers.Append(value.empty() ? name + ";" : name + ": " + value)) {
        return Fail(ErrorCode::kInternal, "curl_slist_append failed");
      }
    }
    // No "Expect: 100-continue" round trip on larger bodies.
    if (!headers.Append("Expect:")) return Fail(ErrorCode::kInternal, "curl_slist_append failed");

    HttpResponse response;
    char error_buffer[CURL_ERROR_SIZE] = {0};

    curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, error_buffer);
    curl_easy_setopt(curl, CURLOPT_URL, request.url.c_str());
    curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(curl, CURLOPT_SSL_VERIFYPEER, 1L);
    curl_easy_setopt(curl, CURLOPT_SSL_VERIFYHOST, 2L);
    curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS,
                     static_cast<long>(std::max<long long>(1, request.connect_timeout.count())));
    curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS,
                     static_cast<long>(std::max<long long>(1, request.timeout.count())));
    curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(curl, CURLOPT_TCP_KEEPALIVE, 1L);
    curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers.get());
    BodySink body{.out = &response.body, .limit = request.max_response_bytes};
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, &OnBody);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, &body);
    curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, &OnHeader);
    Transfer transfer{.headers = &response.headers, .cancel = request.cancel};
    curl_easy_setopt(curl, CURLOPT_HEADERDATA, &transfer);

    const std::string& method = request.method;
    if (method == "GET") {
      curl_easy_setopt(curl, CURLOPT_HTTPGET, 1L);
    } else if (method == "HEAD") {
      curl_easy_setopt(curl, CURLOPT_NOBODY, 1L);
    } else if (method == "POST" || method == "PUT" || method == "PATCH" ||
               (method == "DELETE" && !request.body.empty())) {
      // POSTFIELDS sends the exact bytes with a Content-Length (also 0 for an empty body).
      curl_easy_setopt(curl, CURLOPT_POST, 1L);
      curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE,
                       static_cast<curl_off_t>(request.body.size()));
      curl_easy_setopt(curl, CURLOPT_POSTFIELDS, request.body.data());
      if (method != "POST") curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, method.c_str());
    } else if (method == "DELETE") {
      curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, "DELETE");
    } else {
      return Fail(ErrorCode::kInvalidArgument, "unsupported HTTP method " + method);
    }

    CURLcode rc = Perform(curl, transfer);
    // The handle outlives this call: do not leave pointers to locals in it.
    curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, nullptr);
    curl_easy_setopt(curl, CURLOPT_HTTPHEADER, nullptr);
    curl_easy_setopt(curl, CURLOPT_HEADERDATA, nullptr);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, nullptr);
    if (body.too_large) {
      return Fail(ErrorCode::kUnavailable, request.method + " " + UrlForErrors(request.url) +
                                               ": response body larger than " +
                                               std::to_string(request.max_response_bytes) +
                                               " bytes; not read");
    }
    if (rc != CURLE_OK) return Fail(MapCurlError(rc, error_buffer, request));

    long status = 0;
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
    response.status = static_cast<int>(status);
    return response;
  }
};

}  // namespace

HttpClientPtr NewCurlHttpClient() { return std::make_shared<CurlHttpClient>(); }

}  // namespace dripr
