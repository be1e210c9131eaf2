#include "dripr/bus/aws/sigv4.h"

#include <openssl/hmac.h>
#include <openssl/sha.h>

#include <algorithm>
#include <cctype>
#include <ctime>
#include <map>
#include <vector>

#include "dripr/core/hex.h"
#include "dripr/core/text.h"

namespace dripr::aws {

std::string Credentials::ToString() const {
  std::string key = access_key_id.size() > 4 ? access_key_id.substr(0, 4) + "…" : "…";
  return "Credentials{key=" + key +
         ", secret=<redacted>, token=" + (session_token.empty() ? "none" : "<redacted>") +
         ", source=" + source + "}";
}

namespace {

// Percent-decoding; a '%' not followed by two hex digits is kept literally.
std::string PercentDecode(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size()) {
      int hi = HexDigitValue(s[i + 1]), lo = HexDigitValue(s[i + 2]);
      if (hi >= 0 && lo >= 0) {
        out.push_back(static_cast<char>(hi * 16 + lo));
        i += 2;
        continue;
      }
    }
    out.push_back(s[i]);
  }
  return out;
}

std::string Lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

// Headers never signed: added or changed by proxies and by curl itself.
bool Unsigned(std::string_view lower_name) {
  return lower_name == "user-agent" || lower_name == "expect" || lower_name == "connection" ||
         lower_name == "transfer-encoding" || lower_name == "content-length" ||
         lower_name == "authorization" || lower_name == "x-amzn-trace-id";
}

// The signing key depends only on the secret, the day, the region and the service: derived
// (four HMACs) once per thread for each combination in a row, not for every request.
const std::string& SigningKey(const std::string& secret, const std::string& date,
                              std::string_view region, std::string_view service) {
  struct Cached {
    std::string secret, date, region, service, key;
  };
  thread_local Cached cached;
  if (cached.key.empty() || cached.secret != secret || cached.date != date ||
      cached.region != region || cached.service != service) {
    std::string k_date = HmacSha256("AWS4" + secret, date);
    std::string k_region = HmacSha256(k_date, region);
    std::string k_service = HmacSha256(k_region, service);
    cached = Cached{secret, date, std::string(region), std::string(service),
                    HmacSha256(k_service, "aws4_request")};
  }
  return cached.key;
}

}  // namespace

std::string HexEncode(std::string_view bytes) {
  std::string out;
  out.reserve(bytes.size() * 2);
  for (char ch : bytes) AppendHexByte(out, static_cast<unsigned char>(ch), HexCase::kLower);
  return out;
}

std::string Sha256Hex(std::string_view data) {
  unsigned char md[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(data.data()), data.size(), md);
  return HexEncode(std::string_view(reinterpret_cast<const char*>(md), sizeof md));
}

std::string HmacSha256(std::string_view key, std::string_view data) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(data.data()), data.size(), md, &len);
  return std::string(reinterpret_cast<const char*>(md), len);
}

std::string FormatAmzDate(SysTime t) {
  std::time_t tt = std::chrono::system_clock::to_time_t(t);
  std::tm tm{};
  gmtime_r(&tt, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y%m%dT%H%M%SZ", &tm);
  return buf;
}

std::string CanonicalUri(std::string_view path) {
  // Remove dot segments and empty segments (RFC 3986 §5.2.4, plus collapsing "//"), as
  // every service but S3 expects; the trailing slash is kept.
  std::vector<std::string_view> segments;
  size_t pos = 0;
  while (pos <= path.size()) {
    size_t next = path.find('/', pos);
    if (next == std::string_view::npos) next = path.size();
    std::string_view seg = path.substr(pos, next - pos);
    if (seg == "..") {
      if (!segments.empty()) segments.pop_back();
    } else if (!seg.empty() && seg != ".") {
      segments.push_back(seg);
    }
    pos = next + 1;
  }
  bool trailing =
      !path.empty() && (path.back() == '/' || path.ends_with("/.") || path.ends_with("/.."));
  std::string out;
  for (auto seg : segments) out += "/" + UrlEncode(seg);
  if (out.empty()) return "/";
  if (trailing) out += "/";
  return out;
}

std::string CanonicalQueryString(std::string_view query) {
  std::vector<std::pair<std::string, std::string>> params;
  size_t pos = 0;
  while (pos < query.size()) {
    size_t amp = query.find('&', pos);
    if (amp == std::string_view::npos) amp = query.size();
    std::string_view item = query.substr(pos, amp - pos);
    if (!item.empty()) {
      size_t eq = item.find('=');
      std::string_view name = item.substr(0, eq);
      std::string_view value = eq == std::string_view::npos ? "" : item.substr(eq + 1);
      params.emplace_back(UrlEncode(PercentDecode(name)), UrlEncode(PercentDecode(value)));
    }
    pos = amp + 1;
  }
  std::sort(params.begin(), params.end());
  std::string out;
  for (const auto& [name, value] : params) {
    if (!out.empty()) out += "&";
    out += name + "=" + value;
  }
  return out;
}

std::string TrimAll(std::string_view value) {
  std::string out;
  bool in_space = false;
  for (char c : value) {
    if (c == ' ' || c == '\t') {
      in_space = true;
      continue;
    }
    if (in_space && !out.empty()) out.push_back(' ');
    in_space = false;
    out.push_back(c);
  }
  return out;
}

Signature ComputeSignature(const SigningInput& input, const Credentials& creds,
                           std::string_view amz_date, std::string_view region,
                           std::string_view service) {
  // Lower-cased names, values of repeated headers joined with ',' in their original order.
  std::map<std::string, std::string> headers;
  for (const auto& [name, value] : input.headers) {
    std::string key = Lower(name);
    auto [it, inserted] = headers.try_emplace(key, TrimAll(value));
    if (!inserted) it->second += "," + TrimAll(value);
  }
  Signature sig;
  std::string canonical_headers;
  for (const auto& [name, value] : headers) {
    canonical_headers += name + ":" + value + "\n";
    if (!sig.signed_headers.empty()) sig.signed_headers += ";";
    sig.signed_headers += name;
  }
  sig.canonical_request = input.method + "\n" + CanonicalUri(input.path) + "\n" +
                          CanonicalQueryString(input.query) + "\n" + canonical_headers + "\n" +
                          sig.signed_headers + "\n" + input.payload_hash;

  std::string date(amz_date.substr(0, 8));
  std::string scope =
      date + "/" + std::string(region) + "/" + std::string(service) + "/aws4_request";
  sig.string_to_sign = "AWS4-HMAC-SHA256\n" + std::string(amz_date) + "\n" + scope + "\n" +
                       Sha256Hex(sig.canonical_request);

  sig.signature = HexEncode(
      HmacSha256(SigningKey(creds.secret_access_key, date, region, service), sig.string_to_sign));
  sig.authorization = "AWS4-HMAC-SHA256 Credential=" + creds.access_key_id + "/" + scope +
                      ", SignedHeaders=" + sig.signed_headers + ", Signature=" + sig.signature;
  return sig;
}

Status SignRequest(HttpRequest& request, const Credentials& creds, std::string_view region,
                   std::string_view service, SysTime now) {
  if (creds.Empty()) return Fail(ErrorCode::kInvalidArgument, "SigV4: no credentials");
  std::string_view url = request.url;
  size_t scheme_end = url.find("://");
  if (scheme_end == std::string_view::npos) {
    return Fail(ErrorCode::kInvalidArgument, "SigV4: URL without scheme");
  }
  std::string scheme = Lower(url.substr(0, scheme_end));
  std::string_view rest = url.substr(scheme_end + 3);
  size_t path_start = rest.find_first_of("/?#");
  std::string_view authority = rest.substr(0, path_start);
  std::string_view path_and_query =
      path_start == std::string_view::npos ? "" : rest.substr(path_start);
  if (authority.empty() || authority.find('@') != std::string_view::npos) {
    return Fail(ErrorCode::kInvalidArgument, "SigV4: URL without a plain host");
  }
  // Drop a default port: curl sends "Host: name" for http://name:80 and https://name:443.
  std::string host(authority);
  size_t colon = host.rfind(':');
  if (colon != std::string::npos && host.find(']', colon) == std::string::npos) {
    std::string port = host.substr(colon + 1);
    if ((scheme == "http" && port == "80") || (scheme == "https" && port == "443")) {
      host.resize(colon);
    }
  }
  path_and_query = path_and_query.substr(0, path_and_query.find('#'));
  size_t q = path_and_query.find('?');
  std::string path(path_and_query.substr(0, q));
  std::string query(q == std::string_view::npos ? "" : path_and_query.substr(q + 1));
  if (path.empty()) path = "/";

  std::string amz_date = FormatAmzDate(now);
  std::erase_if(request.headers, [](const auto& h) {
    std::string n = Lower(h.first);
    return n == "host" || n == "x-amz-date" || n == "authorization" || n == "x-amz-security-token";
  });
  request.headers.emplace_back("Host", host);
  request.headers.emplace_back("X-Amz-Date", amz_date);
  if (!creds.session_token.empty()) {
    request.headers.emplace_back("X-Amz-Security-Token", creds.session_token);
  }

  SigningInput input;
  input.method = request.method;
  input.path = std::move(path);
  input.query = std::move(query);
  input.payload_hash = Sha256Hex(request.body);
  for (const auto& h : request.headers) {
    if (!Unsigned(Lower(h.first))) input.headers.push_back(h);
  }
  Signature sig = ComputeSignature(input, creds, amz_date, region, service);
  request.headers.emplace_back("Authorization", std::move(sig.authorization));
  return Ok();
}

}  // namespace dripr::aws
