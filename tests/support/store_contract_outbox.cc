// Store contract suite, part 2: outbox, market data, zip codes, a part handler's read
// (LoadForPart), migrations and outbox notifications. Leases and market-data ages are measured on
// the store's injected clock.

#include <gmock/gmock.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <fstream>
#include <thread>

#include "dripr/domain/event.h"
#include "dripr/store/row_reader.h"
#include "support/campaign_ids.h"
#include "support/poll.h"
#include "support/store_contract.h"

namespace dripr {

// Referenced from StoreBackendName so that the linker keeps this file's tests.
void StoreContractOutboxAnchor() {}

namespace {

using ::testing::HasSubstr;
using namespace std::chrono_literals;

// Woken rather than waited out: the waits here are 20 s. A slow machine cannot miss this bound;
// how fast a wake-up is, is the benchmarks' business.
constexpr auto kWoken = 10s;

std::vector<int64_t> Ids(const std::vector<OutboxRow>& rows) {
  std::vector<int64_t> ids;
  for (const auto& r : rows) ids.push_back(r.id);
  return ids;
}

std::vector<std::string> CampaignsOf(const std::vector<OutboxRow>& rows) {
  std::vector<std::string> ids;
  for (const auto& r : rows) ids.push_back(r.campaign_id.str());
  return ids;
}

// A file under the test temp dir, removed at the end of the test.
class TempFile {
 public:
  explicit TempFile(const std::string& contents) {
    std::string name = ::testing::UnitTest::GetInstance()->current_test_info()->name();
    for (char& ch : name) {
      if (ch == '/') ch = '_';  // "Test/backend" of a parameterized test
    }
    path_ = ::testing::TempDir() + "/store_contract_" + std::to_string(::getpid()) + "_" +
            std::to_string(counter_++) + "_" + name + ".csv";
    std::ofstream(path_) << contents;
  }
  ~TempFile() { std::remove(path_.c_str()); }
  const std::string& path() const { return path_; }

 private:
  static inline int counter_ = 0;
  std::string path_;
};

// ---------------------------------------------------------------- migrations

TEST_P(StoreContractTest, MigrateIsIdempotent) {
  auto v = store().SchemaVersion();
  ASSERT_TRUE(v) << v.error().ToString();
  EXPECT_EQ(*v, store().LatestSchemaVersion());
  EXPECT_GE(*v, 1);
  ASSERT_TRUE(store().Migrate());
  ASSERT_TRUE(store().CreateCampaign(NewCampaignFor("kept")));
  ASSERT_TRUE(store().Migrate());
  StorePtr other = db_.reopen(&clock_);
  ASSERT_NE(other, nullptr);
  auto again = other->Migrate();
  ASSERT_TRUE(again) << again.error().ToString();
  EXPECT_EQ(*other->SchemaVersion(), store().LatestSchemaVersion());
  EXPECT_EQ(other->GetCampaign(Cid("kept"))->id, "kept");
}

TEST_P(StoreContractTest, MigrateRefusesADatabaseNewerThanTheBinary) {
  const int newer = store().LatestSchemaVersion() + 1;
  auto faked = db_.exec_sql("INSERT INTO schema_migrations (version, applied_at) VALUES (" +
                            std::to_string(newer) + ", '2030-01-01T00:00:00.000Z')");
  ASSERT_TRUE(faked) << faked.error().ToString();
  EXPECT_EQ(*store().SchemaVersion(), newer);
  StorePtr other = db_.reopen(&clock_);
  ASSERT_NE(other, nullptr);
  for (Store* s : {&store(), other.get()}) {
    auto r = s->Migrate();
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, ErrorCode::kFailedPrecondition);
    EXPECT_EQ(r.error().message, "database schema version " + std::to_string(newer) +
                                     " is newer than this dripr binary supports (" +
                                     std::to_string(newer - 1) + "); use a newer dripr");
  }
}

// ---------------------------------------------------------------- market data

TEST_P(StoreContractTest, MarketDataIsReusableOnlyWhileYoungEnough) {
  int64_t cycle = CreateAndStart("c-1");
  ASSERT_TRUE(store().CompletePart(Cid("c-1"), cycle, MarketPart("2026-10", 600000)));
  const auto max_age = std::chrono::seconds(std::chrono::days(30));

  auto fresh = store().GetMarketData("02139", max_age);
  ASSERT_TRUE(fresh) << fresh.error().ToString();
  ASSERT_TRUE(fresh->has_value());
  EXPECT_EQ((*fresh)->created_at, clock_.Now());
  EXPECT_EQ((*fresh)->current.average_price, 600000);

  clock_.Advance(std::chrono::days(30));  // exactly max_age old: still usable
  EXPECT_TRUE(store().GetMarketData("02139", max_age)->has_value());
  clock_.Advance(1s);
  auto old = store().GetMarketData("02139", max_age);
  ASSERT_TRUE(old) << old.error().ToString();
  EXPECT_FALSE(old->has_value());
  auto latest = store().LatestMarketData("02139");
  ASSERT_TRUE(latest);
  ASSERT_TRUE(latest->has_value());
  EXPECT_EQ((*latest)->current.month, "2026-10");

  EXPECT_FALSE(store().GetMarketData("10001", max_age)->has_value());
  EXPECT_FALSE(store().LatestMarketData("10001")->has_value());
}

TEST_P(StoreContractTest, NewestMarketDataWins) {
  int64_t first = CreateAndStart("a");
  ASSERT_TRUE(store().CompletePart(Cid("a"), first, MarketPart("2026-09", 500000)));
  clock_.Advance(std::chrono::days(40));
  ASSERT_TRUE(store().CreateCampaign(NewCampaignFor("b")));
  int64_t second = store().StartCampaign(Cid("b"))->campaign.data_cycle;
  ASSERT_TRUE(store().CompletePart(Cid("b"), second, MarketPart("2026-11", 700000)));
  auto m = store().GetMarketData("02139", std::chrono::days(30));
  ASSERT_TRUE(m);
  ASSERT_TRUE(m->has_value());
  EXPECT_EQ((*m)->current.month, "2026-11");
  EXPECT_EQ((*m)->current.average_price, 700000);
  EXPECT_EQ((*m)->created_at, clock_.Now());
}

// ---------------------------------------------------------------- zip codes

TEST_P(StoreContractTest, ZipCodesLoadOnceFromCsv) {
  EXPECT_FALSE(store().ZipCentroid("02139")->has_value());
  TempFile csv(
      "zip_code,latitude,longitude\n00601,18.180555,-66.749961\n"
      "02139,42.364347,-71.101985\r\n99950,55.542007,-131.432682\n");
  auto loaded = store().LoadZipCodes(csv.path());
  ASSERT_TRUE(loaded) << loaded.error().ToString();
  auto c = store().ZipCentroid("02139");
  ASSERT_TRUE(c) << c.error().ToString();
  ASSERT_TRUE(c->has_value());
  EXPECT_EQ((*c)->lat, 42.364347);
  EXPECT_EQ((*c)->lng, -71.101985);
  EXPECT_EQ((*store().ZipCentroid("00601"))->lat, 18.180555);
  EXPECT_EQ((*store().ZipCentroid("99950-1234"))->lng, -131.432682);
  EXPECT_FALSE(store().ZipCentroid("10001")->has_value());
  auto bad = store().ZipCentroid("ABCDE");
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().code, ErrorCode::kInvalidArgument);

  // A second load (different file) is a no-op: the table is already filled.
  TempFile other("zip_code,latitude,longitude\n10001,40.75,-73.99\n");
  ASSERT_TRUE(store().LoadZipCodes(other.path()));
  EXPECT_FALSE(store().ZipCentroid("10001")->has_value());
}

TEST_P(StoreContractTest, ZipCentroidsReadsManyZipsKeyedAsGiven) {
  TempFile csv(
      "zip_code,latitude,longitude\n00601,18.180555,-66.749961\n"
      "02139,42.364347,-71.101985\n99950,55.542007,-131.432682\n");
  ASSERT_TRUE(store().LoadZipCodes(csv.path()));
  std::vector<std::string> ask = {"02139", "10001", "99950-1234", "02139", "00601"};
  auto got = store().ZipCentroids(ask);
  ASSERT_TRUE(got) << got.error().ToString();
  ASSERT_EQ(got->size(), 3u);  // 10001 has no centroid; 02139 asked twice, one entry
  EXPECT_EQ(got->at("02139").lat, 42.364347);
  EXPECT_EQ(got->at("02139").lng, -71.101985);
  EXPECT_EQ(got->at("99950-1234").lng, -131.432682);
  EXPECT_EQ(got->at("00601").lat, 18.180555);
  EXPECT_FALSE(got->contains("10001"));

  auto empty = store().ZipCentroids({});
  ASSERT_TRUE(empty) << empty.error().ToString();
  EXPECT_TRUE(empty->empty());
  auto unknown = store().ZipCentroids(std::vector<std::string>{"10001"});
  ASSERT_TRUE(unknown) << unknown.error().ToString();
  EXPECT_TRUE(unknown->empty());
  auto bad = store().ZipCentroids(std::vector<std::string>{"02139", "ABCDE"});
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().code, ErrorCode::kInvalidArgument);
  EXPECT_THAT(bad.error().message, HasSubstr("zip_code"));
}

TEST_P(StoreContractTest, ZipCentroidsReadsMoreThanOneChunk) {
  // 1,100 distinct zips (three chunks), a centroid for some in each chunk and the last one.
  std::string rows = "zip_code,latitude,longitude\n";
  std::vector<std::string> ask;
  std::vector<std::string> known;
  for (int i = 0; i < 1100; ++i) {
    char zip[6];
    std::snprintf(zip, sizeof zip, "%05d", 20000 + i);
    ask.emplace_back(zip);
    if (i % 300 == 0 || i == 1099) {
      known.emplace_back(zip);
      rows += std::string(zip) + "," + std::to_string(i % 90) + ",-70\n";
    }
  }
  TempFile csv(rows);
  ASSERT_TRUE(store().LoadZipCodes(csv.path()));
  auto got = store().ZipCentroids(ask);
  ASSERT_TRUE(got) << got.error().ToString();
  ASSERT_EQ(got->size(), known.size());
  for (const auto& zip : known) EXPECT_TRUE(got->contains(zip)) << zip;
  EXPECT_EQ(got->at("21099").lat, 1099 % 90);
}

TEST_P(StoreContractTest, BadZipCsvLoadsNothing) {
  TempFile csv("zip_code,latitude,longitude\n00601,18.18,-66.74\n0260,1,2\n");
  auto r = store().LoadZipCodes(csv.path());
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::kInvalidArgument);
  EXPECT_EQ(r.error().message, csv.path() + ":3: zip code must be 5 digits");
  EXPECT_FALSE(store().ZipCentroid("00601")->has_value());

  TempFile range("zip_code,latitude,longitude\n00601,98.18,-66.74\n");
  r = store().LoadZipCodes(range.path());
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message, range.path() + ":2: latitude must be a number between -90 and 90");

  TempFile header("zip,lat,lng\n00601,18.18,-66.74\n");
  r = store().LoadZipCodes(header.path());
  ASSERT_FALSE(r);
  EXPECT_THAT(r.error().message, HasSubstr(":1: expected header"));

  r = store().LoadZipCodes(::testing::TempDir() + "/no_such_zip_file.csv");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::kNotFound);
  EXPECT_FALSE(store().ZipCentroid("00601")->has_value());
}

// ---------------------------------------------------------------- a part handler's read

TEST_P(StoreContractTest, LoadForPartReadsCampaignPropertyAndZipCentroidInOne) {
  TempFile csv("zip_code,latitude,longitude\n02139,42.364347,-71.101985\n");
  ASSERT_TRUE(store().LoadZipCodes(csv.path()));
  CreateAndStart("c-1");
  auto in = store().LoadForPart(Cid("c-1"));
  ASSERT_TRUE(in) << in.error().ToString();
  EXPECT_EQ(in->campaign, MustGet("c-1"));
  EXPECT_EQ(in->campaign.status, CampaignStatus::kWaitingForData);
  ASSERT_TRUE(in->property.has_value());
  EXPECT_EQ(in->property->formatted_address, "12 Main St, Cambridge, MA 02139");
  EXPECT_EQ(in->property->location.lat, 42.3625);
  EXPECT_EQ(in->property->location.lng, -71.0980);
  EXPECT_EQ(in->property->current_value, 850000);
  ASSERT_TRUE(in->zip_centroid.has_value());
  EXPECT_EQ(in->zip_centroid->lat, 42.364347);
  EXPECT_EQ(in->zip_centroid->lng, -71.101985);

  // A property without a value, and a no-address campaign: the centroid is its location.
  NewCampaign unvalued = NewCampaignFor("c-2");
  unvalued.property->current_value.reset();
  ASSERT_TRUE(store().CreateCampaign(unvalued));
  in = store().LoadForPart(Cid("c-2"));
  ASSERT_TRUE(in) << in.error().ToString();
  ASSERT_TRUE(in->property.has_value());
  EXPECT_EQ(in->property->current_value, std::nullopt);
  ASSERT_TRUE(store().CreateCampaign(NewCampaignFor("news", /*no_address=*/true)));
  in = store().LoadForPart(Cid("news"));
  ASSERT_TRUE(in) << in.error().ToString();
  EXPECT_EQ(in->campaign, MustGet("news"));
  EXPECT_FALSE(in->property.has_value());
  ASSERT_TRUE(in->zip_centroid.has_value());
  EXPECT_EQ(in->zip_centroid->lat, 42.364347);

  // A property another program stored without coordinates is no location: the handler
  // searches around the centroid instead of around (0, 0).
  for (const char* column : {"latitude", "longitude"}) {
    ASSERT_TRUE(db_.exec_sql(std::string("UPDATE property_data SET ") + column +
                             " = NULL WHERE campaign_id = 'c-1'"));
    in = store().LoadForPart(Cid("c-1"));
    ASSERT_TRUE(in) << in.error().ToString();
    EXPECT_FALSE(in->property.has_value()) << column;
    ASSERT_TRUE(in->zip_centroid.has_value());
    EXPECT_EQ(in->zip_centroid->lat, 42.364347);
  }
}

TEST_P(StoreContractTest, LoadForPartWithTheZipNotInZipCodesHasNoCentroid) {
  TempFile csv("zip_code,latitude,longitude\n00601,18.180555,-66.749961\n");
  ASSERT_TRUE(store().LoadZipCodes(csv.path()));
  ASSERT_TRUE(store().CreateCampaign(NewCampaignFor("c-1")));
  ASSERT_TRUE(store().CreateCampaign(NewCampaignFor("news", /*no_address=*/true)));
  auto in = store().LoadForPart(Cid("c-1"));
  ASSERT_TRUE(in) << in.error().ToString();
  EXPECT_EQ(in->campaign, MustGet("c-1"));
  ASSERT_TRUE(in->property.has_value());
  EXPECT_EQ(in->property->location.lat, 42.3625);
  EXPECT_FALSE(in->zip_centroid.has_value());
  in = store().LoadForPart(Cid("news"));
  ASSERT_TRUE(in) << in.error().ToString();
  EXPECT_EQ(in->campaign, MustGet("news"));
  EXPECT_FALSE(in->property.has_value());
  EXPECT_FALSE(in->zip_centroid.has_value());
}

// A ZIP+4 another program stored in a campaign row stands for its five digits (CampaignZip):
// the row reads so and finds that zip's centroid, market data and market lease, in the reads
// alone, in a batch, and in the statement that takes the lease itself (PostgreSQL).
TEST_P(StoreContractTest, ACampaignRowWithAZipPlusFourStandsForItsFiveDigits) {
  TempFile csv("zip_code,latitude,longitude\n02139,42.364347,-71.101985\n");
  ASSERT_TRUE(store().LoadZipCodes(csv.path()));
  const int64_t cycle = CreateAndStart("c-1");
  ASSERT_TRUE(store().CreateCampaign(NewCampaignFor("news", /*no_address=*/true)));
  ASSERT_TRUE(db_.exec_sql("UPDATE campaigns SET zip_code = '02139-4301'"));
  EXPECT_EQ(MustGet("c-1").zip_code, "02139");

  const std::vector<CampaignId> ids = {Cid("news"), Cid("c-1")};
  std::vector<Result<PartInputs>> loaded = store().LoadForParts(ids);
  loaded.push_back(store().LoadForPart(Cid("news")));
  ASSERT_EQ(loaded.size(), 3u);
  for (const Result<PartInputs>& in : loaded) {
    ASSERT_TRUE(in) << in.error().ToString();
    EXPECT_EQ(in->campaign.zip_code, "02139");
    ASSERT_TRUE(in->zip_centroid.has_value()) << in->campaign.id.str();
    EXPECT_EQ(in->zip_centroid->lat, 42.364347);
  }

  const std::chrono::seconds reuse = std::chrono::days(30);
  auto load = store().LoadForMarketOrLease(Cid("c-1"), reuse, "a", 10s);
  ASSERT_TRUE(load) << load.error().ToString();
  EXPECT_EQ(load->campaign.zip_code, "02139");
  EXPECT_TRUE(load->turn.held);
  EXPECT_FALSE(*store().AcquireLease(MarketLeaseName("02139"), "x", 10s)) << "a holds it";
  ASSERT_TRUE(store().ReleaseLease(MarketLeaseName("02139"), "a"));

  // The market data is filed under the five digits and found through the row.
  ASSERT_TRUE(store().CompletePart(Cid("c-1"), cycle, MarketPart("2026-10", 512000)));
  auto market = store().LatestMarketData("02139");
  ASSERT_TRUE(market && market->has_value());
  auto in = store().LoadForMarket(Cid("c-1"), reuse);
  ASSERT_TRUE(in) << in.error().ToString();
  ASSERT_TRUE(in->stored.has_value());
  EXPECT_EQ(in->stored->zip_code, "02139");
  EXPECT_EQ(in->stored->current.average_price, 512000);

  // Anything else reads as stored, and finds no centroid.
  ASSERT_TRUE(db_.exec_sql("UPDATE campaigns SET zip_code = '0213-94301' WHERE id = 'news'"));
  auto other = store().LoadForPart(Cid("news"));
  ASSERT_TRUE(other) << other.error().ToString();
  EXPECT_EQ(other->campaign.zip_code, "0213-94301");
  EXPECT_FALSE(other->zip_centroid.has_value());
}

// The zip's lease the statement takes is the one the store gives back: CampaignZipSql on the
// server and CampaignZip here agree on rows no zip code is in (characters, not bytes).
TEST_P(StoreContractTest, TheMarketLeaseOfAZipInNoShapeIsTheOneReadBack) {
  const std::chrono::seconds reuse = std::chrono::days(30);
  int n = 0;
  const std::string e_acute = "\xc3\xa9";  // one character, two bytes
  // Ten characters with '-' the sixth, twice (cut to five), then ten bytes with '-' the sixth
  // but nine characters (read as stored).
  for (const std::string& stored :
       {e_acute + "2139-4301", "ab" + e_acute + "de-fghi", e_acute + "123-4567"}) {
    const std::string id = "c-" + std::to_string(++n);
    CreateAndStart(id);
    ASSERT_TRUE(
        db_.exec_sql("UPDATE campaigns SET zip_code = '" + stored + "' WHERE id = '" + id + "'"));
    const std::string zip = MustGet(Cid(id)).zip_code;
    EXPECT_EQ(zip, CampaignZip(stored));
    auto load = store().LoadForMarketOrLease(Cid(id), reuse, "a", 10s);
    ASSERT_TRUE(load) << load.error().ToString();
    EXPECT_TRUE(load->turn.held) << stored;
    EXPECT_FALSE(*store().AcquireLease(MarketLeaseName(zip), "x", 10s)) << stored;
    ASSERT_TRUE(store().ReleaseLease(MarketLeaseName(zip), "a"));
  }
}

TEST_P(StoreContractTest, LoadForPartOfAMissingCampaignIsNotFound) {
  ASSERT_TRUE(store().CreateCampaign(NewCampaignFor("c-1")));
  auto in = store().LoadForPart(Cid("nope"));
  ASSERT_FALSE(in);
  EXPECT_EQ(in.error().code, ErrorCode::kNotFound);
  EXPECT_EQ(in.error().message, "campaign nope not found");
}

// ---------------------------------------------------------------- outbox

TEST_P(StoreContractTest, ClaimTakesOldestFirstAndLeasesThem) {
  CreateAndStart("a");
  CreateAndStart("b");
  CreateAndStart("c");
  EXPECT_EQ(*store().PendingOutboxCount(), 3);

  auto first = store().ClaimOutbox(2, 30s);
  ASSERT_TRUE(first) << first.error().ToString();
  EXPECT_EQ(CampaignsOf(*first), (std::vector<std::string>{"a", "b"}));
  EXPECT_LT((*first)[0].id, (*first)[1].id);
  EXPECT_EQ((*first)[0].body, MustOutbox("a")[0].body);
  EXPECT_EQ((*first)[0].attributes, MustOutbox("a")[0].attributes);

  auto second = store().ClaimOutbox(10, 30s);
  ASSERT_TRUE(second);
  EXPECT_EQ(CampaignsOf(*second), (std::vector<std::string>{"c"}));
  EXPECT_TRUE(store().ClaimOutbox(10, 30s)->empty());
  EXPECT_TRUE(store().ClaimOutbox(0, 30s)->empty());
  EXPECT_EQ(*store().PendingOutboxCount(), 3);  // claimed is still pending
}

TEST_P(StoreContractTest, AnExpiredLeaseMakesRowsClaimableAgain) {
  CreateAndStart("a");
  auto claimed = store().ClaimOutbox(10, 30s);
  ASSERT_TRUE(claimed);
  ASSERT_EQ(claimed->size(), 1u);
  clock_.Advance(29s);
  EXPECT_TRUE(store().ClaimOutbox(10, 30s)->empty());
  clock_.Advance(1s);
  auto again = store().ClaimOutbox(10, 30s);
  ASSERT_TRUE(again);
  EXPECT_EQ(Ids(*again), Ids(*claimed));
  EXPECT_EQ((*again)[0].attempts, 0);
}

TEST_P(StoreContractTest, ClaimKeepsEachCampaignsEventsInOrder) {
  int64_t cycle = CreateAndStart("a");                                    // a1
  CreateAndStart("b");                                                    // b1
  ASSERT_TRUE(store().FailCampaign(Cid("a"), std::nullopt, cycle, "x"));  // a2
  auto a_rows = MustOutbox("a");
  ASSERT_EQ(a_rows.size(), 2u);

  auto mine = store().ClaimOutbox(1, 30s);  // relay 1 takes a1
  ASSERT_TRUE(mine);
  EXPECT_EQ(Ids(*mine), std::vector<int64_t>{a_rows[0].id});
  // Relay 2 must not publish a2 before a1 is published.
  auto theirs = store().ClaimOutbox(10, 30s);
  ASSERT_TRUE(theirs);
  EXPECT_EQ(CampaignsOf(*theirs), std::vector<std::string>{"b"});

  ASSERT_TRUE(store().MarkPublished(Ids(*mine)));
  auto next = store().ClaimOutbox(10, 30s);
  ASSERT_TRUE(next);
  EXPECT_EQ(Ids(*next), std::vector<int64_t>{a_rows[1].id});
}

TEST_P(StoreContractTest, OneClaimMayTakeSeveralEventsOfOneCampaignInOrder) {
  int64_t cycle = CreateAndStart("a");
  ASSERT_TRUE(store().FailCampaign(Cid("a"), std::nullopt, cycle, "x"));
  ASSERT_TRUE(store().ResetCampaign(Cid("a")));
  auto rows = store().ClaimOutbox(10, 30s);
  ASSERT_TRUE(rows);
  EXPECT_EQ(Ids(*rows), Ids(MustOutbox("a")));
  EXPECT_EQ(rows->size(), 3u);
}

TEST_P(StoreContractTest, MarkPublishedRemovesRowsFromThePending) {
  CreateAndStart("a");
  CreateAndStart("b");
  auto rows = store().ClaimOutbox(10, 30s);
  ASSERT_TRUE(rows);
  ASSERT_EQ(rows->size(), 2u);
  auto marked = store().MarkPublished({(*rows)[0].id});
  ASSERT_TRUE(marked) << marked.error().ToString();
  EXPECT_EQ(*store().PendingOutboxCount(), 1);
  clock_.Advance(1h);  // the published row never comes back; the other one does
  auto again = store().ClaimOutbox(10, 30s);
  ASSERT_TRUE(again);
  EXPECT_EQ(Ids(*again), std::vector<int64_t>{(*rows)[1].id});
  ASSERT_TRUE(store().MarkPublished({(*rows)[1].id, (*rows)[1].id, 999999}));
  EXPECT_EQ(*store().PendingOutboxCount(), 0);
  ASSERT_TRUE(store().MarkPublished({}));
  EXPECT_EQ(MustOutbox("a").size(), 1u);  // published rows stay for history
}

// A row another program wrote with attributes that do not parse is claimed marked (not a
// failed claim, which would hold up every row after it on every pass), and can be set aside
// with its reason.
TEST_P(StoreContractTest, AnUnreadableOutboxRowIsClaimedMarkedAndCanBeSetAside) {
  CreateAndStart("bad");
  CreateAndStart("good");
  ASSERT_TRUE(
      db_.exec_sql("UPDATE outbox SET attributes = '{\"to_status\": 1}' WHERE "
                   "campaign_id = 'bad'"));
  auto rows = store().ClaimOutbox(10, 30s);
  ASSERT_TRUE(rows) << rows.error().ToString();
  ASSERT_EQ(rows->size(), 2u);
  const OutboxRow bad = (*rows)[0];
  const OutboxRow good = (*rows)[1];
  EXPECT_EQ(bad.campaign_id.str(), "bad");
  EXPECT_NE(bad.unreadable.find("outbox attributes"), std::string::npos) << bad.unreadable;
  EXPECT_TRUE(good.unreadable.empty()) << good.unreadable;
  EXPECT_EQ(good.attributes.size(), 2u);

  ASSERT_TRUE(store().SetAsideOutbox(bad.id, "unreadable attributes"));
  EXPECT_EQ(*store().PendingOutboxCount(), 1);
  clock_.Advance(1h);  // the set-aside row never comes back; the other one does
  auto again = store().ClaimOutbox(10, 30s);
  ASSERT_TRUE(again) << again.error().ToString();
  EXPECT_EQ(Ids(*again), std::vector<int64_t>{good.id});
  // The reason is stored: only a row that has it matches.
  ASSERT_TRUE(db_.exec_sql(
      "DELETE FROM outbox WHERE campaign_id = 'bad' AND failed_reason = 'unreadable attributes'"));
  EXPECT_TRUE(MustOutbox("bad").empty());
  // A published row is not set aside.
  ASSERT_TRUE(store().MarkPublished({good.id}));
  ASSERT_TRUE(store().SetAsideOutbox(good.id, "too late"));
  ASSERT_TRUE(db_.exec_sql("DELETE FROM outbox WHERE failed_reason = 'too late'"));
  EXPECT_EQ(MustOutbox("good").size(), 1u);
}

TEST_P(StoreContractTest, ReleaseCountsTheAttemptAndFreesTheRow) {
  CreateAndStart("a");
  auto rows = store().ClaimOutbox(10, 30s);
  ASSERT_TRUE(rows);
  ASSERT_EQ(rows->size(), 1u);
  auto released = store().ReleaseOutbox(Ids(*rows), (*rows)[0].claim_token);
  ASSERT_TRUE(released) << released.error().ToString();
  auto again = store().ClaimOutbox(10, 30s);
  ASSERT_TRUE(again);
  ASSERT_EQ(Ids(*again), Ids(*rows));
  EXPECT_EQ((*again)[0].attempts, 1);
  ASSERT_TRUE(store().ReleaseOutbox(Ids(*again), (*again)[0].claim_token));
  EXPECT_EQ(MustOutbox("a")[0].attempts, 2);
  EXPECT_EQ(*store().PendingOutboxCount(), 1);
}

// A release frees only what its claim still holds: run again (the reply of its first commit
// lost, the store retrying it) it counts nothing twice, and after its lease lapsed and another
// claim took the row, it leaves that claim alone.
TEST_P(StoreContractTest, ReleaseFreesOnlyWhatItsClaimStillHolds) {
  CreateAndStart("a");
  auto first = store().ClaimOutbox(10, 30s);
  ASSERT_TRUE(first);
  ASSERT_EQ(first->size(), 1u);
  const std::string token = (*first)[0].claim_token;
  EXPECT_FALSE(token.empty());
  ASSERT_TRUE(store().ReleaseOutbox(Ids(*first), token));
  ASSERT_TRUE(store().ReleaseOutbox(Ids(*first), token));  // the same release, again
  EXPECT_EQ(MustOutbox("a")[0].attempts, 1);

  auto second = store().ClaimOutbox(10, 30s);
  ASSERT_TRUE(second);
  ASSERT_EQ(Ids(*second), Ids(*first));
  EXPECT_NE((*second)[0].claim_token, token);
  clock_.Advance(31s);  // the second claim's lease lapses; a third takes the row
  auto third = store().ClaimOutbox(10, 30s);
  ASSERT_TRUE(third);
  ASSERT_EQ(Ids(*third), Ids(*first));
  ASSERT_TRUE(store().ReleaseOutbox(Ids(*second), (*second)[0].claim_token));
  EXPECT_EQ(MustOutbox("a")[0].attempts, 1) << "the lapsed claim released nothing";
  auto held = store().ClaimOutbox(10, 30s);
  ASSERT_TRUE(held);
  EXPECT_TRUE(held->empty()) << "the third claim still holds the row";
  ASSERT_TRUE(store().ReleaseOutbox(Ids(*third), (*third)[0].claim_token));
  EXPECT_EQ(MustOutbox("a")[0].attempts, 2);
}

TEST_P(StoreContractTest, OutboxForCampaignListsOnlyThatCampaignOldestFirst) {
  int64_t cycle = CreateAndStart("a");
  CreateAndStart("b");
  ASSERT_TRUE(store().FailCampaign(Cid("a"), DataPart::kRecentSales, cycle, "x"));
  auto rows = MustOutbox("a");
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_LT(rows[0].id, rows[1].id);
  EXPECT_EQ(DecodeStatusChange(rows[0].body)->to_status, CampaignStatus::kWaitingForData);
  EXPECT_EQ(DecodeStatusChange(rows[1].body)->to_status, CampaignStatus::kError);
  EXPECT_EQ(MustOutbox("b").size(), 1u);
}

// ---------------------------------------------------------------- notifications

// Waits on `waiter` (after a claim, with no unpublished row) while `commit` adds an outbox
// row; returns the time from the commit's start to the end of the wait that saw the row. The
// commit starts once the waiter is blocked (exercising the wake-up rather than the check on
// entry). A wait that returns with no row there yet (allowed, and PostgreSQL's listener does
// it once when it connects) is waited again, so a backend whose commits wake nobody runs into
// the 20 s timeout and fails.
std::chrono::steady_clock::duration TimeWakeUp(Store& waiter, const std::function<void()>& commit) {
  EXPECT_TRUE(waiter.ClaimOutbox(100, 30s));
  EXPECT_EQ(waiter.PendingOutboxCount().value_or(-1), 0);
  std::chrono::steady_clock::time_point woke;
  std::atomic<pid_t> waiter_tid{0};
  std::atomic<int> waits{0};
  std::thread t([&] {
    waiter_tid = dripr::testing::ThisThreadId();
    do {
      ++waits;
      waiter.WaitForOutbox(20s);
      woke = std::chrono::steady_clock::now();
    } while (waiter.PendingOutboxCount().value_or(-1) == 0);
  });
  EXPECT_TRUE(dripr::testing::Eventually(
      [&] { return waits > 0 && dripr::testing::ThreadIsAsleep(waiter_tid); }));
  const auto t0 = std::chrono::steady_clock::now();
  commit();
  t.join();
  return woke - t0;
}

TEST_P(StoreContractTest, WaitForOutboxWakesOnACommitInThisProcess) {
  auto took = TimeWakeUp(store(), [&] { CreateAndStart("a"); });
  EXPECT_LT(took, kWoken);
}

// Two stores on one database in one process, as the CLI and a fetcher in the same program
// (SQLite's share the file's writer, so its change watcher does not see their commits: the
// file's outbox hub wakes them). A backend whose factory makes the fallback re-read slower
// than the 20 s wait (SQLite's, 30 s) fails here when only the fallback would have woken it.
TEST_P(StoreContractTest, WaitForOutboxWakesOnACommitFromAnotherInstance) {
  StorePtr other = db_.reopen(&clock_);
  ASSERT_NE(other, nullptr);
  ASSERT_TRUE(other->CreateCampaign(NewCampaignFor("a")));
  auto took = TimeWakeUp(store(), [&] { ASSERT_TRUE(other->StartCampaign(Cid("a"))); });
  EXPECT_LT(took, kWoken);
}

// A relay claims, finds nothing, and only then waits: a row committed in between (here by
// another instance) must not be slept through.
TEST_P(StoreContractTest, WaitForOutboxReturnsAtOnceForRowsAddedSinceTheLastClaim) {
  StorePtr other = db_.reopen(&clock_);
  ASSERT_NE(other, nullptr);
  ASSERT_TRUE(other->CreateCampaign(NewCampaignFor("a")));
  ASSERT_TRUE(store().ClaimOutbox(10, 30s));
  ASSERT_TRUE(other->StartCampaign(Cid("a")));
  auto t0 = std::chrono::steady_clock::now();
  store().WaitForOutbox(20s);
  EXPECT_LT(std::chrono::steady_clock::now() - t0, kWoken);
}

// A relay shutting down sets its flag and calls NotifyOutbox; when that happens just before
// its thread starts waiting, the notification alone is lost (the wait snapshots the count of
// notifications when it starts) and the thread slept its whole idle wait (30 s: seen in an
// ASan run). The flag is read before the wait and on every notification.
TEST_P(StoreContractTest, WaitForOutboxEndsForAStopSetBeforeItStarted) {
  ASSERT_TRUE(store().ClaimOutbox(10, 30s));
  std::atomic<bool> stop{true};
  store().NotifyOutbox();  // before the wait: lost without `stop`
  auto t0 = std::chrono::steady_clock::now();
  store().WaitForOutbox(20s, [&] { return stop.load(); });
  EXPECT_LT(std::chrono::steady_clock::now() - t0, kWoken);
}

TEST_P(StoreContractTest, WaitForOutboxReturnsByItsTimeout) {
  ASSERT_TRUE(store().ClaimOutbox(10, 30s));
  auto t0 = std::chrono::steady_clock::now();
  store().WaitForOutbox(150ms);
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 5s);
}

// The aggregates behind dripr_campaigns{status}, dripr_outbox_backlog and
// dripr_outbox_oldest_age_seconds (ops metrics).
TEST_P(StoreContractTest, SampleGaugesCountsCampaignsByStatusAndTheUnpublishedOutbox) {
  auto empty = store().SampleGauges();
  ASSERT_TRUE(empty) << empty.error().ToString();
  EXPECT_TRUE(empty->campaigns_by_status.empty());
  EXPECT_EQ(empty->outbox_backlog, 0);
  EXPECT_FALSE(empty->oldest_unpublished);

  ASSERT_TRUE(store().CreateCampaign(NewCampaignFor("a")));
  ASSERT_TRUE(store().CreateCampaign(NewCampaignFor("b")));
  const SysTime started = clock_.Now();
  ASSERT_TRUE(store().StartCampaign(Cid("a")));
  clock_.Advance(5s);
  auto g = store().SampleGauges();
  ASSERT_TRUE(g) << g.error().ToString();
  EXPECT_EQ(g->campaigns_by_status,
            (std::map<std::string, int64_t>{{"DORMANT", 1}, {"WAITING_FOR_DATA", 1}}));
  EXPECT_EQ(g->outbox_backlog, 1);
  ASSERT_TRUE(g->oldest_unpublished);
  EXPECT_LT(std::chrono::abs(*g->oldest_unpublished - started), 1s);

  auto claimed = store().ClaimOutbox(10, 30s);
  ASSERT_TRUE(claimed) << claimed.error().ToString();
  ASSERT_EQ(claimed->size(), 1u);
  ASSERT_TRUE(store().MarkPublished({(*claimed)[0].id}));
  g = store().SampleGauges();
  ASSERT_TRUE(g) << g.error().ToString();
  EXPECT_EQ(g->outbox_backlog, 0);
  EXPECT_FALSE(g->oldest_unpublished);
}

}  // namespace
}  // namespace dripr
