#pragma once
// The Store contract suite (store/store.h): one set of tests every backend must pass.
//
// A backend's test file instantiates it with a factory that makes a FRESH, EMPTY, MIGRATED
// database per test, e.g.
//
//   INSTANTIATE_TEST_SUITE_P(Sqlite, StoreContractTest,
//                            ::testing::Values(StoreBackend{"sqlite", &MakeSqliteStore}),
//                            StoreBackendName);
//
// Pass StoreBackendName as the name generator: besides naming the tests it is what makes
// the linker keep this suite (it lives in a static library).

#include <gtest/gtest.h>

#include <functional>
#include <ostream>
#include <string>

#include "dripr/core/clock.h"
#include "dripr/store/store.h"
#include "support/campaign_ids.h"

namespace dripr {

// One database under test.
struct StoreUnderTest {
  StorePtr store;  // migrated, empty; null when the backend is unavailable (see skip_reason)
  // Opens another Store on the SAME database, as a second process would (not migrated again),
  // with the same required parts.
  std::function<StorePtr(const Clock* clock)> reopen;
  // Runs raw SQL on the same database; test set-up only (faking a newer schema).
  std::function<Status(const std::string& sql)> exec_sql;
  // Non-empty: the backend cannot run here (e.g. DRIPR_TEST_PG_URL unset) and tests skip.
  std::string skip_reason;
};

struct StoreBackend {
  std::string name;  // test-name suffix, e.g. "sqlite"
  std::function<StoreUnderTest(const Clock* clock, const RequiredParts& required)> make;
};

std::string StoreBackendName(const ::testing::TestParamInfo<StoreBackend>& info);
// gtest prints the parameter by its name (instead of a byte dump).
void PrintTo(const StoreBackend& backend, std::ostream* os);

class StoreContractTest : public ::testing::TestWithParam<StoreBackend> {
 protected:
  StoreContractTest();
  void SetUp() override;

  // Replaces the database with a fresh one requiring only `required` parts.
  void Remake(const RequiredParts& required);
  Store& store() { return *db_.store; }

  // A campaign "id" in zip 02139, with a property unless `no_address`.
  static NewCampaign NewCampaignFor(const std::string& id, bool no_address = false);
  // Creates and starts a campaign; returns its data cycle. Fails the test on error.
  int64_t CreateAndStart(const std::string& id);
  Campaign MustGet(const CampaignId& id);
  Campaign MustGet(std::string_view id) { return MustGet(Cid(id)); }
  std::vector<OutboxRow> MustOutbox(const CampaignId& id);
  std::vector<OutboxRow> MustOutbox(std::string_view id) { return MustOutbox(Cid(id)); }
  // Deterministic rows; the last one leaves every optional field empty.
  static std::vector<RankedRecord> Listings(int n, const std::string& tag);
  static std::vector<RankedRecord> Sales(int n, const std::string& tag);
  static MarketData Market(const std::string& zip, const std::string& month, double price);
  static PartData ListingsPart(int n, const std::string& tag);
  static PartData SalesPart(int n, const std::string& tag);
  static PartData MarketPart(const std::string& month, double price);

  ManualClock clock_;
  StoreUnderTest db_;
};

}  // namespace dripr
