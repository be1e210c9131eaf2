#pragma once
// AWS credentials value type (kept apart from the providers so the signer depends only on it).

#include <optional>
#include <string>

#include "dripr/core/clock.h"

namespace dripr::aws {

struct Credentials {
  std::string access_key_id;
  std::string secret_access_key;
  std::string session_token;          // empty for long-lived keys
  std::optional<SysTime> expiration;  // nullopt: does not expire
  std::string source;                 // which provider produced them ("env", "profile dev", ...)

  bool Empty() const { return access_key_id.empty() || secret_access_key.empty(); }
  // Safe to log: the key id is shortened, the secret and the token never appear.
  // "Credentials{key=AKID…, secret=<redacted>, token=<redacted>, source=env}"
  std::string ToString() const;
};

}  // namespace dripr::aws
