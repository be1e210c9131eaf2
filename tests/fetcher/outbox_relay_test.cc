// OutboxRelay on a real SqliteStore with a recording Topic: order, attributes, marking in
// chunks as rows go out, failed publishes keeping the rest for later in order, the thread
// waking on a commit, and its error backoff on a manual ticker.

#include "dripr/fetcher/outbox_relay.h"

#include <gtest/gtest.h>

#include <atomic>
#include <functional>
#include <mutex>
#include <set>

#include "dripr/domain/event.h"
#include "dripr/sqlite/writer.h"
#include "fetcher/local_pipeline.h"
#include "support/campaign_ids.h"
#include "support/poll.h"

namespace dripr {
namespace {

using namespace std::chrono_literals;
using Offsets = std::vector<Ticker::Duration>;

// Records what is published; `before_publish` may fail a publish (returns an error) or look
// at the store at that moment.
class RecordingTopic : public Topic {
 public:
  Result<std::string> Publish(const OutgoingMessage& m) override {
    if (before_publish) {
      if (auto st = before_publish(static_cast<int>(Count())); !st) return Fail(st.error());
    }
    std::lock_guard lock(mu_);
    published_.push_back(m);
    return "m-" + std::to_string(published_.size());
  }
  std::string Name() const override { return "recording"; }

  size_t Count() const {
    std::lock_guard lock(mu_);
    return published_.size();
  }
  std::vector<OutgoingMessage> Published() const {
    std::lock_guard lock(mu_);
    return published_;
  }

  std::function<Status(int index)> before_publish;

 private:
  mutable std::mutex mu_;
  std::vector<OutgoingMessage> published_;
};

// Creates and starts each campaign (one STATUS_CHANGE outbox row each).
void StartAll(Store& store, const std::vector<std::string>& ids) {
  for (const auto& id : ids) {
    ASSERT_TRUE(store.CreateCampaign(NewCampaign{id, "u", "02139", std::nullopt}));
    ASSERT_TRUE(store.StartCampaign(Cid(id)));
  }
}

class OutboxRelayTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_NO_FATAL_FAILURE(local_.Open());
    store_ = local_.store.get();
  }
  void Start(const std::string& id) {
    ASSERT_TRUE(store_->CreateCampaign(NewCampaign{id, "u", "02139", std::nullopt}));
    auto r = store_->StartCampaign(Cid(id));
    ASSERT_TRUE(r && r->changed);
  }
  // Bodies of every outbox row, oldest first.
  std::vector<std::string> OutboxBodies(const std::vector<std::string>& ids) {
    std::vector<std::pair<int64_t, std::string>> rows;
    for (const auto& id : ids) {
      auto outbox = store_->OutboxForCampaign(Cid(id));
      EXPECT_TRUE(outbox);
      for (const auto& r : *outbox) rows.emplace_back(r.id, r.body);
    }
    std::sort(rows.begin(), rows.end());
    std::vector<std::string> out;
    for (auto& [_, body] : rows) out.push_back(body);
    return out;
  }
  static std::vector<std::string> Bodies(const std::vector<OutgoingMessage>& ms) {
    std::vector<std::string> out;
    for (const auto& m : ms) out.push_back(m.body);
    return out;
  }
  static std::vector<std::string> Ids(int n) {
    std::vector<std::string> ids;
    for (int i = 0; i < n; ++i) ids.push_back("c" + std::to_string(100 + i));
    return ids;
  }

  testing::LocalStore local_;
  Store* store_ = nullptr;
  RecordingTopic topic_;
};

TEST_F(OutboxRelayTest, PublishesInOrderWithAttributesAndMarksThemPublished) {
  Start("a");
  Start("b");
  auto failed = store_->FailCampaign(Cid("a"), std::nullopt, 1, "boom");
  ASSERT_TRUE(failed && failed->changed);
  OutboxRelay relay(*store_, topic_, {});
  auto n = relay.RunOnce();
  ASSERT_TRUE(n) << n.error().ToString();
  EXPECT_EQ(*n, 3);
  EXPECT_EQ(Bodies(topic_.Published()), OutboxBodies({"a", "b"}));
  auto last = topic_.Published().back();
  EXPECT_EQ(last.attributes.at("event_type"), "STATUS_CHANGE");
  EXPECT_EQ(last.attributes.at("to_status"), "ERROR");
  EXPECT_EQ(*store_->PendingOutboxCount(), 0);
  EXPECT_EQ(*relay.RunOnce(), 0);
  EXPECT_EQ(topic_.Count(), 3u);
  EXPECT_EQ(relay.published(), 3);
}

TEST_F(OutboxRelayTest, MarksRowsInChunksAsTheyGoOut) {
  for (const auto& id : Ids(25)) Start(id);
  std::vector<int64_t> pending_at;  // pending count seen when publish #i starts
  topic_.before_publish = [&](int) -> Status {
    pending_at.push_back(*store_->PendingOutboxCount());
    return Ok();
  };
  OutboxRelayOptions o;
  o.batch_size = 50;
  o.mark_every = 10;
  OutboxRelay relay(*store_, topic_, o);
  ASSERT_EQ(*relay.RunOnce(), 25);
  ASSERT_EQ(pending_at.size(), 25u);
  EXPECT_EQ(pending_at[9], 25);   // nothing marked before the tenth has gone out
  EXPECT_EQ(pending_at[10], 15);  // the first ten were marked right after it
  EXPECT_EQ(pending_at[20], 5);
  EXPECT_EQ(*store_->PendingOutboxCount(), 0);
}

TEST_F(OutboxRelayTest, AFailedPublishKeepsTheRestForLaterInOrder) {
  auto ids = Ids(6);
  for (const auto& id : ids) Start(id);
  bool fail_once = true;
  topic_.before_publish = [&](int index) -> Status {
    if (index == 2 && fail_once) {
      fail_once = false;
      return Fail(ErrorCode::kUnavailable, "broker down");
    }
    return Ok();
  };
  OutboxRelay relay(*store_, topic_, {});
  auto first = relay.RunOnce();
  ASSERT_FALSE(first);
  EXPECT_NE(first.error().message.find("broker down"), std::string::npos);
  EXPECT_EQ(topic_.Count(), 2u);  // nothing after the failure went out
  EXPECT_EQ(*store_->PendingOutboxCount(), 4);
  EXPECT_EQ(store_->OutboxForCampaign(Cid(ids[2]))->front().attempts, 1);
  EXPECT_EQ(store_->OutboxForCampaign(Cid(ids[5]))->front().attempts, 1);

  ASSERT_EQ(*relay.RunOnce(), 4);  // released rows are claimable again at once
  EXPECT_EQ(Bodies(topic_.Published()), OutboxBodies(ids));  // all, once, in order
  EXPECT_EQ(*store_->PendingOutboxCount(), 0);
}

TEST_F(OutboxRelayTest, TheThreadPublishesSoonAfterACommit) {
  OutboxRelayOptions o;
  o.idle_wait = 30s;  // the wake-up must come from the commit, not the fallback poll
  OutboxRelay relay(*store_, topic_, o);
  relay.Start();
  ASSERT_TRUE(testing::Eventually([&] { return *store_->PendingOutboxCount() == 0; }, 2s));
  Start("a");
  EXPECT_TRUE(testing::Eventually([&] { return topic_.Count() == 1; }, 5s));
  auto t0 = std::chrono::steady_clock::now();
  relay.Stop();  // wakes the thread out of its 30 s wait
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 5s);
  EXPECT_EQ(*store_->PendingOutboxCount(), 0);
}

// The embedded bus on the store's own file (the default): a pass is one transaction, so a row
// is published exactly once (issue 14).
TEST(OutboxRelayOnTheStoresFileTest, APassIsOneCommit) {
  testing::LocalPipeline p;
  ASSERT_NO_FATAL_FAILURE(p.Open());
  ASSERT_NE(p.store->TransactionKey(), nullptr);
  ASSERT_EQ(p.store->TransactionKey(), p.bus->CampaignEvents().TransactionKey());
  ASSERT_NO_FATAL_FAILURE(StartAll(*p.store, {"a", "b", "c"}));
  auto writer = sqlite::Writer::For(p.dir.File("t.db"), 5s);
  ASSERT_TRUE(writer);
  const uint64_t before = (*writer)->commits();
  OutboxRelayOptions o;
  o.mark_every = 2;  // several marks, still one commit
  OutboxRelay relay(*p.store, p.bus->CampaignEvents(), o);
  auto n = relay.RunOnce();
  ASSERT_TRUE(n) << n.error().ToString();
  EXPECT_EQ(*n, 3);
  EXPECT_EQ((*writer)->commits(), before + 1);
  EXPECT_EQ(*p.store->PendingOutboxCount(), 0);
  EXPECT_EQ(relay.published(), 3);
  for (DataPart part : kAllDataParts) {
    auto stats = p.bus->WorkQueue(part).Stats();
    ASSERT_TRUE(stats);
    EXPECT_EQ(stats->visible, 3) << ToString(part);
  }
}

// A store with the embedded bus in a file of its own (the PostgreSQL/MySQL shape's bus).
// `file`: the bus's file in the store's directory ("t.db" is the store's own: the embedded
// default, where a relay pass is one transaction).
void OpenWithBusFile(testing::LocalStore& local, BusPtr& bus, const std::string& file = "bus.db") {
  ASSERT_NO_FATAL_FAILURE(local.Open());
  AppConfig config;
  config.embedded_bus_path = local.dir.File(file);
  auto opened = OpenConfiguredBus(config);
  ASSERT_TRUE(opened) << opened.error().ToString();
  bus = std::move(*opened);
}

// Rows no bus will ever take (attributes another program wrote that do not parse; a body outside
// SQS's limits) are set aside with their reason, and the rows after them are published in the
// same pass: before, the oldest such row failed every claim or every pass, and nothing was
// published again for any campaign.
// On a bus file of its own and on the store's file (one transaction per pass).
class OutboxRelayPoisonRowsTest : public ::testing::TestWithParam<std::string> {};
std::string BusFileName(const ::testing::TestParamInfo<std::string>& bus_file) {
  return bus_file.param == "t.db" ? "Same" : "Own";
}
INSTANTIATE_TEST_SUITE_P(BusFiles, OutboxRelayPoisonRowsTest, ::testing::Values("bus.db", "t.db"),
                         BusFileName);

TEST_P(OutboxRelayPoisonRowsTest, RowsNoBusTakesAreSetAsideAndTheRestIsPublished) {
  testing::LocalStore local;
  BusPtr bus;
  ASSERT_NO_FATAL_FAILURE(OpenWithBusFile(local, bus, GetParam()));
  ASSERT_NO_FATAL_FAILURE(StartAll(*local.store, {"p1", "p2", "p3", "p4", "p5"}));
  auto writer = sqlite::Writer::For(local.dir.File("t.db"), 5s);
  ASSERT_TRUE(writer);
  ASSERT_TRUE((*writer)->InWriteTransaction("poison", [](sqlite::Connection& c) -> Status {
    DRIPR_TRY(c.Exec("UPDATE outbox SET attributes = 'not json' WHERE campaign_id = 'p1'"));
    return c.Exec("UPDATE outbox SET body = '' WHERE campaign_id = 'p3'");
  }));
  OutboxRelayOptions o;
  o.mark_every = 2;
  OutboxRelay relay(*local.store, bus->CampaignEvents(), o);
  auto n = relay.RunOnce();
  ASSERT_TRUE(n) << n.error().ToString();
  EXPECT_EQ(*n, 3);
  EXPECT_EQ(relay.set_aside(), 2);
  EXPECT_EQ(*local.store->PendingOutboxCount(), 0);
  std::multiset<std::string> delivered;
  for (DataPart part : kAllDataParts) {
    auto got = bus->WorkQueue(part).Receive(10, 0ms);
    ASSERT_TRUE(got) << got.error().ToString();
    ASSERT_EQ(got->size(), 3u) << ToString(part);
    for (const auto& m : *got) {
      for (const char* id : {"p1", "p2", "p3", "p4", "p5"}) {
        if (m.body.find(id) != std::string::npos) delivered.insert(id);  // in the envelope
      }
    }
  }
  EXPECT_EQ(delivered,
            (std::multiset<std::string>{"p2", "p2", "p2", "p4", "p4", "p4", "p5", "p5", "p5"}));
  // Their reasons are kept on the rows.
  ASSERT_TRUE((*writer)->InWriteTransaction("reasons", [](sqlite::Connection& c) -> Status {
    DRIPR_ASSIGN_OR_RETURN(auto s, c.Prepare("SELECT campaign_id, failed_reason FROM outbox "
                                             "WHERE failed_reason IS NOT NULL ORDER BY id"));
    std::vector<std::pair<std::string, std::string>> got;
    DRIPR_TRY(s.ForEachRow([&](sqlite::Statement& r) { got.emplace_back(r.Text(0), r.Text(1)); }));
    EXPECT_EQ(got.size(), 2u);
    if (got.size() == 2) {
      EXPECT_EQ(got[0].first, "p1");
      EXPECT_NE(got[0].second.find("outbox attributes"), std::string::npos) << got[0].second;
      EXPECT_EQ(got[1].first, "p3");
      EXPECT_EQ(got[1].second, "message body must not be empty");
    }
    return Ok();
  }));
}

// A bus in a file of its own (PostgreSQL/MySQL + embedded bus): a pass publishes its rows in
// chunks of mark_every, one bus transaction each, not one per row.
TEST(OutboxRelayOnASeparateBusFileTest, EachChunkOfAPassIsOneBusCommit) {
  testing::LocalStore local;
  BusPtr bus;
  ASSERT_NO_FATAL_FAILURE(OpenWithBusFile(local, bus));
  ASSERT_NE(local.store->TransactionKey(), bus->CampaignEvents().TransactionKey());
  std::vector<std::string> ids;
  for (int i = 0; i < 25; ++i) ids.push_back("c" + std::to_string(100 + i));
  ASSERT_NO_FATAL_FAILURE(StartAll(*local.store, ids));
  auto writer = sqlite::Writer::For(local.dir.File("bus.db"), 5s);
  ASSERT_TRUE(writer);
  const uint64_t before = (*writer)->commits();
  OutboxRelayOptions o;
  o.batch_size = 50;
  o.mark_every = 10;
  OutboxRelay relay(*local.store, bus->CampaignEvents(), o);
  auto n = relay.RunOnce();
  ASSERT_TRUE(n) << n.error().ToString();
  EXPECT_EQ(*n, 25);
  EXPECT_EQ((*writer)->commits(), before + 3);  // 10 + 10 + 5
  EXPECT_EQ(*local.store->PendingOutboxCount(), 0);
  for (DataPart part : kAllDataParts) {
    auto got = bus->WorkQueue(part).Receive(10, 0ms);
    ASSERT_TRUE(got) << got.error().ToString();
    ASSERT_EQ(got->size(), 10u) << ToString(part);
    // In the outbox's order: the first campaign's event first.
    auto first = DecodeStatusChange((*got)[0].body);
    ASSERT_TRUE(first) << first.error().ToString();
    EXPECT_EQ(first->campaign_id, "c100") << ToString(part);
  }
}

// After a failed pass the thread waits error_backoff on its ticker, the same every time.
TEST_F(OutboxRelayTest, TheThreadWaitsErrorBackoffOnItsTickerAfterEachFailedPass) {
  Start("a");
  std::atomic<int> attempts{0};
  std::atomic<bool> broker_down{true};
  topic_.before_publish = [&](int) -> Status {
    ++attempts;
    if (broker_down) return Fail(ErrorCode::kUnavailable, "broker down");
    return Ok();
  };
  ManualTicker ticker;
  OutboxRelayOptions o;
  o.error_backoff = 250ms;
  o.idle_wait = 30s;  // on the store's (real) ticker; Stop ends it
  OutboxRelay relay(*store_, topic_, o, &ticker);
  relay.Start();
  int failed_passes = 0;
  for (auto end : {250ms, 500ms, 750ms}) {
    ASSERT_TRUE(testing::Eventually([&] { return ticker.Deadlines() == Offsets{end}; }))
        << "no backoff ending at " << end.count() << " ms";
    EXPECT_EQ(attempts.load(), ++failed_passes);
    if (end == 750ms) broker_down = false;
    ticker.AdvanceTo(ticker.start() + end);
  }
  ASSERT_TRUE(testing::Eventually([&] { return topic_.Count() == 1u; }));
  EXPECT_EQ(attempts.load(), 4);
  relay.Stop();
  EXPECT_EQ(ticker.Elapsed(), 750ms);
  EXPECT_TRUE(ticker.Sleeps().empty());
  EXPECT_EQ(*store_->PendingOutboxCount(), 0);
}

TEST_F(OutboxRelayTest, StopEndsTheBackoffWithoutWaitingItOut) {
  Start("a");
  topic_.before_publish = [](int) -> Status { return Fail(ErrorCode::kUnavailable, "down"); };
  ManualTicker ticker;
  OutboxRelayOptions o;
  o.error_backoff = 1h;
  OutboxRelay relay(*store_, topic_, o, &ticker);
  relay.Start();
  ASSERT_TRUE(testing::Eventually([&] { return ticker.Deadlines() == Offsets{1h}; }));
  relay.Stop();  // returns although the ticker never moves
  EXPECT_EQ(ticker.Elapsed(), 0s);
  EXPECT_EQ(topic_.Count(), 0u);
}

}  // namespace
}  // namespace dripr
