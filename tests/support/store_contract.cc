// Store contract suite, part 1: fixture, campaigns and transitions. Part 2 (outbox, market
// data, zip codes, migrations, notifications) is store_contract_outbox.cc.

#include "support/store_contract.h"

#include <gmock/gmock.h>

#include <latch>
#include <thread>

#include "dripr/domain/event.h"
#include "support/campaign_ids.h"

namespace dripr {

void StoreContractOutboxAnchor();      // store_contract_outbox.cc
void StoreContractReconcilerAnchor();  // store_contract_reconciler.cc
void StoreContractRecoveryAnchor();    // store_contract_recovery.cc
void StoreContractBatchAnchor();       // store_contract_batch.cc
void StoreContractClusterAnchor();     // store_contract_cluster.cc

namespace {

using ::testing::HasSubstr;
using namespace std::chrono_literals;

// 2026-11-29T13:40:22Z
SysTime StartTime() {
  using namespace std::chrono;
  return sys_days{year{2026} / 11 / 29} + 13h + 40min + 22s;
}

}  // namespace

std::string StoreBackendName(const ::testing::TestParamInfo<StoreBackend>& info) {
  StoreContractOutboxAnchor();
  StoreContractReconcilerAnchor();
  StoreContractRecoveryAnchor();
  StoreContractBatchAnchor();
  StoreContractClusterAnchor();
  return info.param.name;
}

void PrintTo(const StoreBackend& backend, std::ostream* os) { *os << backend.name; }

StoreContractTest::StoreContractTest() : clock_(StartTime()) {}

void StoreContractTest::SetUp() { Remake(RequiredParts()); }

void StoreContractTest::Remake(const RequiredParts& required) {
  db_ = StoreUnderTest{};
  db_ = GetParam().make(&clock_, required);
  if (!db_.skip_reason.empty()) GTEST_SKIP() << db_.skip_reason;
  ASSERT_NE(db_.store, nullptr) << "backend " << GetParam().name << " made no store";
}

NewCampaign StoreContractTest::NewCampaignFor(const std::string& id, bool no_address) {
  NewCampaign c;
  c.id = id;
  c.user_id = "user-" + id;
  c.zip_code = "02139";
  if (!no_address) {
    c.property =
        PropertyData{"12 Main St, Cambridge, MA 02139", GeoPoint{42.3625, -71.0980}, 850000};
  }
  return c;
}

int64_t StoreContractTest::CreateAndStart(const std::string& id) {
  auto created = store().CreateCampaign(NewCampaignFor(id));
  EXPECT_TRUE(created) << created.error().ToString();
  auto started = store().StartCampaign(Cid(id));
  EXPECT_TRUE(started) << started.error().ToString();
  if (!started) return -1;
  EXPECT_TRUE(started->changed) << started->reason;
  return started->campaign.data_cycle;
}

Campaign StoreContractTest::MustGet(const CampaignId& id) {
  auto c = store().GetCampaign(id);
  EXPECT_TRUE(c) << c.error().ToString();
  return c ? *c : Campaign{};
}

std::vector<OutboxRow> StoreContractTest::MustOutbox(const CampaignId& id) {
  auto rows = store().OutboxForCampaign(id);
  EXPECT_TRUE(rows) << rows.error().ToString();
  return rows ? *rows : std::vector<OutboxRow>{};
}

namespace {

std::vector<RankedRecord> Records(int n, const std::string& tag, bool sale) {
  std::vector<RankedRecord> out;
  for (int i = 1; i <= n; ++i) {
    RankedRecord r;
    r.rank = i;
    r.score = 1.0 / i;
    r.distance_miles = 0.25 * i;
    PropertyRecord& p = r.record;
    p.source_id = tag + "-" + std::to_string(i);
    p.formatted_address = std::to_string(i) + " " + tag + " St, Cambridge, MA 02139";
    if (i < n || n == 1) {
      p.address_line1 = std::to_string(i) + " " + tag + " St";
      p.city = "Cambridge";
      p.state = "MA";
      p.zip_code = "02139";
      p.location = GeoPoint{42.36 + 0.001 * i, -71.1 - 0.001 * i};
      p.property_type = "Single Family";
      p.bedrooms = 2 + i;
      p.bathrooms = 1.5 + i;
      p.square_footage = 1000 + 10 * i;
      p.price = 500000 + 1000 * i;
      p.event_date = "2026-11-0" + std::to_string(1 + i % 9);
      if (!sale) p.days_on_market = 3 * i;
    }
    out.push_back(std::move(r));
  }
  return out;
}

}  // namespace

std::vector<RankedRecord> StoreContractTest::Listings(int n, const std::string& tag) {
  return Records(n, tag, /*sale=*/false);
}

std::vector<RankedRecord> StoreContractTest::Sales(int n, const std::string& tag) {
  return Records(n, tag, /*sale=*/true);
}

MarketData StoreContractTest::Market(const std::string& zip, const std::string& month,
                                     double price) {
  MarketData m;
  m.zip_code = zip;
  m.current = MarketMonth{month, price, price / 1000, 21.5, 140};
  m.previous = MarketMonth{"2026-08", price - 10000, std::nullopt, 30, std::nullopt};
  return m;
}

PartData StoreContractTest::ListingsPart(int n, const std::string& tag) {
  return PartData{DataPart::kActiveListings, Listings(n, tag), std::nullopt};
}

PartData StoreContractTest::SalesPart(int n, const std::string& tag) {
  return PartData{DataPart::kRecentSales, Sales(n, tag), std::nullopt};
}

PartData StoreContractTest::MarketPart(const std::string& month, double price) {
  // zip_code left empty: the store files it under the campaign's zip.
  return PartData{DataPart::kLocalMarketData, {}, Market("", month, price)};
}

namespace {

// ---------------------------------------------------------------- campaigns

TEST_P(StoreContractTest, CreateAndGetCampaignWithProperty) {
  auto created = store().CreateCampaign(NewCampaignFor("c-1"));
  ASSERT_TRUE(created) << created.error().ToString();
  EXPECT_EQ(created->id, "c-1");
  EXPECT_EQ(created->user_id, "user-c-1");
  EXPECT_EQ(created->zip_code, "02139");
  EXPECT_FALSE(created->no_address_newsletter);
  EXPECT_EQ(created->status, CampaignStatus::kDormant);
  for (DataPart p : kAllDataParts) EXPECT_EQ(created->part(p), PartStatus::kDormant);
  EXPECT_EQ(created->data_cycle, 0);
  EXPECT_EQ(created->error_text, "");
  EXPECT_EQ(created->created_at, StartTime());
  EXPECT_EQ(created->updated_at, StartTime());

  EXPECT_EQ(MustGet("c-1"), *created);
  auto property = store().GetProperty(Cid("c-1"));
  ASSERT_TRUE(property) << property.error().ToString();
  ASSERT_TRUE(property->has_value());
  EXPECT_EQ((*property)->formatted_address, "12 Main St, Cambridge, MA 02139");
  EXPECT_EQ((*property)->location.lat, 42.3625);
  EXPECT_EQ((*property)->location.lng, -71.0980);
  EXPECT_EQ((*property)->current_value, 850000);
}

TEST_P(StoreContractTest, NoAddressNewsletterHasNoProperty) {
  auto created = store().CreateCampaign(NewCampaignFor("news", /*no_address=*/true));
  ASSERT_TRUE(created) << created.error().ToString();
  EXPECT_TRUE(created->no_address_newsletter);
  EXPECT_TRUE(MustGet("news").no_address_newsletter);
  auto property = store().GetProperty(Cid("news"));
  ASSERT_TRUE(property) << property.error().ToString();
  EXPECT_FALSE(property->has_value());
}

TEST_P(StoreContractTest, ZipPlus4IsStoredAsFiveDigitsWithLeadingZeros) {
  NewCampaign c = NewCampaignFor("c-zip");
  c.zip_code = "02139-4307";
  ASSERT_TRUE(store().CreateCampaign(c));
  EXPECT_EQ(MustGet("c-zip").zip_code, "02139");
}

TEST_P(StoreContractTest, CreateRejectsBadInputAndStoresNothing) {
  NewCampaign bad_zip = NewCampaignFor("c-1");
  bad_zip.zip_code = "2139";
  auto r = store().CreateCampaign(bad_zip);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::kInvalidArgument);
  EXPECT_THAT(r.error().message, HasSubstr("zip_code"));

  r = store().CreateCampaign(NewCampaignFor(""));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::kInvalidArgument);
  EXPECT_EQ(r.error().message, "campaign id: must not be empty");

  NewCampaign bad_lat = NewCampaignFor("c-2");
  bad_lat.property->location.lat = 91;
  r = store().CreateCampaign(bad_lat);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::kInvalidArgument);

  auto all = store().ListCampaigns(std::nullopt);
  ASSERT_TRUE(all);
  EXPECT_TRUE(all->empty());
}

TEST_P(StoreContractTest, CreatingAnExistingIdIsAlreadyExists) {
  auto first = store().CreateCampaign(NewCampaignFor("c-1"));
  ASSERT_TRUE(first);
  NewCampaign again = NewCampaignFor("c-1", /*no_address=*/true);
  again.zip_code = "10001";
  auto r = store().CreateCampaign(again);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::kAlreadyExists);
  EXPECT_EQ(r.error().message, "campaign c-1 already exists");
  EXPECT_EQ(MustGet("c-1"), *first);
}

TEST_P(StoreContractTest, MissingCampaignIsNotFoundEverywhere) {
  auto expect_not_found = [](const Error& e) {
    EXPECT_EQ(e.code, ErrorCode::kNotFound) << e.ToString();
    EXPECT_THAT(e.message, HasSubstr("nope"));
  };
  expect_not_found(store().GetCampaign(Cid("nope")).error());
  expect_not_found(store().GetProperty(Cid("nope")).error());
  expect_not_found(store().LoadForPart(Cid("nope")).error());
  expect_not_found(store().StartCampaign(Cid("nope")).error());
  expect_not_found(store().CompletePart(Cid("nope"), 1, ListingsPart(1, "x")).error());
  expect_not_found(store().FailCampaign(Cid("nope"), std::nullopt, std::nullopt, "boom").error());
  expect_not_found(store().ResetCampaign(Cid("nope")).error());
  EXPECT_TRUE(MustOutbox("nope").empty());
}

TEST_P(StoreContractTest, ListCampaignsAllAndByStatus) {
  ASSERT_TRUE(store().CreateCampaign(NewCampaignFor("a")));
  clock_.Advance(1s);
  ASSERT_TRUE(store().CreateCampaign(NewCampaignFor("b")));
  clock_.Advance(1s);
  ASSERT_TRUE(store().CreateCampaign(NewCampaignFor("c")));
  ASSERT_TRUE(store().StartCampaign(Cid("b")));

  auto all = store().ListCampaigns(std::nullopt);
  ASSERT_TRUE(all) << all.error().ToString();
  ASSERT_EQ(all->size(), 3u);
  EXPECT_EQ((*all)[0].id, "a");
  EXPECT_EQ((*all)[1].id, "b");
  EXPECT_EQ((*all)[2].id, "c");

  auto waiting = store().ListCampaigns(CampaignStatus::kWaitingForData);
  ASSERT_TRUE(waiting);
  ASSERT_EQ(waiting->size(), 1u);
  EXPECT_EQ((*waiting)[0].id, "b");
  auto dormant = store().ListCampaigns(CampaignStatus::kDormant);
  ASSERT_TRUE(dormant);
  EXPECT_EQ(dormant->size(), 2u);
  auto errors = store().ListCampaigns(CampaignStatus::kError);
  ASSERT_TRUE(errors);
  EXPECT_TRUE(errors->empty());
}

TEST_P(StoreContractTest, ListCampaignsPageKeysetFilterAndSearch) {
  for (const char* id : {"b2", "a1", "c3", "a10", "d4"}) {
    ASSERT_TRUE(store().CreateCampaign(NewCampaignFor(id)));
  }
  NewCampaign other = NewCampaignFor("z9");
  other.zip_code = "10001";
  ASSERT_TRUE(store().CreateCampaign(other));
  ASSERT_TRUE(store().StartCampaign(Cid("c3")));
  ASSERT_TRUE(store().StartCampaign(Cid("a10")));
  auto ids = [](const std::vector<Campaign>& v) {
    std::vector<std::string> out;
    for (const auto& c : v) out.push_back(c.id.str());
    return out;
  };
  auto first = store().ListCampaignsPage({.limit = 2});
  ASSERT_TRUE(first) << first.error().ToString();
  EXPECT_EQ(ids(*first), (std::vector<std::string>{"a1", "a10"}));
  auto second = store().ListCampaignsPage({.after_id = Cid("a10"), .limit = 3});
  ASSERT_TRUE(second);
  EXPECT_EQ(ids(*second), (std::vector<std::string>{"b2", "c3", "d4"}));
  auto waiting = store().ListCampaignsPage({.status = CampaignStatus::kWaitingForData});
  ASSERT_TRUE(waiting);
  EXPECT_EQ(ids(*waiting), (std::vector<std::string>{"a10", "c3"}));
  auto prefix = store().ListCampaignsPage({.search = "a1"});
  ASSERT_TRUE(prefix);
  EXPECT_EQ(ids(*prefix), (std::vector<std::string>{"a1", "a10"}));
  auto zip = store().ListCampaignsPage({.search = "10001"});
  ASSERT_TRUE(zip);
  EXPECT_EQ(ids(*zip), (std::vector<std::string>{"z9"}));
  auto none = store().ListCampaignsPage({.status = CampaignStatus::kDormant, .search = "c"});
  ASSERT_TRUE(none);
  EXPECT_TRUE(none->empty());
}

// ---------------------------------------------------------------- start

TEST_P(StoreContractTest, StartWritesCampaignAndOneOutboxEvent) {
  ASSERT_TRUE(store().CreateCampaign(NewCampaignFor("c-1")));
  clock_.Advance(5s);
  auto started = store().StartCampaign(Cid("c-1"));
  ASSERT_TRUE(started) << started.error().ToString();
  ASSERT_TRUE(started->changed) << started->reason;
  const Campaign& c = started->campaign;
  EXPECT_EQ(c.status, CampaignStatus::kWaitingForData);
  for (DataPart p : kAllDataParts) EXPECT_EQ(c.part(p), PartStatus::kWaitingForData);
  EXPECT_EQ(c.data_cycle, 1);
  EXPECT_EQ(c.status_changed_at, StartTime() + 5s);
  EXPECT_EQ(MustGet("c-1"), c);

  ASSERT_TRUE(started->event.has_value());
  const StatusChangeEvent& ev = *started->event;
  EXPECT_EQ(ev.campaign_id, "c-1");
  EXPECT_EQ(ev.zip_code, "02139");
  EXPECT_EQ(ev.from_status, CampaignStatus::kDormant);
  EXPECT_EQ(ev.to_status, CampaignStatus::kWaitingForData);
  EXPECT_EQ(ev.timestamp, StartTime() + 5s);
  ASSERT_TRUE(ev.event_id.has_value());
  EXPECT_EQ(ev.event_id->size(), 36u);
  EXPECT_EQ(ev.data_cycle, 1);

  auto rows = MustOutbox("c-1");
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].topic, kCampaignEventsTopic);
  EXPECT_EQ(rows[0].campaign_id, "c-1");
  EXPECT_EQ(rows[0].event_type, "STATUS_CHANGE");
  EXPECT_EQ(rows[0].attempts, 0);
  EXPECT_EQ(rows[0].created_at, StartTime() + 5s);
  using Attr = std::pair<std::string, std::string>;
  EXPECT_EQ(rows[0].attributes, (std::vector<Attr>{{"event_type", "STATUS_CHANGE"},
                                                   {"to_status", "WAITING_FOR_DATA"}}));
  auto decoded = DecodeStatusChange(rows[0].body);
  ASSERT_TRUE(decoded) << decoded.error().ToString();
  EXPECT_EQ(*decoded, ev);
}

TEST_P(StoreContractTest, SecondStartChangesNothing) {
  CreateAndStart("c-1");
  Campaign before = MustGet("c-1");
  clock_.Advance(1min);
  auto again = store().StartCampaign(Cid("c-1"));
  ASSERT_TRUE(again) << again.error().ToString();
  EXPECT_FALSE(again->changed);
  EXPECT_THAT(again->reason, HasSubstr("not DORMANT"));
  EXPECT_FALSE(again->event.has_value());
  EXPECT_EQ(again->campaign, before);
  EXPECT_EQ(MustGet("c-1"), before);
  EXPECT_EQ(MustOutbox("c-1").size(), 1u);
}

TEST_P(StoreContractTest, StartWithRequiredSubsetLeavesOtherPartsDormantAndFansInEarly) {
  Remake(RequiredParts::Of({DataPart::kActiveListings}));
  int64_t cycle = CreateAndStart("c-1");
  Campaign c = MustGet("c-1");
  EXPECT_EQ(c.part(DataPart::kActiveListings), PartStatus::kWaitingForData);
  EXPECT_EQ(c.part(DataPart::kLocalMarketData), PartStatus::kDormant);
  EXPECT_EQ(c.part(DataPart::kRecentSales), PartStatus::kDormant);

  auto done = store().CompletePart(Cid("c-1"), cycle, ListingsPart(2, "Elm"));
  ASSERT_TRUE(done) << done.error().ToString();
  EXPECT_TRUE(done->changed);
  EXPECT_EQ(done->campaign.status, CampaignStatus::kReadyToCreateEmail);
  ASSERT_TRUE(done->event.has_value());
  EXPECT_EQ(done->event->to_status, CampaignStatus::kReadyToCreateEmail);
  EXPECT_EQ(MustOutbox("c-1").size(), 2u);
}

// ---------------------------------------------------------------- parts and fan-in

TEST_P(StoreContractTest, CompleteActiveListingsStoresRowsAndMarksPartReady) {
  int64_t cycle = CreateAndStart("c-1");
  clock_.Advance(2s);
  auto done = store().CompletePart(Cid("c-1"), cycle, ListingsPart(3, "Elm"));
  ASSERT_TRUE(done) << done.error().ToString();
  EXPECT_TRUE(done->changed) << done->reason;
  EXPECT_FALSE(done->event.has_value());
  EXPECT_EQ(done->campaign.part(DataPart::kActiveListings), PartStatus::kReady);
  EXPECT_EQ(done->campaign.status, CampaignStatus::kWaitingForData);
  EXPECT_EQ(done->campaign.updated_at, StartTime() + 2s);
  EXPECT_EQ(MustGet("c-1"), done->campaign);

  auto rows = store().GetActiveListings(Cid("c-1"));
  ASSERT_TRUE(rows) << rows.error().ToString();
  EXPECT_EQ(*rows, Listings(3, "Elm"));
  auto sales = store().GetRecentSales(Cid("c-1"));
  ASSERT_TRUE(sales);
  EXPECT_TRUE(sales->empty());
  EXPECT_EQ(MustOutbox("c-1").size(), 1u);
}

TEST_P(StoreContractTest, CompleteRecentSalesRoundTripsUndisclosedPrice) {
  int64_t cycle = CreateAndStart("c-1");
  PartData part = SalesPart(4, "Oak");
  part.records[1].record.price = std::nullopt;  // undisclosed sale price
  auto done = store().CompletePart(Cid("c-1"), cycle, part);
  ASSERT_TRUE(done) << done.error().ToString();
  EXPECT_EQ(done->campaign.part(DataPart::kRecentSales), PartStatus::kReady);
  auto rows = store().GetRecentSales(Cid("c-1"));
  ASSERT_TRUE(rows) << rows.error().ToString();
  EXPECT_EQ(*rows, part.records);
  auto listings = store().GetActiveListings(Cid("c-1"));
  ASSERT_TRUE(listings);
  EXPECT_TRUE(listings->empty());
}

TEST_P(StoreContractTest, DuplicateCompletionChangesNothing) {
  int64_t cycle = CreateAndStart("c-1");
  ASSERT_TRUE(store().CompletePart(Cid("c-1"), cycle, ListingsPart(3, "Elm")));
  Campaign before = MustGet("c-1");
  auto dup = store().CompletePart(Cid("c-1"), cycle, ListingsPart(5, "Dup"));
  ASSERT_TRUE(dup) << dup.error().ToString();
  EXPECT_FALSE(dup->changed);
  EXPECT_THAT(dup->reason, HasSubstr("duplicate"));
  EXPECT_EQ(dup->campaign, before);
  EXPECT_EQ(*store().GetActiveListings(Cid("c-1")), Listings(3, "Elm"));
  EXPECT_EQ(MustOutbox("c-1").size(), 1u);
}

TEST_P(StoreContractTest, CompletionForAnotherCycleIsStaleAndWritesNothing) {
  int64_t cycle = CreateAndStart("c-1");
  for (int64_t other : {cycle - 1, cycle + 1}) {
    auto stale = store().CompletePart(Cid("c-1"), other, SalesPart(2, "Stale"));
    ASSERT_TRUE(stale) << stale.error().ToString();
    EXPECT_FALSE(stale->changed);
    EXPECT_THAT(stale->reason, HasSubstr("stale"));
  }
  auto stale_market = store().CompletePart(Cid("c-1"), cycle + 1, MarketPart("2026-10", 1));
  ASSERT_TRUE(stale_market);
  EXPECT_FALSE(stale_market->changed);
  EXPECT_EQ(MustGet("c-1").part(DataPart::kRecentSales), PartStatus::kWaitingForData);
  EXPECT_TRUE(store().GetRecentSales(Cid("c-1"))->empty());
  EXPECT_FALSE(store().LatestMarketData("02139")->has_value());
}

TEST_P(StoreContractTest, CompletionOfADormantCampaignIsStale) {
  ASSERT_TRUE(store().CreateCampaign(NewCampaignFor("c-1")));
  auto stale = store().CompletePart(Cid("c-1"), 0, ListingsPart(1, "Elm"));
  ASSERT_TRUE(stale) << stale.error().ToString();
  EXPECT_FALSE(stale->changed);
  EXPECT_THAT(stale->reason, HasSubstr("DORMANT"));
  EXPECT_TRUE(store().GetActiveListings(Cid("c-1"))->empty());
}

TEST_P(StoreContractTest, FanInWhenAllPartsReadyWritesExactlyOneEvent) {
  int64_t cycle = CreateAndStart("c-1");
  auto a = store().CompletePart(Cid("c-1"), cycle, MarketPart("2026-10", 612000));
  ASSERT_TRUE(a) << a.error().ToString();
  EXPECT_TRUE(a->changed);
  EXPECT_FALSE(a->event.has_value());
  auto b = store().CompletePart(Cid("c-1"), cycle, SalesPart(2, "Oak"));
  ASSERT_TRUE(b) << b.error().ToString();
  EXPECT_FALSE(b->event.has_value());
  clock_.Advance(3s);
  auto c = store().CompletePart(Cid("c-1"), cycle, ListingsPart(2, "Elm"));
  ASSERT_TRUE(c) << c.error().ToString();
  ASSERT_TRUE(c->changed);
  EXPECT_EQ(c->campaign.status, CampaignStatus::kReadyToCreateEmail);
  for (DataPart p : kAllDataParts) EXPECT_EQ(c->campaign.part(p), PartStatus::kReady);
  EXPECT_EQ(c->campaign.status_changed_at, StartTime() + 3s);
  ASSERT_TRUE(c->event.has_value());
  EXPECT_EQ(c->event->from_status, CampaignStatus::kWaitingForData);
  EXPECT_EQ(c->event->to_status, CampaignStatus::kReadyToCreateEmail);
  EXPECT_EQ(c->event->data_cycle, cycle);
  EXPECT_EQ(MustGet("c-1"), c->campaign);

  auto rows = MustOutbox("c-1");
  ASSERT_EQ(rows.size(), 2u);
  auto fan_in = DecodeStatusChange(rows[1].body);
  ASSERT_TRUE(fan_in) << fan_in.error().ToString();
  EXPECT_EQ(*fan_in, *c->event);
  EXPECT_EQ(rows[1].attributes[1].second, "READY_TO_CREATE_EMAIL");
  EXPECT_NE(rows[0].body, rows[1].body);

  // The market data went under the campaign's zip.
  auto market = store().LatestMarketData("02139");
  ASSERT_TRUE(market) << market.error().ToString();
  ASSERT_TRUE(market->has_value());
  EXPECT_EQ((*market)->zip_code, "02139");
  EXPECT_EQ((*market)->current, Market("", "2026-10", 612000).current);
  EXPECT_EQ((*market)->previous, Market("", "2026-10", 612000).previous);

  // A late duplicate after the fan-in is stale.
  auto late = store().CompletePart(Cid("c-1"), cycle, ListingsPart(1, "Late"));
  ASSERT_TRUE(late);
  EXPECT_FALSE(late->changed);
  EXPECT_EQ(MustOutbox("c-1").size(), 2u);
}

TEST_P(StoreContractTest, MarketPartWithoutDataMeansReuseAndInsertsNothing) {
  int64_t cycle = CreateAndStart("c-1");
  auto done = store().CompletePart(Cid("c-1"), cycle, PartData{DataPart::kLocalMarketData, {}, {}});
  ASSERT_TRUE(done) << done.error().ToString();
  EXPECT_TRUE(done->changed);
  EXPECT_EQ(done->campaign.part(DataPart::kLocalMarketData), PartStatus::kReady);
  EXPECT_FALSE(store().LatestMarketData("02139")->has_value());
}

TEST_P(StoreContractTest, RowsAreReplacedNotAppendedOnALaterCycle) {
  int64_t first = CreateAndStart("c-1");
  ASSERT_TRUE(store().CompletePart(Cid("c-1"), first, ListingsPart(3, "First")));
  ASSERT_TRUE(store().CompletePart(Cid("c-1"), first, SalesPart(3, "First")));
  ASSERT_TRUE(store().FailCampaign(Cid("c-1"), DataPart::kLocalMarketData, first, "provider down"));
  ASSERT_TRUE(store().ResetCampaign(Cid("c-1")));
  auto restarted = store().StartCampaign(Cid("c-1"));
  ASSERT_TRUE(restarted);
  ASSERT_TRUE(restarted->changed) << restarted->reason;
  int64_t second = restarted->campaign.data_cycle;
  EXPECT_EQ(second, first + 1);

  ASSERT_TRUE(store().CompletePart(Cid("c-1"), second, ListingsPart(2, "Second")));
  ASSERT_TRUE(store().CompletePart(Cid("c-1"), second, SalesPart(1, "Second")));
  EXPECT_EQ(*store().GetActiveListings(Cid("c-1")), Listings(2, "Second"));
  EXPECT_EQ(*store().GetRecentSales(Cid("c-1")), Sales(1, "Second"));
  // An empty result replaces too.
  ASSERT_TRUE(store().FailCampaign(Cid("c-1"), std::nullopt, second, "stop"));
  ASSERT_TRUE(store().ResetCampaign(Cid("c-1")));
  int64_t third = store().StartCampaign(Cid("c-1"))->campaign.data_cycle;
  ASSERT_TRUE(store().CompletePart(Cid("c-1"), third, ListingsPart(0, "None")));
  EXPECT_TRUE(store().GetActiveListings(Cid("c-1"))->empty());
}

TEST_P(StoreContractTest, ManyRowsAreStoredInRankOrder) {
  int64_t cycle = CreateAndStart("c-1");
  PartData part = ListingsPart(230, "Big");
  std::reverse(part.records.begin(), part.records.end());
  ASSERT_TRUE(store().CompletePart(Cid("c-1"), cycle, part));
  EXPECT_EQ(*store().GetActiveListings(Cid("c-1")), Listings(230, "Big"));
}

// Three handlers finish the three parts of the same campaign at the same moment: exactly one
// of them performs the fan-in and exactly one READY_TO_CREATE_EMAIL event is written.
void RunConcurrentFanIn(const std::vector<Store*>& stores, int campaigns,
                        const std::function<int64_t(const std::string&)>& create_and_start) {
  for (int i = 0; i < campaigns; ++i) {
    std::string id = "con-" + std::to_string(i);
    int64_t cycle = create_and_start(id);
    std::latch go(3);
    std::vector<Result<TransitionOutcome>> results(3, Fail(ErrorCode::kInternal, "not run"));
    std::vector<std::thread> threads;
    for (int k = 0; k < 3; ++k) {
      threads.emplace_back([&, k] {
        PartData part = k == 0   ? PartData{DataPart::kLocalMarketData, {}, std::nullopt}
                        : k == 1 ? PartData{DataPart::kActiveListings, Records(2, "A", false), {}}
                                 : PartData{DataPart::kRecentSales, Records(2, "S", true), {}};
        go.arrive_and_wait();
        results[k] = stores[k % stores.size()]->CompletePart(Cid(id), cycle, part);
      });
    }
    for (auto& th : threads) th.join();
    int changed = 0;
    int events = 0;
    for (const auto& r : results) {
      ASSERT_TRUE(r) << r.error().ToString();
      changed += r->changed ? 1 : 0;
      events += r->event.has_value() ? 1 : 0;
    }
    EXPECT_EQ(changed, 3) << id;
    EXPECT_EQ(events, 1) << id;
    auto rows = stores[0]->OutboxForCampaign(Cid(id));
    ASSERT_TRUE(rows);
    int ready_events = 0;
    for (const auto& row : *rows) {
      auto ev = DecodeStatusChange(row.body);
      ASSERT_TRUE(ev);
      if (ev->to_status == CampaignStatus::kReadyToCreateEmail) ++ready_events;
    }
    EXPECT_EQ(ready_events, 1) << id;
    EXPECT_EQ(stores[0]->GetCampaign(Cid(id))->status, CampaignStatus::kReadyToCreateEmail);
  }
}

TEST_P(StoreContractTest, ConcurrentCompletionsFanInExactlyOnce) {
  RunConcurrentFanIn({&store()}, 10, [&](const std::string& id) { return CreateAndStart(id); });
}

TEST_P(StoreContractTest, ConcurrentCompletionsFromSeparateInstancesFanInExactlyOnce) {
  StorePtr second = db_.reopen(&clock_);
  StorePtr third = db_.reopen(&clock_);
  ASSERT_NE(second, nullptr);
  ASSERT_NE(third, nullptr);
  RunConcurrentFanIn({&store(), second.get(), third.get()}, 10,
                     [&](const std::string& id) { return CreateAndStart(id); });
}

// ---------------------------------------------------------------- failure and reset

TEST_P(StoreContractTest, FailCampaignMarksPartAndCampaignWithOneEvent) {
  int64_t cycle = CreateAndStart("c-1");
  ASSERT_TRUE(store().CompletePart(Cid("c-1"), cycle, ListingsPart(1, "Elm")));
  auto failed =
      store().FailCampaign(Cid("c-1"), DataPart::kRecentSales, cycle, "provider said 404");
  ASSERT_TRUE(failed) << failed.error().ToString();
  ASSERT_TRUE(failed->changed) << failed->reason;
  const Campaign& c = failed->campaign;
  EXPECT_EQ(c.status, CampaignStatus::kError);
  EXPECT_EQ(c.part(DataPart::kRecentSales), PartStatus::kError);
  EXPECT_EQ(c.part(DataPart::kActiveListings), PartStatus::kReady);
  EXPECT_EQ(c.part(DataPart::kLocalMarketData), PartStatus::kWaitingForData);
  EXPECT_EQ(c.error_text, "provider said 404");
  EXPECT_EQ(MustGet("c-1"), c);
  ASSERT_TRUE(failed->event.has_value());
  EXPECT_EQ(failed->event->to_status, CampaignStatus::kError);
  auto rows = MustOutbox("c-1");
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[1].attributes[1].second, "ERROR");

  // The other parts' late results are stale now.
  auto late = store().CompletePart(Cid("c-1"), cycle, MarketPart("2026-10", 1));
  ASSERT_TRUE(late);
  EXPECT_FALSE(late->changed);
}

TEST_P(StoreContractTest, FailCampaignThatDoesNotApplyChangesNothing) {
  ASSERT_TRUE(store().CreateCampaign(NewCampaignFor("dormant")));
  auto r = store().FailCampaign(Cid("dormant"), std::nullopt, std::nullopt, "x");
  ASSERT_TRUE(r) << r.error().ToString();
  EXPECT_FALSE(r->changed);
  EXPECT_THAT(r->reason, HasSubstr("not WAITING_FOR_DATA"));

  int64_t cycle = CreateAndStart("c-1");
  auto stale = store().FailCampaign(Cid("c-1"), DataPart::kActiveListings, cycle + 1, "x");
  ASSERT_TRUE(stale);
  EXPECT_FALSE(stale->changed);
  EXPECT_THAT(stale->reason, HasSubstr("stale"));

  ASSERT_TRUE(store().FailCampaign(Cid("c-1"), std::nullopt, cycle, "first"));
  auto twice = store().FailCampaign(Cid("c-1"), std::nullopt, cycle, "second");
  ASSERT_TRUE(twice);
  EXPECT_FALSE(twice->changed);
  EXPECT_EQ(MustGet("c-1").error_text, "first");
  EXPECT_EQ(MustOutbox("c-1").size(), 2u);
  EXPECT_TRUE(MustOutbox("dormant").empty());
}

TEST_P(StoreContractTest, ResetReturnsAnErrorCampaignToDormant) {
  int64_t cycle = CreateAndStart("c-1");
  ASSERT_TRUE(store().FailCampaign(Cid("c-1"), DataPart::kActiveListings, cycle, "boom"));
  auto reset = store().ResetCampaign(Cid("c-1"));
  ASSERT_TRUE(reset) << reset.error().ToString();
  ASSERT_TRUE(reset->changed) << reset->reason;
  EXPECT_EQ(reset->campaign.status, CampaignStatus::kDormant);
  for (DataPart p : kAllDataParts) EXPECT_EQ(reset->campaign.part(p), PartStatus::kDormant);
  EXPECT_EQ(reset->campaign.error_text, "");
  EXPECT_EQ(reset->campaign.data_cycle, cycle);
  EXPECT_EQ(MustGet("c-1"), reset->campaign);
  ASSERT_TRUE(reset->event.has_value());
  EXPECT_EQ(reset->event->from_status, CampaignStatus::kError);
  EXPECT_EQ(reset->event->to_status, CampaignStatus::kDormant);
  EXPECT_EQ(MustOutbox("c-1").size(), 3u);

  auto again = store().ResetCampaign(Cid("c-1"));
  ASSERT_TRUE(again);
  EXPECT_FALSE(again->changed);
  EXPECT_THAT(again->reason, HasSubstr("not ERROR"));
  EXPECT_EQ(MustOutbox("c-1").size(), 3u);
}

}  // namespace
}  // namespace dripr
