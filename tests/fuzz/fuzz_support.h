#pragma once
// Shared helpers of the libFuzzer targets (docs/decisions/fuzzing.md): a scripted HTTP
// transport that answers with the fuzzer's bytes, and the invariants every target checks.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "dripr/core/error.h"
#include "dripr/core/http.h"
#include "dripr/core/text.h"

namespace dripr::fuzz {

// Stops the run with a crash libFuzzer reports (and keeps the input).
[[noreturn]] inline void Fail() { __builtin_trap(); }
inline void Check(bool ok) {
  if (!ok) Fail();
}

// An error a parser of outside input may return: never kInternal (nothing may throw inside),
// a message that is valid UTF-8 and bounded, so it can go into a log line or a JSON reason.
inline void CheckError(const Error& e, size_t max_message = 2048) {
  Check(e.code != ErrorCode::kInternal);
  Check(!e.message.empty() && e.message.size() <= max_message);
  Check(FindInvalidUtf8(e.message) == std::string::npos);
}

template <typename T>
void CheckResult(const Result<T>& r) {
  if (!r) CheckError(r.error());
}

// The fuzz input split at the first occurrence of `sep` ("" when absent).
inline std::pair<std::string_view, std::string_view> Split(std::string_view in,
                                                           std::string_view sep) {
  size_t at = in.find(sep);
  if (at == std::string_view::npos) return {in, {}};
  return {in.substr(0, at), in.substr(at + sep.size())};
}

// Answers every request with the same scripted response (an HTTP status and a body), the way
// a hostile or broken server would keep answering; counts the requests.
class ScriptedHttp : public HttpClient {
 public:
  ScriptedHttp(int status, std::string body) : status_(status), body_(std::move(body)) {}
  Result<HttpResponse> Send(const HttpRequest&) override {
    ++requests_;
    if (requests_ > 2000) Fail();  // a client that never stops asking (pagination loop)
    HttpResponse res;
    res.status = status_;
    res.body = body_;
    return res;
  }
  int requests() const { return requests_; }

 private:
  int status_;
  std::string body_;
  int requests_ = 0;
};

// An HTTP status chosen by one byte: mostly 200, some errors of each class.
inline int StatusFromByte(uint8_t b) {
  static constexpr int kStatuses[] = {200, 200, 200, 200, 400, 403, 404, 429, 500, 503};
  return kStatuses[b % (sizeof(kStatuses) / sizeof(kStatuses[0]))];
}

}  // namespace dripr::fuzz
