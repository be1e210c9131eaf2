// libFuzzer target: `DATABASE_URL` parsing (docs/decisions/fuzzing.md): the MySQL/MariaDB URL
// parser and the redaction every message about a URL goes through. (PostgreSQL URLs are
// parsed by libpq; SQLite's are a path.)
//
// Checked beyond "no crash": failures are kInvalidArgument with a bounded, valid UTF-8
// message; a parsed URL's Describe() does not depend on its password, and the redacted URL
// is the URL with a password (of 8+ characters) written as is before the '@' replaced by ****.

#include "dripr/store/mysql/my_conn.h"
#include "dripr/store/redact.h"
#include "fuzz_support.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace dripr;
  std::string_view url(reinterpret_cast<const char*>(data), size);
  std::string redacted = RedactDatabaseUrl(url);
  auto parsed = my::Url::Parse(url);
  if (!parsed) {
    fuzz::CheckError(parsed.error());
    fuzz::Check(parsed.error().code == ErrorCode::kInvalidArgument);
    return 0;
  }
  // A password of a few characters may occur elsewhere in the URL by chance.
  const std::string& pw = parsed->password;
  if (pw.size() < 8) return 0;
  // Written as is (not percent-encoded) between the user's ':' and the '@', and nowhere else.
  // (The ':' matters: in "u:%39x…@" the decoded "9x…" also appears, after "%3", but the
  // password written there is "%39x…", which the redaction replaces whole. And it must be
  // before the query: in "u:%41BCDEFGH@h/db?socket=:ABCDEFGH@" the decoded password's one
  // occurrence is the socket's path, which is not a password and is not redacted.)
  size_t query = url.find('?');
  if (size_t at = url.find(pw); at != std::string_view::npos && at == url.rfind(pw) && at > 0 &&
                                at < query && url[at - 1] == ':' &&
                                url.substr(at + pw.size()).starts_with('@')) {
    fuzz::Check(redacted ==
                std::string(url.substr(0, at)) + "****" + std::string(url.substr(at + pw.size())));
  }
  // Describe() does not depend on the password at all (it may still hold the same text by
  // chance, in the user, host, socket or database).
  my::Url other = *parsed;
  other.password = "x";
  fuzz::Check(parsed->Describe() == other.Describe());
  return 0;
}
