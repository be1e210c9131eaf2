#include "dripr/providers/provider.h"

#include <algorithm>
#include <cctype>
#include <type_traits>

#include "dripr/core/clock.h"
#include "dripr/providers/rentcast/rentcast_provider.h"
#include "dripr/providers/sample/sample_provider.h"

namespace dripr {
namespace {

// Counts the calls of a provider that makes no HTTP requests of its own (the sample
// provider). Endpoints are named after the RentCast endpoints the calls stand for, so
// dashboards work with either provider; `code` is 200, 404 (no market data) or the
// error's code (e.g. "unavailable").
class MeteredProvider final : public Provider {
 public:
  MeteredProvider(ProviderPtr inner, Metrics& metrics, Ticker& ticker)
      : inner_(std::move(inner)), metrics_(metrics), ticker_(ticker) {}
  std::string Name() const override { return inner_->Name(); }
  bool CallsAreCpuOnly() const override { return inner_->CallsAreCpuOnly(); }
  Result<MarketData> Market(const std::string& zip) override {
    return Timed("/markets", [&] { return inner_->Market(zip); });
  }
  Result<std::vector<PropertyRecord>> ActiveListings(const SearchArea& area) override {
    return Timed("/listings/sale", [&] { return inner_->ActiveListings(area); });
  }
  Result<std::vector<PropertyRecord>> RecentSales(const SearchArea& area, int days) override {
    return Timed("/properties", [&] { return inner_->RecentSales(area, days); });
  }

 private:
  template <typename F>
  std::invoke_result_t<F&> Timed(const std::string& endpoint, F call) {
    const auto start = ticker_.Now();
    auto r = call();
    std::string code = "200";
    if (!r) {
      code = r.error().code == ErrorCode::kNotFound ? "404" : std::string(ToString(r.error().code));
      std::transform(code.begin(), code.end(), code.begin(),
                     [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    }
    const std::string provider = inner_->Name();
    metrics_
        .Counter(kProviderRequests,
                 {{"provider", provider}, {"endpoint", endpoint}, {"code", code}})
        .Increment();
    metrics_.Histogram(kProviderRequestDuration, {{"provider", provider}, {"endpoint", endpoint}})
        .Observe(std::chrono::duration<double>(ticker_.Now() - start).count());
    return r;
  }

  const ProviderPtr inner_;
  Metrics& metrics_;
  Ticker& ticker_;
};

}  // namespace

ProviderPtr WithMetering(ProviderPtr inner, Metrics& metrics, Ticker& ticker) {
  return std::make_unique<MeteredProvider>(std::move(inner), metrics, ticker);
}

Result<ProviderPtr> OpenProvider(ProviderKind kind, const SampleProviderOptions& sample,
                                 const RentCastOptions& rentcast, Metrics* metrics,
                                 std::shared_ptr<SharedBudget> budget, Ticker* ticker,
                                 Random* random) {
  if (kind == ProviderKind::kRentCast) {
    // The RentCast provider counts each HTTP request itself (status codes, retries).
    return OpenRentCastProvider(rentcast, nullptr, nullptr, metrics, std::move(budget), ticker,
                                random);
  }
  SampleProviderOptions options = sample;
  if (!options.zips && !options.zip_csv_path.empty()) {
    auto zips = ZipCentroids::LoadFile(options.zip_csv_path);
    if (!zips) {
      return Fail(ErrorCode::kInvalidArgument,
                  options.zip_csv_variable + ": " + zips.error().message);
    }
    options.zips = std::make_shared<const ZipCentroids>(std::move(*zips));
  }
  ProviderPtr p =
      std::make_unique<SampleProvider>(SystemClock::Instance(), std::move(options), ticker);
  if (metrics != nullptr) p = WithMetering(std::move(p), *metrics, OrRealTicker(ticker));
  return p;
}

}  // namespace dripr
