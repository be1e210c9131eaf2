#pragma once
// A SQLite store and an embedded bus sharing one database file in a temporary directory, as
// `dripr data-fetcher` opens them by default: the real components for fetcher-layer tests.

#include <gtest/gtest.h>

#include "bus/temp_dir.h"
#include "dripr/fetcher/wiring.h"

namespace dripr::testing {

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

}  // namespace dripr::testing
