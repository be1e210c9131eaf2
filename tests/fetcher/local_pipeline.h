#pragma once
// The real components for fetcher-layer tests, in a temporary directory: a migrated SQLite
// store alone (LocalStore, LocalStoreTest), or a SQLite store and an embedded bus sharing one
// database file as `dripr data-fetcher` opens them by default (LocalPipeline, LocalPipelineTest).

#include <gtest/gtest.h>

#include "bus/temp_dir.h"
#include "dripr/fetcher/wiring.h"

namespace dripr::testing {

// A migrated SQLite store on "t.db" in `dir`.
struct LocalStore {
  TempDir dir;
  StorePtr store;

  // Opens and migrates `store` (call from SetUp inside ASSERT_NO_FATAL_FAILURE). `clock`:
  // null for the system clock; it must outlive the store.
  void Open(const Clock* clock = nullptr) {
    store = OpenAnother(clock);
    ASSERT_NE(store, nullptr);
    auto migrated = store->Migrate();
    ASSERT_TRUE(migrated) << migrated.error().ToString();
  }
  // Another Store on the same file, as another process would have; null (and a test
  // failure) when it cannot be opened.
  StorePtr OpenAnother(const Clock* clock = nullptr) const {
    StoreOptions o;
    o.database_url = "sqlite:" + dir.File("t.db");
    o.clock = clock;
    auto s = OpenStore(o);
    EXPECT_TRUE(s) << s.error().ToString();
    return s ? std::move(*s) : nullptr;
  }
};

// A fixture on a LocalStore opened for each test on a manual clock (in late 2026).
class LocalStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_NO_FATAL_FAILURE(local_.Open(&clock_));
    store_ = local_.store.get();
  }

  ManualClock clock_{SysTime{} + std::chrono::hours(24 * 365 * 56)};
  LocalStore local_;
  Store* store_ = nullptr;
};

struct LocalPipeline {
  TempDir dir;
  StorePtr store;
  BusPtr bus;

  // Opens both (call from SetUp inside ASSERT_NO_FATAL_FAILURE).
  void Open() {
    AppConfig config;
    config.database_url = "sqlite:" + dir.File("t.db");
    config.embedded_bus_path = dir.File("t.db");
    auto s = OpenConfiguredStore(config, StoreSetup{});
    ASSERT_TRUE(s) << s.error().ToString();
    store = std::move(*s);
    auto b = OpenConfiguredBus(config);
    ASSERT_TRUE(b) << b.error().ToString();
    bus = std::move(*b);
  }
};

// A fixture on a LocalPipeline opened for each test.
class LocalPipelineTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_NO_FATAL_FAILURE(local_.Open());
    store_ = local_.store.get();
    bus_ = local_.bus.get();
  }

  LocalPipeline local_;
  Store* store_ = nullptr;
  Bus* bus_ = nullptr;
};

}  // namespace dripr::testing
