#pragma once
// Client options for the AWS fuzz targets: static credentials, the given transport, one
// attempt unless asked, no real sleeping (docs/decisions/fuzzing.md).

#include <chrono>
#include <memory>
#include <string>

#include "dripr/bus/aws/aws_client.h"
#include "dripr/bus/aws/credentials.h"

namespace dripr::fuzz {

inline aws::ClientOptions FuzzClientOptions(HttpClientPtr http, std::string endpoint,
                                            int max_attempts = 1) {
  aws::ClientOptions o;
  o.region = "us-east-1";
  o.endpoint = std::move(endpoint);
  o.credentials = aws::NewStaticCredentialsProvider(
      {.access_key_id = "AKIDFUZZ", .secret_access_key = "fuzz-secret", .source = "fuzz"});
  o.http = std::move(http);
  o.retry.max_attempts = max_attempts;
  o.sleep = [](std::chrono::milliseconds) {};
  return o;
}

}  // namespace dripr::fuzz
