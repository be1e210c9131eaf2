// libFuzzer target: what credential sources read from outside (docs/decisions/fuzzing.md):
// the container/IMDS JSON document, the STS AssumeRoleWithWebIdentity XML reply (each
// through the real source over a scripted transport) and the shared config/credentials INI
// files. Input: one byte choosing the source and the HTTP status, then the body or file.
//
// Checked beyond "no crash": failures are never kInternal and carry a bounded, valid UTF-8
// message; credentials that come back have a key id and a secret; an INI that parses has
// lower-case keys.

#include <cstdio>
#include <fstream>
#include <memory>

#include "dripr/bus/aws/credentials.h"
#include "fuzz_support.h"

namespace {

// A web identity token file the STS source can read (its content does not matter).
const std::string& TokenFile() {
  static const std::string path = [] {
    std::string p = "/tmp/dripr-fuzz-token-" + std::to_string(::getpid());
    std::ofstream(p) << "token";
    return p;
  }();
  return path;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace dripr;
  if (size < 1) return 0;
  std::string body(reinterpret_cast<const char*>(data) + 1, size - 1);
  const int kind = data[0] % 4;
  if (kind == 3) {
    auto ini = aws::ParseIni(body, "fuzz");
    fuzz::CheckResult(ini);
    if (ini) {
      for (const auto& [section, keys] : *ini) {
        for (const auto& [key, value] : keys) {
          for (char c : key) fuzz::Check(!(c >= 'A' && c <= 'Z'));
        }
      }
    }
    return 0;
  }
  auto http = std::make_shared<fuzz::ScriptedHttp>(fuzz::StatusFromByte(data[0] >> 2), body);
  aws::CredentialChainOptions o{.http = http};
  Result<aws::Credentials> creds = Fail(ErrorCode::kNotFound, "unset");
  if (kind == 0) {
    creds = aws::CredentialsFromContainer(
        aws::AwsSettings{.container_credentials_full_uri = "http://127.0.0.1/creds"}, o);
  } else if (kind == 1) {
    o.imds_endpoint = "http://127.0.0.1";
    creds = aws::CredentialsFromImds(aws::AwsSettings{}, o);
  } else {
    o.sts_endpoint = "http://127.0.0.1";
    creds = aws::CredentialsFromWebIdentity(
        aws::AwsSettings{.web_identity_token_file = TokenFile(),
                         .role_arn = "arn:aws:iam::123456789012:role/r"},
        o);
  }
  fuzz::CheckResult(creds);
  if (creds) fuzz::Check(!creds->access_key_id.empty() && !creds->Empty());
  return 0;
}
