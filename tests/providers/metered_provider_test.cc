// WithMetering: every call counted by endpoint and code, and timed on the injected ticker
// (the histogram holds exactly the time the ticker moved during the call).
#include <gtest/gtest.h>

#include "dripr/providers/provider.h"

namespace dripr::testing {
namespace {

using std::chrono::milliseconds;

// A provider whose calls take a scripted time on the ticker.
class SlowProvider final : public Provider {
 public:
  explicit SlowProvider(ManualTicker& ticker) : ticker_(ticker) {}
  std::string Name() const override { return "slow"; }
  Result<MarketData> Market(const std::string&) override {
    ticker_.Advance(milliseconds(250));
    return Fail(ErrorCode::kNotFound, "no market data");
  }
  Result<std::vector<PropertyRecord>> ActiveListings(const SearchArea&) override {
    ticker_.Advance(milliseconds(1500));
    return std::vector<PropertyRecord>{};
  }
  Result<std::vector<PropertyRecord>> RecentSales(const SearchArea&, int) override {
    ticker_.Advance(milliseconds(3));
    return Fail(ErrorCode::kUnavailable, "down");
  }

 private:
  ManualTicker& ticker_;
};

bool HasLine(const std::string& text, const std::string& line) {
  return text.find("\n" + line + "\n") != std::string::npos;
}

TEST(MeteredProvider, TimesEachCallOnTheTickerAndCountsItsCode) {
  ManualTicker ticker;
  Metrics metrics;
  ProviderPtr p = WithMetering(std::make_unique<SlowProvider>(ticker), metrics, ticker);
  EXPECT_EQ(p->Name(), "slow");
  EXPECT_EQ(p->Market("12345").error().code, ErrorCode::kNotFound);
  EXPECT_TRUE(p->ActiveListings({}));
  EXPECT_TRUE(p->ActiveListings({}));
  EXPECT_EQ(p->RecentSales({}, 90).error().code, ErrorCode::kUnavailable);

  const std::string text = "\n" + metrics.Expose();
  const std::string d = "dripr_provider_request_duration_seconds";
  EXPECT_TRUE(HasLine(text, d + R"(_sum{endpoint="/markets",provider="slow"} 0.25)")) << text;
  EXPECT_TRUE(HasLine(text, d + R"(_sum{endpoint="/listings/sale",provider="slow"} 3)")) << text;
  EXPECT_TRUE(HasLine(text, d + R"(_count{endpoint="/listings/sale",provider="slow"} 2)")) << text;
  EXPECT_TRUE(HasLine(text, d + R"(_sum{endpoint="/properties",provider="slow"} 0.003)")) << text;
  const std::string r = "dripr_provider_requests_total";
  EXPECT_TRUE(HasLine(text, r + R"({code="404",endpoint="/markets",provider="slow"} 1)")) << text;
  EXPECT_TRUE(HasLine(text, r + R"({code="200",endpoint="/listings/sale",provider="slow"} 2)"))
      << text;
  EXPECT_TRUE(HasLine(text, r + R"({code="unavailable",endpoint="/properties",provider="slow"} 1)"))
      << text;
}

}  // namespace
}  // namespace dripr::testing
