// libFuzzer target: `DATABASE_URL` parsing (docs/decisions/fuzzing.md): the MySQL/MariaDB URL
// parser and the redaction every message about a URL goes through. (PostgreSQL URLs are
// parsed by libpq; SQLite's are a path.)
//
// Checked beyond "no crash": failures are kInvalidArgument with a bounded, valid UTF-8
// message that never contains the password; a parsed URL's Describe() and the redacted URL
// never contain the password either.

#include "dripr/store/mysql/my_conn.h"
#include "dripr/store/redact.h"
#include "fuzz_support.h"

namespace {

bool Contains(std::string_view hay, std::string_view needle) {
  return !needle.empty() && hay.find(needle) != std::string_view::npos;
}

}  // namespace

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
  if (pw.size() >= 8 && url.find(pw) == url.rfind(pw)) {
    fuzz::Check(!Contains(parsed->Describe(), pw));
    fuzz::Check(!Contains(redacted, pw));
  }
  return 0;
}
