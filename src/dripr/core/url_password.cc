#include "dripr/core/url_password.h"

#include "dripr/core/text.h"

namespace dripr {

namespace {

constexpr std::string_view kMask = "****";

// A query parameter's name as libpq reads it (percent-decoded; a malformed escape kept as
// written), lower-cased so that no spelling of a secret's name escapes the mask.
std::string ParamName(std::string_view raw) {
  std::string out;
  for (size_t i = 0; i < raw.size(); ++i) {
    char ch = raw[i];
    if (ch == '%' && i + 2 < raw.size() && HexDigitValue(raw[i + 1]) >= 0 &&
        HexDigitValue(raw[i + 2]) >= 0) {
      ch = static_cast<char>(HexDigitValue(raw[i + 1]) * 16 + HexDigitValue(raw[i + 2]));
      i += 2;
    }
    out += ch >= 'A' && ch <= 'Z' ? static_cast<char>(ch - 'A' + 'a') : ch;
  }
  return out;
}

// The offset of the '@' that ends a URL's user-info, or npos when it has none: the later of
// the MySQL URL parser's (the last '@' before the query) and libpq's (the first '@' before
// any '/').
size_t UserInfoEnd(std::string_view url) {
  const size_t scheme = url.find("://");
  if (scheme == std::string_view::npos) return std::string_view::npos;
  const size_t start = scheme + 3;
  size_t at = url.substr(0, url.find('?', start)).rfind('@');
  if (at != std::string_view::npos && at < start) at = std::string_view::npos;
  if (size_t p = url.find_first_of("@/", start); p != std::string_view::npos && url[p] == '@') {
    if (at == std::string_view::npos || p > at) at = p;
  }
  return at;
}

}  // namespace

std::optional<TextSpan> UrlPasswordSpan(std::string_view url) {
  const size_t at = UserInfoEnd(url);
  if (at == std::string_view::npos) return std::nullopt;
  const size_t colon = url.find(':', url.find("://") + 3);
  if (colon > at) return std::nullopt;
  return TextSpan{colon + 1, at};
}

std::string MaskUrlPassword(std::string_view url) {
  if (url.find("://") == std::string_view::npos) return std::string(url);
  std::string out;
  size_t done = 0;  // url[0, done) is in `out`
  if (const std::optional<TextSpan> password = UrlPasswordSpan(url)) {
    out.append(url.substr(0, password->begin)).append(kMask);
    done = password->end;
  }
  // The query starts after the user-info (libpq reads a '?' before the '@' as part of it).
  const size_t at = UserInfoEnd(url);
  const size_t query = url.find('?', at == std::string_view::npos ? done : at);
  if (query == std::string_view::npos) return out.append(url.substr(done));
  out.append(url.substr(done, query + 1 - done));
  std::string_view params = url.substr(query + 1);
  for (;;) {
    const size_t amp = params.find('&');
    const std::string_view param = params.substr(0, amp);
    const size_t eq = param.find('=');
    const std::string name =
        eq == std::string_view::npos ? std::string() : ParamName(param.substr(0, eq));
    if (name == "password" || name == "sslpassword") {
      out.append(param.substr(0, eq + 1)).append(kMask);
    } else {
      out.append(param);
    }
    if (amp == std::string_view::npos) break;
    out += '&';
    params.remove_prefix(amp + 1);
  }
  return out;
}

}  // namespace dripr
