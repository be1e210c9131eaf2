// RENTCAST_* settings (parsed by LoadConfig, the one settings parser) and the
// DATA_PROVIDER=rentcast factory branch.

#include <gtest/gtest.h>

#include <charconv>
#include <string>

#include "dripr/fetcher/config.h"
#include "dripr/providers/rentcast/rentcast_provider.h"

namespace dripr {
namespace {

using Vars = std::map<std::string, std::string>;

Result<RentCastOptions> Options(const Vars& vars) {
  DRIPR_ASSIGN_OR_RETURN(auto c, LoadConfig(Env::FromMap(vars)));
  return c.rentcast;
}

Result<ProviderPtr> Open(const Vars& vars) {
  DRIPR_ASSIGN_OR_RETURN(auto c, LoadConfig(Env::FromMap(vars)));
  return OpenProvider(c.provider, c.sample, c.rentcast);
}

// The fields the RENTCAST_* variables set, on one line in the variables' order (the API key
// left out), so that a test states every value it expects in one assertion. The rate is
// written exactly (the shortest text that reads back as the same double).
std::string VariableFields(const RentCastOptions& o) {
  char rps[32];
  const auto rps_end = std::to_chars(rps, rps + sizeof rps, o.max_rps).ptr;
  return "base_url=" + o.base_url + " max_rps=" + std::string(rps, rps_end) +
         " page_size=" + std::to_string(o.page_size) + " max_pages=" + std::to_string(o.max_pages) +
         " max_attempts=" + std::to_string(o.max_attempts) +
         " backoff_initial=" + std::to_string(o.backoff_initial.count()) +
         "ms request_timeout=" + std::to_string(o.request_timeout.count()) +
         "ms deadline=" + std::to_string(o.deadline.count()) + "ms";
}

TEST(RentCastOptions, DefaultsNeedOnlyAKey) {
  auto o = Options((Vars{{"RENTCAST_API_KEY", "k"}}));
  ASSERT_TRUE(o) << o.error().ToString();
  EXPECT_EQ(o->api_key, "k");
  EXPECT_EQ(VariableFields(*o),
            "base_url=https://api.rentcast.io/v1 max_rps=5 page_size=500 max_pages=5 "
            "max_attempts=5 backoff_initial=250ms request_timeout=15000ms deadline=60000ms");
}

TEST(RentCastOptions, ReadsEveryVariable) {
  auto o = Options((Vars{{"RENTCAST_API_KEY", "k"},
                         {"RENTCAST_BASE_URL", "http://127.0.0.1:9/v1/"},
                         {"RENTCAST_MAX_RPS", "2.5"},
                         {"RENTCAST_PAGE_SIZE", "100"},
                         {"RENTCAST_MAX_PAGES", "3"},
                         {"RENTCAST_MAX_ATTEMPTS", "2"},
                         {"RENTCAST_BACKOFF_INITIAL_MS", "10"},
                         {"RENTCAST_TIMEOUT_SECONDS", "4"},
                         {"RENTCAST_DEADLINE_SECONDS", "20"}}));
  ASSERT_TRUE(o) << o.error().ToString();
  EXPECT_EQ(VariableFields(*o),
            "base_url=http://127.0.0.1:9/v1 max_rps=2.5 page_size=100 max_pages=3 "
            "max_attempts=2 backoff_initial=10ms request_timeout=4000ms deadline=20000ms");
}

TEST(RentCastOptions, RejectsMissingKeyAndBadValues) {
  auto missing = Open((Vars{{"DATA_PROVIDER", "rentcast"}}));
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code, ErrorCode::kInvalidArgument);
  EXPECT_EQ(missing.error().message, "RENTCAST_API_KEY is required when DATA_PROVIDER=rentcast");

  auto page = Options((Vars{{"RENTCAST_API_KEY", "k"}, {"RENTCAST_PAGE_SIZE", "501"}}));
  ASSERT_FALSE(page);
  EXPECT_EQ(page.error().message,
            "RENTCAST_PAGE_SIZE: must be a whole number from 1 to 500, got \"501\"");

  auto rps = Options((Vars{{"RENTCAST_API_KEY", "k"}, {"RENTCAST_MAX_RPS", "0"}}));
  ASSERT_FALSE(rps);
  EXPECT_EQ(rps.error().code, ErrorCode::kInvalidArgument);

  auto url = Options((Vars{{"RENTCAST_API_KEY", "k"}, {"RENTCAST_BASE_URL", "api.rentcast.io"}}));
  ASSERT_FALSE(url);
  EXPECT_EQ(url.error().message,
            "RENTCAST_BASE_URL must start with http:// or https://, got \"api.rentcast.io\"");
}

TEST(RentCastFactory, DataProviderRentcastBuildsTheHttpProvider) {
  auto p = Open((Vars{{"DATA_PROVIDER", "rentcast"}, {"RENTCAST_API_KEY", "k"}}));
  ASSERT_TRUE(p) << p.error().ToString();
  EXPECT_EQ((*p)->Name(), "rentcast");

  auto no_key = Open((Vars{{"DATA_PROVIDER", "rentcast"}}));
  ASSERT_FALSE(no_key);
  EXPECT_EQ(no_key.error().code, ErrorCode::kInvalidArgument);
}

}  // namespace
}  // namespace dripr
