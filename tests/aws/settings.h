#pragma once
// AwsSettings for tests, parsed from variables by the product's one parser (LoadConfig), so
// the tests see exactly what `dripr` hands the AWS layer.

#include <gtest/gtest.h>

#include <map>
#include <string>

#include "dripr/bus/aws/aws_settings.h"
#include "dripr/fetcher/config.h"

namespace dripr::testing {

inline aws::AwsSettings SettingsOf(const Env& env) {
  auto config = LoadConfig(env);
  EXPECT_TRUE(config) << config.error().ToString();
  return config ? config->aws : aws::AwsSettings{};
}

inline aws::AwsSettings Aws(const std::map<std::string, std::string>& vars) {
  return SettingsOf(Env::FromMap(vars));
}

}  // namespace dripr::testing
