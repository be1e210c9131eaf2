// Store contract suite, part 3: CreateCampaigns, the batch creation `dripr campaign import`
// uses. All or nothing per call; with start, the same rows and events as StartCampaign.

#include <gmock/gmock.h>

#include <algorithm>

#include "dripr/domain/event.h"
#include "support/campaign_ids.h"
#include "support/store_contract.h"

namespace dripr {

// Referenced from StoreBackendName so that the linker keeps this file's tests.
void StoreContractBatchAnchor() {}

namespace {

using ::testing::HasSubstr;

TEST_P(StoreContractTest, CreateCampaignsCreatesAllDormant) {
  std::vector<NewCampaign> batch = {NewCampaignFor("b-1"), NewCampaignFor("b-2", true),
                                    NewCampaignFor("b-3")};
  batch[2].zip_code = "02139-4307";
  auto created = store().CreateCampaigns(batch, /*start=*/false);
  ASSERT_TRUE(created) << created.error().ToString();
  ASSERT_EQ(created->size(), 3u);
  EXPECT_EQ((*created)[0].id, "b-1");
  EXPECT_EQ((*created)[2].zip_code, "02139");
  for (const auto& c : *created) {
    EXPECT_EQ(c.status, CampaignStatus::kDormant);
    EXPECT_EQ(MustGet(c.id), c);
    EXPECT_TRUE(MustOutbox(c.id).empty());
  }
  auto property = store().GetProperty(Cid("b-1"));
  ASSERT_TRUE(property && property->has_value());
  EXPECT_EQ((*property)->current_value, 850000);
  EXPECT_TRUE(MustGet("b-2").no_address_newsletter);
}

TEST_P(StoreContractTest, CreateCampaignsWithStartQueuesOneStatusChangeEach) {
  std::vector<NewCampaign> batch;
  for (int i = 0; i < 50; ++i) batch.push_back(NewCampaignFor("s-" + std::to_string(i)));
  auto created = store().CreateCampaigns(batch, /*start=*/true);
  ASSERT_TRUE(created) << created.error().ToString();
  ASSERT_EQ(created->size(), 50u);
  for (const auto& c : *created) {
    EXPECT_EQ(c.status, CampaignStatus::kWaitingForData);
    EXPECT_EQ(c.data_cycle, 1);
    EXPECT_EQ(MustGet(c.id), c);
    auto outbox = MustOutbox(c.id);
    ASSERT_EQ(outbox.size(), 1u) << c.id;
    auto ev = DecodeStatusChange(outbox[0].body);
    ASSERT_TRUE(ev) << ev.error().ToString();
    EXPECT_EQ(ev->campaign_id, c.id);
    EXPECT_EQ(ev->from_status, CampaignStatus::kDormant);
    EXPECT_EQ(ev->to_status, CampaignStatus::kWaitingForData);
    EXPECT_EQ(ev->data_cycle, 1);
  }
  auto pending = store().PendingOutboxCount();
  ASSERT_TRUE(pending);
  EXPECT_EQ(*pending, 50);
}

TEST_P(StoreContractTest, CreateCampaignsIsAllOrNothing) {
  ASSERT_TRUE(store().CreateCampaign(NewCampaignFor("taken")));
  std::vector<NewCampaign> batch = {NewCampaignFor("n-1"), NewCampaignFor("taken"),
                                    NewCampaignFor("n-2")};
  auto r = store().CreateCampaigns(batch, /*start=*/true);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::kAlreadyExists);
  EXPECT_THAT(r.error().message, HasSubstr("taken"));

  batch[1] = NewCampaignFor("has space");
  r = store().CreateCampaigns(batch, /*start=*/false);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::kInvalidArgument);
  EXPECT_THAT(r.error().message, HasSubstr("campaign id"));

  auto all = store().ListCampaigns(std::nullopt);
  ASSERT_TRUE(all);
  ASSERT_EQ(all->size(), 1u);
  EXPECT_EQ((*all)[0].id, "taken");
  auto pending = store().PendingOutboxCount();
  ASSERT_TRUE(pending);
  EXPECT_EQ(*pending, 0);
}

TEST_P(StoreContractTest, CreateCampaignsOfNothingIsNothing) {
  auto r = store().CreateCampaigns({}, /*start=*/true);
  ASSERT_TRUE(r) << r.error().ToString();
  EXPECT_TRUE(r->empty());
}

// ---------------------------------------------------------------- ExistingCampaigns

TEST_P(StoreContractTest, ExistingCampaignsFindsTheTakenIdsOnce) {
  ASSERT_TRUE(store().CreateCampaigns(
      std::vector<NewCampaign>{NewCampaignFor("e-2"), NewCampaignFor("e-1"), NewCampaignFor("E-1")},
      /*start=*/false));
  std::vector<CampaignId> ask = {Cid("x-9"), Cid("e-2"), Cid("e-1"),
                                 Cid("e-2"), Cid("e-3"), Cid("e-1")};
  auto found = store().ExistingCampaigns(ask);
  ASSERT_TRUE(found) << found.error().ToString();
  // Ascending, each once; "E-1" exists but was not asked for (ids are case-sensitive).
  EXPECT_EQ(*found, (std::vector<CampaignId>{Cid("e-1"), Cid("e-2")}));

  auto none = store().ExistingCampaigns(std::vector<CampaignId>{Cid("x-1"), Cid("x-2")});
  ASSERT_TRUE(none) << none.error().ToString();
  EXPECT_TRUE(none->empty());
  auto empty = store().ExistingCampaigns({});
  ASSERT_TRUE(empty) << empty.error().ToString();
  EXPECT_TRUE(empty->empty());
}

TEST_P(StoreContractTest, ExistingCampaignsReadsMoreThanOneChunk) {
  // Three chunks of distinct ids (and every id twice): found ones in the first, middle and
  // last chunk, including the first and last id of the sorted input.
  std::vector<CampaignId> ask;
  std::vector<NewCampaign> taken;
  const int n = static_cast<int>(2 * kBatchReadChunk + 7);
  for (int i = 0; i < n; ++i) {
    std::string id = "k-" + std::to_string(10000 + i);
    ask.push_back(Cid(id));
    ask.push_back(Cid(id));
    if (i == 0 || i == 600 || i == n - 1 || i % 250 == 3) taken.push_back(NewCampaignFor(id));
  }
  ASSERT_TRUE(store().CreateCampaigns(taken, /*start=*/false));
  auto found = store().ExistingCampaigns(ask);
  ASSERT_TRUE(found) << found.error().ToString();
  std::vector<CampaignId> want;
  for (const auto& c : taken) want.push_back(Cid(c.id));
  std::sort(want.begin(), want.end());
  EXPECT_EQ(*found, want);
}

// ---------------------------------------------------------------- batches of part handlers

// LoadForParts: LoadForPart of each id, in order, a missing one kNotFound without failing the
// others (one round trip on PostgreSQL).
TEST_P(StoreContractTest, LoadForPartsReadsEachCampaignInOrderWithItsOwnResult) {
  CreateAndStart("p-1");
  ASSERT_TRUE(store().CreateCampaign(NewCampaignFor("p-2", /*no_address=*/true)));
  ASSERT_TRUE(store().StartCampaign(Cid("p-2")));
  const std::vector<CampaignId> ids = {Cid("p-2"), Cid("nope"), Cid("p-1"), Cid("p-2")};
  const auto got = store().LoadForParts(ids);
  ASSERT_EQ(got.size(), ids.size());
  for (size_t i = 0; i < ids.size(); ++i) {
    auto alone = store().LoadForPart(ids[i]);
    ASSERT_EQ(got[i].has_value(), alone.has_value()) << ids[i];
    if (!alone) {
      EXPECT_EQ(got[i].error().code, ErrorCode::kNotFound);
      EXPECT_EQ(got[i].error().message, alone.error().message);
      continue;
    }
    EXPECT_EQ(got[i]->campaign, alone->campaign);
    EXPECT_EQ(got[i]->property.has_value(), alone->property.has_value());
    EXPECT_EQ(got[i]->zip_centroid.has_value(), alone->zip_centroid.has_value());
  }
  EXPECT_EQ(got[0]->campaign.id, "p-2");
  EXPECT_FALSE(got[0]->property.has_value());
  ASSERT_TRUE(got[2]->property.has_value());
  EXPECT_EQ(got[2]->property->current_value, 850000);
  EXPECT_TRUE(store().LoadForParts({}).empty());
}

// CompleteParts: each completion's result is CompletePart's, in order: applied ones (two parts
// of one campaign among them, the second fanning in), a duplicate, a stale cycle and a missing
// campaign, none failing the others.
TEST_P(StoreContractTest, CompletePartsGivesEachTheResultCompletePartWould) {
  Remake(RequiredParts::Of({DataPart::kActiveListings, DataPart::kRecentSales}));
  const int64_t a = CreateAndStart("q-a");
  const int64_t b = CreateAndStart("q-b");
  const int64_t dup = CreateAndStart("q-dup");
  ASSERT_TRUE(store().CompletePart(Cid("q-dup"), dup, ListingsPart(1, "First")));
  const PartData listings = ListingsPart(3, "Elm"), sales = SalesPart(2, "Oak");
  const std::vector<PartCompletion> parts = {
      {Cid("q-a"), a, &listings},     {Cid("q-b"), b, &sales},     {Cid("q-dup"), dup, &listings},
      {Cid("q-b"), b + 1, &listings}, {Cid("nope"), 1, &listings}, {Cid("q-a"), a, &sales}};
  const auto got = store().CompleteParts(parts);
  ASSERT_EQ(got.size(), parts.size());
  for (size_t i : {0, 1, 2, 3, 5}) ASSERT_TRUE(got[i]) << i << ": " << got[i].error().ToString();
  EXPECT_TRUE(got[0]->changed);
  EXPECT_FALSE(got[0]->event.has_value());
  EXPECT_TRUE(got[1]->changed);
  EXPECT_FALSE(got[2]->changed);
  EXPECT_THAT(got[2]->reason, HasSubstr("duplicate"));
  EXPECT_FALSE(got[3]->changed);
  EXPECT_THAT(got[3]->reason, HasSubstr("stale"));
  ASSERT_FALSE(got[4]);
  EXPECT_EQ(got[4].error().code, ErrorCode::kNotFound);
  EXPECT_THAT(got[4].error().message, HasSubstr("nope"));
  EXPECT_TRUE(got[5]->changed);
  ASSERT_TRUE(got[5]->event.has_value());
  EXPECT_EQ(got[5]->event->to_status, CampaignStatus::kReadyToCreateEmail);
  EXPECT_EQ(MustGet("q-a").status, CampaignStatus::kReadyToCreateEmail);
  EXPECT_EQ(MustOutbox("q-a").size(), 2u);
  EXPECT_EQ(store().GetActiveListings(Cid("q-a"))->size(), 3u);
  EXPECT_EQ(store().GetRecentSales(Cid("q-a"))->size(), 2u);
  EXPECT_EQ(MustGet("q-b").part(DataPart::kRecentSales), PartStatus::kReady);
  EXPECT_EQ(MustGet("q-b").part(DataPart::kActiveListings), PartStatus::kWaitingForData);
  EXPECT_EQ(store().GetActiveListings(Cid("q-dup"))->size(), 1u) << "the duplicate wrote nothing";
  EXPECT_TRUE(store().CompleteParts({}).empty());
}

// Only a store that reads a batch in one round trip and commits it in one transaction says it
// batches: PostgreSQL (pipelined statements, combined transitions); not SQLite's single
// writer nor MySQL's client, which sends one statement at a time.
TEST_P(StoreContractTest, OnlyAStoreThatPipelinesAndCombinesBatchesParts) {
  EXPECT_EQ(store().BatchesParts(), GetParam().name == "postgres");
}

}  // namespace
}  // namespace dripr
