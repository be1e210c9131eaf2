#pragma once
// AWS Signature Version 4 (header auth), as the SQS and SNS clients need it.
// Reference: docs/reference/aws-sqs-sns.md §1. Checked against AWS's published test suite
// (tests/aws/data/sigv4/) and a botocore-generated SQS vector.

#include <string>
#include <string_view>

#include "dripr/bus/aws/credentials_types.h"
#include "dripr/core/clock.h"
#include "dripr/core/error.h"
#include "dripr/core/http.h"

namespace dripr::aws {

// The request as the signer sees it.
struct SigningInput {
  std::string method;        // "GET", "POST", ...
  std::string path;          // as it appears in the URL ("/" or "/a/b"); normalised + encoded
  std::string query;         // raw query string without '?', may be empty
  HttpHeaders headers;       // every header to sign; must include host and x-amz-date
  std::string payload_hash;  // hex SHA-256 of the exact body bytes
};

// Intermediate results, exposed so tests can compare each step with the vectors.
struct Signature {
  std::string canonical_request;
  std::string string_to_sign;
  std::string signed_headers;  // "host;x-amz-date"
  std::string signature;       // lowercase hex
  std::string authorization;   // the Authorization header value
};

// `amz_date` is "YYYYMMDDTHHMMSSZ"; region/service form the credential scope.
Signature ComputeSignature(const SigningInput& input, const Credentials& creds,
                           std::string_view amz_date, std::string_view region,
                           std::string_view service);

// Signs `request` in place for `service` in `region` at time `now`: sets Host (from the URL,
// with :port when it is not the scheme's default, exactly what curl would send), X-Amz-Date,
// X-Amz-Security-Token (when the credentials carry a session token; it is signed) and
// Authorization. Signs host, x-amz-*, content-type and any other header present except
// user-agent, expect, connection, transfer-encoding, content-length. Existing Host /
// X-Amz-Date / Authorization / X-Amz-Security-Token headers are replaced.
// kInvalidArgument when the URL cannot be parsed or the credentials are empty.
Status SignRequest(HttpRequest& request, const Credentials& creds, std::string_view region,
                   std::string_view service, SysTime now);

// Building blocks (also used by tests).
std::string Sha256Hex(std::string_view data);
std::string HmacSha256(std::string_view key, std::string_view data);  // raw bytes
std::string HexEncode(std::string_view bytes);                        // lowercase
std::string FormatAmzDate(SysTime t);                                 // 20150830T123600Z
std::string CanonicalUri(std::string_view path);           // normalised, each segment encoded
std::string CanonicalQueryString(std::string_view query);  // decoded, re-encoded, sorted
std::string TrimAll(std::string_view value);  // trims ends, collapses inner runs of spaces

}  // namespace dripr::aws
