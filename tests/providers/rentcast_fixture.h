#pragma once
// Shared set-up for the RentCast tests: a fake RentCast server in-process on a free
// loopback port, and RentCastProviders talking to it over the real libcurl transport.

#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <string>

#include "dripr/core/http.h"
#include "dripr/core/random.h"
#include "dripr/providers/rentcast/rentcast_provider.h"
#include "support/fake_rentcast.h"

namespace dripr {

inline constexpr char kTestApiKey[] = "rc-test-KEY-5ecr3t-0042";
inline constexpr char kTestToday[] = "2025-09-15";

inline const GeoPoint kAustin{30.2672, -97.7431};

class RentCastFixture : public ::testing::Test {
 protected:
  void SetUp() override {
    fake::FakeRentCastConfig config;
    config.api_key = kTestApiKey;
    config.world.today = kTestToday;
    config.world.odd_fraction = 0;
    server_ = std::make_unique<fake::FakeRentCastServer>(config);
    auto port = server_->Start();
    ASSERT_TRUE(port) << port.error().ToString();
  }
  void TearDown() override { server_->Stop(); }

  // Fast retries, a generous rate, and short timeouts so fault tests stay quick.
  RentCastOptions Options() const {
    RentCastOptions o;
    o.api_key = kTestApiKey;
    o.base_url = server_->base_url();
    o.max_rps = 1000;
    o.page_size = 500;
    o.max_pages = 5;
    o.max_attempts = 3;
    o.backoff_initial = std::chrono::milliseconds(5);
    o.backoff_max = std::chrono::milliseconds(40);
    o.request_timeout = std::chrono::seconds(3);
    o.deadline = std::chrono::seconds(10);
    return o;
  }

  std::unique_ptr<RentCastProvider> Provider(const RentCastOptions& o) const {
    auto limiter = std::make_shared<RateLimiter>(RateLimiterOptions{.max_rps = o.max_rps},
                                                 std::make_shared<SteadyTicker>());
    return std::make_unique<RentCastProvider>(o, NewCurlHttpClient(), limiter);
  }
  std::unique_ptr<RentCastProvider> Provider() const { return Provider(Options()); }
  // A provider that waits on `ticker` and draws its retry jitter from `random` (both must
  // outlive it), over `http` (null: libcurl).
  static std::unique_ptr<RentCastProvider> Provider(const RentCastOptions& o, Ticker& ticker,
                                                    Random& random, HttpClientPtr http = nullptr) {
    auto limiter = std::make_shared<RateLimiter>(
        RateLimiterOptions{.max_rps = o.max_rps},
        std::shared_ptr<Ticker>(std::shared_ptr<Ticker>(), &ticker));  // not owned
    return std::make_unique<RentCastProvider>(o, http ? std::move(http) : NewCurlHttpClient(),
                                              limiter, SystemClock::Instance(), nullptr, &random);
  }

  // Requests the server saw for paths containing `path`.
  std::vector<fake::FakeRequestLog> RequestsTo(const std::string& path) const {
    std::vector<fake::FakeRequestLog> out;
    for (auto& r : server_->Requests()) {
      if (r.path.find(path) != std::string::npos) out.push_back(r);
    }
    return out;
  }

  std::unique_ptr<fake::FakeRentCastServer> server_;
};

}  // namespace dripr
