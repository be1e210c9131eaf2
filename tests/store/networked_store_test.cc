// The networked-store suites (networked_store_suite.h); each server instantiates them.

#include "dripr/store/networked_store.h"

#include <gmock/gmock.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <map>
#include <mutex>
#include <thread>
#include <vector>

#include "dripr/store/migrations/migrations.h"
#include "networked_store_suite.h"
#include "support/campaign_ids.h"

namespace dripr {

using ::testing::HasSubstr;
using ::testing::Not;
using namespace std::chrono_literals;

std::string TestEnv(const char* name) {
  const char* value = std::getenv(name);
  return value == nullptr ? "" : value;
}

std::string NetworkedServerName(const ::testing::TestParamInfo<NetworkedServer>& info) {
  return info.param.name;
}

void PrintTo(const NetworkedServer& server, std::ostream* os) { *os << server.name; }

TempServerDatabase::TempServerDatabase(std::string admin_url, Exec exec, std::string drop_options)
    : admin_url_(std::move(admin_url)),
      exec_(std::move(exec)),
      drop_options_(std::move(drop_options)) {
  static std::atomic<int> counter{0};
  name_ = "dripr_t_" + std::to_string(::getpid()) + "_" + std::to_string(counter++) + "_" +
          std::to_string(std::chrono::steady_clock::now().time_since_epoch().count() % 100000);
  auto made = exec_(admin_url_, "CREATE DATABASE " + name_);
  EXPECT_TRUE(made) << made.error().ToString();
}

TempServerDatabase::~TempServerDatabase() {
  // Best-effort clean-up: the test servers' data directories are temporary.
  (void)exec_(admin_url_, "DROP DATABASE IF EXISTS " + name_ + drop_options_);
}

// The admin URL with its database replaced by ours.
std::string TempServerDatabase::Url() const {
  std::string url = admin_url_;
  size_t host = url.find("://");
  size_t slash = url.find('/', host == std::string::npos ? 0 : host + 3);
  std::string query;
  if (size_t q = url.find('?'); q != std::string::npos) query = url.substr(q);
  if (slash != std::string::npos) url.resize(slash);
  return url + "/" + name_ + query;
}

std::string DatabaseOf(const std::string& url) {
  size_t host = url.find("://");
  size_t slash = url.find('/', host == std::string::npos ? 0 : host + 3);
  if (slash == std::string::npos) return "";
  return url.substr(slash + 1, url.find('?', slash) - slash - 1);
}

StoreUnderTest ContractStoreOn(const NetworkedServer& server, const Clock* clock,
                               const RequiredParts& required) {
  StoreUnderTest t;
  if (!server.skip_reason.empty()) {
    t.skip_reason = server.skip_reason;
    return t;
  }
  std::string url;
  std::shared_ptr<void> db = server.make_database(&url);
  t.store = server.open(url, {.clock = clock, .required = required});
  if (t.store) {
    auto migrated = t.store->Migrate();
    EXPECT_TRUE(migrated) << migrated.error().ToString();
  }
  t.reopen = [server, db, url, required](const Clock* c) -> StorePtr {
    return server.open(url, {.clock = c, .required = required});
  };
  t.exec_sql = [server, db, url](const std::string& sql) { return server.exec(url, sql); };
  return t;
}

StoreBackend ContractBackendOn(const NetworkedServer& server) {
  return StoreBackend{server.name, [server](const Clock* c, const RequiredParts& r) {
                        return ContractStoreOn(server, c, r);
                      }};
}

void NetworkedStoreTest::SetUp() {
  if (!GetParam().skip_reason.empty()) GTEST_SKIP() << GetParam().skip_reason;
  db_ = GetParam().make_database(&url_);
  store_ = Open();
  ASSERT_NE(store_, nullptr);
  ASSERT_TRUE(store_->Migrate());
}

StorePtr NetworkedStoreTest::Open(const NetworkedTweak& tweak) {
  return GetParam().open(url_, tweak);
}

NewCampaign NetworkedStoreTest::Simple(const std::string& id) {
  NewCampaign c;
  c.id = id;
  c.zip_code = "02139";
  return c;
}

void NetworkedStoreTest::ExpectRetriedAndAppliedOnce(const std::string& code, int times) {
  ASSERT_TRUE(store_->CreateCampaign(Simple("a")));
  InjectUpdateFailures(code, times);
  auto started = store_->StartCampaign(Cid("a"));
  ASSERT_TRUE(started) << started.error().ToString();
  EXPECT_TRUE(started->changed);
  EXPECT_EQ(InjectionCalls(), times + 1);  // the failed attempts, then the one that committed
  EXPECT_EQ(store_->OutboxForCampaign(Cid("a"))->size(), 1u);
  EXPECT_EQ(store_->GetCampaign(Cid("a"))->status, CampaignStatus::kWaitingForData);
}

namespace {

// RetryTransient's schedule on its own (no server): retry n sleeps cap/2 + u * cap/2 with
// cap = min(1000, 20 * 2^min(n, 6)) ms; it gives up when the next sleep would end past the
// deadline.
TEST(RetryTransient, SleepsTheJitteredBackoffOnTheTickerUntilTheDeadline) {
  ManualTicker ticker;
  ScriptedRandom random({0.5});  // every draw: the middle of [cap/2, cap]
  int attempts = 0;
  Status st = RetryTransient(ticker, random, 2s, "test", "doing it", [&]() -> Status {
    ++attempts;
    return Fail(ErrorCode::kUnavailable, "down");
  });
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().code, ErrorCode::kUnavailable);
  EXPECT_EQ(st.error().message, "doing it: down");
  // 30, 60, 120, 240, 480, 750 ms; the seventh failure's 750 ms would end at 2.43 s.
  EXPECT_EQ(ticker.Sleeps(),
            (std::vector<Ticker::Duration>{30ms, 90ms, 210ms, 450ms, 930ms, 1680ms}));
  EXPECT_EQ(attempts, 7);
  EXPECT_EQ(ticker.Elapsed(), 1680ms);
}

TEST(RetryTransient, APermanentErrorReturnsAtOnceWithoutWaitingOrDrawing) {
  ManualTicker ticker;
  ScriptedRandom random({0.0, 1.0});
  int attempts = 0;
  Status st = RetryTransient(ticker, random, 2s, "test", "doing it", [&]() -> Status {
    ++attempts;
    if (attempts == 1) return Fail(ErrorCode::kAborted, "serialization failure");
    return Fail(ErrorCode::kAlreadyExists, "taken");
  });
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().message, "taken");  // as it is, not wrapped
  EXPECT_EQ(attempts, 2);
  EXPECT_EQ(ticker.Sleeps(), (std::vector<Ticker::Duration>{20ms}));  // u = 0.0 for retry 1
  EXPECT_EQ(random.Uniform(), 1.0);  // the permanent error drew nothing
}

TEST_P(NetworkedStoreTest, TransientFailureIsRetriedAndAppliedOnce) {
  ExpectRetriedAndAppliedOnce(GetParam().codes.transient, 2);
}

TEST_P(NetworkedStoreTest, SecondTransientFailureKindIsRetriedAndAppliedOnce) {
  ExpectRetriedAndAppliedOnce(GetParam().codes.second_transient, 1);
}

TEST_P(NetworkedStoreTest, APermanentErrorIsNotRetriedAndWritesNothing) {
  ASSERT_TRUE(store_->CreateCampaign(Simple("a")));
  InjectUpdateFailures(GetParam().codes.permanent, 100);
  auto started = store_->StartCampaign(Cid("a"));
  ASSERT_FALSE(started);
  EXPECT_EQ(started.error().code, GetParam().codes.permanent_error);
  EXPECT_THAT(started.error().message, HasSubstr("injected failure"));
  EXPECT_EQ(InjectionCalls(), 1);
  EXPECT_TRUE(store_->OutboxForCampaign(Cid("a"))->empty());
  EXPECT_EQ(store_->GetCampaign(Cid("a"))->status, CampaignStatus::kDormant);
}

TEST_P(NetworkedStoreTest, RetriesGiveUpAtTheDeadlineWithTheCause) {
  // Real time, so the deadline leaves a loaded machine room for the first attempt (300 ms did
  // not once, with two CPU-heavy jobs beside the suite: no retry, so InjectionCalls() was 1).
  auto store = Open({.retry_deadline = 2s});
  ASSERT_TRUE(store->CreateCampaign(Simple("a")));
  InjectUpdateFailures(GetParam().codes.transient, 1'000'000);
  auto started = store->StartCampaign(Cid("a"));
  ASSERT_FALSE(started);
  EXPECT_EQ(started.error().code, ErrorCode::kAborted);
  EXPECT_THAT(started.error().message, HasSubstr(GetParam().codes.transient));
  EXPECT_GT(InjectionCalls(), 1);
}

TEST_P(NetworkedStoreTest, RetryBackoffAndDeadlineRunOnTheStoresTicker) {
  ManualTicker ticker;  // the backoff sleeps move it; no real time is waited
  auto store = Open({.retry_deadline = 10s, .ticker = &ticker});
  ASSERT_TRUE(store->CreateCampaign(Simple("a")));
  InjectUpdateFailures(GetParam().codes.transient, 1'000'000);
  auto started = store->StartCampaign(Cid("a"));
  ASSERT_FALSE(started);
  EXPECT_EQ(started.error().code, ErrorCode::kAborted);
  // One backoff sleep between two attempts, every one ending before the deadline; it gave up
  // when the next backoff (at most 1 s) would have passed it.
  const auto sleeps = ticker.Sleeps();
  EXPECT_EQ(static_cast<int>(sleeps.size()), InjectionCalls() - 1);
  ASSERT_GE(sleeps.size(), 10u);
  for (const auto& s : sleeps) EXPECT_LE(s, 10s);
  EXPECT_EQ(ticker.Elapsed(), sleeps.back());
  EXPECT_GT(ticker.Elapsed(), 9s);
}

TEST_P(NetworkedStoreTest, RetryBackoffIsJitteredByTheStoresRandom) {
  ManualTicker ticker;
  ScriptedRandom random({0.0, 0.25, 0.5, 1.0});
  auto store = Open({.retry_deadline = 10s, .ticker = &ticker, .random = &random});
  ASSERT_TRUE(store->CreateCampaign(Simple("a")));
  InjectUpdateFailures(GetParam().codes.transient, 4);
  auto started = store->StartCampaign(Cid("a"));
  ASSERT_TRUE(started) << started.error().ToString();
  EXPECT_EQ(InjectionCalls(), 5);
  // Retry n waits cap/2 + u * cap/2 with cap = 40, 80, 160, 320 ms: 20, 50, 120, 320 ms.
  EXPECT_EQ(ticker.Sleeps(), (std::vector<Ticker::Duration>{20ms, 70ms, 190ms, 510ms}));
  EXPECT_EQ(ticker.Elapsed(), 510ms);
}

TEST_P(NetworkedStoreTest, ReconnectsAfterTheServerDropsItsSessions) {
  ASSERT_TRUE(store_->CreateCampaign(Simple("a")));
  ASSERT_TRUE(store_->GetCampaign(Cid("a")));  // the pool now holds an open connection
  ASSERT_GT(GetParam().drop_sessions(url_), 0);
  auto started = store_->StartCampaign(Cid("a"));
  ASSERT_TRUE(started) << started.error().ToString();
  EXPECT_TRUE(started->changed);
  EXPECT_EQ(store_->GetCampaign(Cid("a"))->status, CampaignStatus::kWaitingForData);
  EXPECT_EQ(store_->OutboxForCampaign(Cid("a"))->size(), 1u);
}

TEST_P(NetworkedStoreTest, ManyThreadsShareASmallPool) {
  auto store = Open({.pool_size = 2});
  constexpr int kThreads = 8;
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 10; ++i) {
        std::string id = "c" + std::to_string(t) + "-" + std::to_string(i);
        if (!store->CreateCampaign(Simple(id)) || !store->StartCampaign(Cid(id))) ++failures;
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(*store->PendingOutboxCount(), kThreads * 10);
  EXPECT_LE(std::atoi(Query(GetParam().sessions_sql(url_)).c_str()), 2 + 1 /* store_ */);
}

// Several relays (separate store instances, as separate processes would be) claim and
// publish concurrently: every event goes out exactly once, each campaign's in order.
TEST_P(NetworkedStoreTest, ConcurrentRelaysPublishEveryEventOnceInPerCampaignOrder) {
  constexpr int kCampaigns = 60;
  for (int i = 0; i < kCampaigns; ++i) {
    std::string id = "c" + std::to_string(i);
    ASSERT_TRUE(store_->CreateCampaign(Simple(id)));
    auto started = store_->StartCampaign(Cid(id));
    ASSERT_TRUE(started);
    ASSERT_TRUE(store_->FailCampaign(Cid(id), std::nullopt, started->campaign.data_cycle, "x"));
    ASSERT_TRUE(store_->ResetCampaign(Cid(id)));
  }
  std::mutex mu;
  std::vector<OutboxRow> published;  // in publish order
  std::map<int64_t, int> times;
  auto relay = [&] {
    auto store = Open();
    while (true) {
      auto rows = store->ClaimOutbox(7, 30s);
      ASSERT_TRUE(rows) << rows.error().ToString();
      if (rows->empty()) {
        if (*store->PendingOutboxCount() == 0) return;
        std::this_thread::yield();
        continue;
      }
      std::vector<int64_t> ids;
      {
        std::lock_guard lock(mu);
        for (const auto& r : *rows) {
          published.push_back(r);
          ++times[r.id];
          ids.push_back(r.id);
        }
      }
      ASSERT_TRUE(store->MarkPublished(ids));
    }
  };
  std::vector<std::thread> relays;
  for (int i = 0; i < 4; ++i) relays.emplace_back(relay);
  for (auto& t : relays) t.join();

  ASSERT_EQ(published.size(), static_cast<size_t>(kCampaigns * 3));
  for (const auto& [id, n] : times) EXPECT_EQ(n, 1) << "outbox row " << id;
  std::map<CampaignId, int64_t> last;
  for (const OutboxRow& r : published) {
    EXPECT_GT(r.id, last[r.campaign_id]) << r.campaign_id << " published out of order";
    last[r.campaign_id] = r.id;
  }
}

// Tabs, newlines, backslashes and "\N" (COPY's NULL), quotes, characters outside the BMP,
// and more rows than one multi-row INSERT holds.
TEST_P(NetworkedStoreTest, PartRowsKeepSpecialCharactersAndNulls) {
  ASSERT_TRUE(store_->CreateCampaign(Simple("a")));
  auto started = store_->StartCampaign(Cid("a"));
  ASSERT_TRUE(started);
  RankedRecord r;
  r.rank = 1;
  r.score = 0.1 + 0.2;  // not exactly representable in short decimal text
  r.record.formatted_address = "1 Tab\tSt\nLine2 'quote' \\N back\\slash \r end";
  r.record.city = "Ünïcødé ☃ 𝄞";
  r.record.source_id = "\\N";
  // Quotes, braces and commas; the text NULL is not a NULL.
  r.record.address_line1 = R"("double" {brace, comma} \" end\)";
  r.record.state = "NULL";
  r.record.price = 1234567890123;
  RankedRecord empty;
  empty.rank = 2;
  std::vector<RankedRecord> many = {r, empty};
  for (int i = 3; i <= 250; ++i) {
    RankedRecord x = r;
    x.rank = i;
    many.push_back(x);
  }
  PartData d{DataPart::kActiveListings, many, std::nullopt};
  auto done = store_->CompletePart(Cid("a"), started->campaign.data_cycle, d);
  ASSERT_TRUE(done) << done.error().ToString();
  auto rows = store_->GetActiveListings(Cid("a"));
  ASSERT_TRUE(rows);
  ASSERT_EQ(rows->size(), many.size());
  EXPECT_EQ((*rows)[0].record, r.record);
  EXPECT_EQ((*rows)[0].score, r.score);
  EXPECT_EQ((*rows)[1].record, empty.record);
  EXPECT_EQ((*rows)[249].rank, 250);
  EXPECT_EQ(Query("SELECT COUNT(*) FROM active_listings WHERE source_id IS NULL"), "1");
}

// ---------------------------------------------------------------- opening a store

TEST_P(NetworkedOpenTest, AnUnreachableServerFailsAtOnceAsOneLineWithoutThePassword) {
  const NetworkedServer& server = GetParam();
  auto t0 = std::chrono::steady_clock::now();
  auto s = server.try_open(server.schemes.at(0) + "dripr:s3cret-pw@127.0.0.1:1/dripr", 2s);
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().code, ErrorCode::kUnavailable);
  EXPECT_THAT(s.error().message, Not(HasSubstr("s3cret-pw")));
  EXPECT_THAT(s.error().message, Not(HasSubstr("\n")));  // one line, for logs and the CLI
  EXPECT_THAT(s.error().message, HasSubstr(server.refused_message));
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 10s);
}

TEST_P(NetworkedOpenTest, OpenStoreChoosesTheServerForEachOfItsSchemes) {
  if (!GetParam().skip_reason.empty()) GTEST_SKIP() << GetParam().skip_reason;
  for (const std::string& scheme : GetParam().schemes) {
    std::string url;
    auto db = GetParam().make_database(&url);
    StoreOptions o;
    o.database_url = scheme + url.substr(url.find("://") + 3);
    auto s = OpenStore(o);
    ASSERT_TRUE(s) << s.error().ToString();
    EXPECT_EQ(*(*s)->SchemaVersion(), 0) << scheme;
    ASSERT_TRUE((*s)->Migrate());
    EXPECT_EQ(*(*s)->SchemaVersion(), kLatestSchemaVersion);
    auto missing = (*s)->GetCampaign(Cid("nope"));
    ASSERT_FALSE(missing);
    EXPECT_EQ(missing.error().code, ErrorCode::kNotFound);
  }
}

TEST_P(NetworkedOpenTest, AnUnmigratedDatabaseSaysToRunMigrate) {
  if (!GetParam().skip_reason.empty()) GTEST_SKIP() << GetParam().skip_reason;
  std::string url;
  auto db = GetParam().make_database(&url);
  auto s = GetParam().open(url, {});
  ASSERT_NE(s, nullptr);
  EXPECT_EQ(*s->SchemaVersion(), 0);
  auto r = s->GetCampaign(Cid("a"));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::kFailedPrecondition);
  EXPECT_THAT(r.error().message, HasSubstr("dripr migrate"));
}

}  // namespace
}  // namespace dripr
