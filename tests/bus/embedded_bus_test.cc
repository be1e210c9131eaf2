// The bus contract suite on the embedded backend, plus the embedded bus's declarations,
// pipeline layout and publish fan-out.
#include "dripr/bus/embedded/embedded_bus.h"

#include <gtest/gtest.h>
#include <sqlite3.h>

#include <filesystem>
#include <nlohmann/json.hpp>

#include "bus/broker_fixture.h"
#include "dripr/sqlite/writer.h"
#include "support/bus_contract.h"

namespace dripr::testing {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

struct EmbeddedOwner {
  TempDir dir;
  std::unique_ptr<EmbeddedBus> bus;
};

Result<BusContractSetup> MakeEmbeddedSetup(bool raw) {
  auto owner = std::make_shared<EmbeddedOwner>();
  EmbeddedBusOptions options;
  options.max_receive_count = 3;
  options.raw_delivery = raw;
  DRIPR_ASSIGN_OR_RETURN(owner->bus, EmbeddedBus::Open(owner->dir.File("bus.db"), {}, options));
  BusNames names;
  EmbeddedBroker& broker = owner->bus->broker();
  BusContractSetup s;
  DRIPR_ASSIGN_OR_RETURN(s.topic, broker.OpenTopic(names.campaign_events_topic));
  DRIPR_ASSIGN_OR_RETURN(s.work, broker.OpenQueue(names.WorkQueue(DataPart::kActiveListings)));
  DRIPR_ASSIGN_OR_RETURN(s.dlq, broker.OpenQueue(names.DeadLetterQueue(DataPart::kActiveListings)));
  s.max_receive_count = 3;
  s.raw_delivery = raw;
  s.owner = owner;
  return s;
}

INSTANTIATE_TEST_SUITE_P(
    Embedded, BusContractTest,
    ::testing::Values(BusContractParam{"envelope", [] { return MakeEmbeddedSetup(false); }},
                      BusContractParam{"raw", [] { return MakeEmbeddedSetup(true); }}),
    BusContractName);

class EmbeddedBrokerTest : public BrokerFixture {
 protected:
  void SetUp() override { ASSERT_NO_FATAL_FAILURE(OpenBroker("bus.db")); }
};

TEST_F(EmbeddedBrokerTest, DeclareQueueValidates) {
  auto bad_name = broker_->DeclareQueue({.name = "has space"});
  ASSERT_FALSE(bad_name);
  EXPECT_EQ(bad_name.error().code, ErrorCode::kInvalidArgument);
  EXPECT_EQ(bad_name.error().message,
            "queue name \"has space\": must be 1-80 characters of [A-Za-z0-9_-]");

  auto long_vis = broker_->DeclareQueue({.name = "q", .visibility_timeout = seconds(43201)});
  ASSERT_FALSE(long_vis);
  EXPECT_EQ(long_vis.error().code, ErrorCode::kInvalidArgument);

  auto no_dlq = broker_->DeclareQueue({.name = "q", .max_receive_count = 3});
  ASSERT_FALSE(no_dlq);
  EXPECT_EQ(no_dlq.error().message, "queue q: max_receive_count and dead_letter_queue go together");

  auto missing_dlq =
      broker_->DeclareQueue({.name = "q", .max_receive_count = 3, .dead_letter_queue = "q-dlq"});
  ASSERT_FALSE(missing_dlq);
  EXPECT_EQ(missing_dlq.error().code, ErrorCode::kNotFound);
  EXPECT_EQ(missing_dlq.error().message, "queue q: dead-letter queue \"q-dlq\" is not declared");

  auto self =
      broker_->DeclareQueue({.name = "q", .max_receive_count = 3, .dead_letter_queue = "q"});
  ASSERT_FALSE(self);
  EXPECT_EQ(self.error().code, ErrorCode::kInvalidArgument);

  auto too_many =
      broker_->DeclareQueue({.name = "q", .max_receive_count = 1001, .dead_letter_queue = "other"});
  ASSERT_FALSE(too_many);
  EXPECT_EQ(too_many.error().message, "queue q: max_receive_count must be 1-1000");
}

TEST_F(EmbeddedBrokerTest, DeclareQueueIsIdempotentAndUpdatesSettings) {
  ASSERT_TRUE(broker_->DeclareQueue({.name = "q-dlq"}));
  EmbeddedQueueConfig c{.name = "q",
                        .visibility_timeout = seconds(10),
                        .max_receive_count = 2,
                        .dead_letter_queue = "q-dlq"};
  ASSERT_TRUE(broker_->DeclareQueue(c));
  ASSERT_TRUE(broker_->DeclareQueue(c));
  auto got = broker_->GetQueueConfig("q");
  ASSERT_TRUE(got) << got.error().ToString();
  EXPECT_EQ(*got, c);

  c.visibility_timeout = seconds(60);
  c.max_receive_count = 7;
  ASSERT_TRUE(broker_->DeclareQueue(c));
  got = broker_->GetQueueConfig("q");
  ASSERT_TRUE(got);
  EXPECT_EQ(*got, c);

  auto all = broker_->ListQueues();
  ASSERT_TRUE(all);
  ASSERT_EQ(all->size(), 2u);
  EXPECT_EQ((*all)[0].name, "q");
  EXPECT_EQ((*all)[1].name, "q-dlq");
}

TEST_F(EmbeddedBrokerTest, UnknownNamesAreNotFound) {
  auto q = broker_->OpenQueue("nope");
  ASSERT_FALSE(q);
  EXPECT_EQ(q.error().code, ErrorCode::kNotFound);
  EXPECT_EQ(q.error().message, "queue \"nope\" is not declared");
  auto t = broker_->OpenTopic("nope");
  ASSERT_FALSE(t);
  EXPECT_EQ(t.error().code, ErrorCode::kNotFound);

  ASSERT_TRUE(broker_->DeclareTopic("t"));
  ASSERT_TRUE(broker_->DeclareQueue({.name = "q"}));
  auto no_topic = broker_->Subscribe({.topic = "x", .queue = "q"});
  ASSERT_FALSE(no_topic);
  EXPECT_EQ(no_topic.error().code, ErrorCode::kNotFound);
  EXPECT_EQ(no_topic.error().message, "topic \"x\" is not declared");
  auto no_queue = broker_->Subscribe({.topic = "t", .queue = "x"});
  ASSERT_FALSE(no_queue);
  EXPECT_EQ(no_queue.error().code, ErrorCode::kNotFound);

  auto bad_topic = broker_->DeclareTopic("");
  ASSERT_FALSE(bad_topic);
  EXPECT_EQ(bad_topic.error().code, ErrorCode::kInvalidArgument);
}

TEST_F(EmbeddedBrokerTest, SubscribeRejectsUnsupportedFilterOperators) {
  ASSERT_TRUE(broker_->DeclareTopic("t"));
  ASSERT_TRUE(broker_->DeclareQueue({.name = "q"}));
  auto numeric = broker_->Subscribe(
      {.topic = "t", .queue = "q", .filter_policy = R"({"n":[{"numeric":[">",1]}]})"});
  ASSERT_FALSE(numeric);
  EXPECT_EQ(numeric.error().code, ErrorCode::kInvalidArgument);
  EXPECT_EQ(numeric.error().message,
            "subscription t -> q: filter policy: \"n\": operator \"numeric\" is not supported "
            "(supported: exact match, anything-but, exists, prefix)");
  auto nested_attr = broker_->Subscribe(
      {.topic = "t", .queue = "q", .filter_policy = R"({"payload":{"to_status":["X"]}})"});
  ASSERT_FALSE(nested_attr);
  EXPECT_EQ(nested_attr.error().code, ErrorCode::kInvalidArgument);
  auto subs = broker_->ListSubscriptions("t");
  ASSERT_TRUE(subs);
  EXPECT_TRUE(subs->empty());
}

TEST_F(EmbeddedBrokerTest, PublishDeliversToEveryMatchingSubscription) {
  ASSERT_TRUE(broker_->DeclareTopic("t"));
  for (const char* q : {"by-attr-raw", "by-body-envelope", "everything", "never"}) {
    ASSERT_TRUE(broker_->DeclareQueue({.name = q}));
  }
  ASSERT_TRUE(broker_->Subscribe({.topic = "t",
                                  .queue = "by-attr-raw",
                                  .filter_policy = R"({"to_status":["WAITING_FOR_DATA"]})",
                                  .raw_delivery = true}));
  ASSERT_TRUE(
      broker_->Subscribe({.topic = "t",
                          .queue = "by-body-envelope",
                          .filter_policy = R"({"payload":{"to_status":["WAITING_FOR_DATA"]}})",
                          .filter_scope = FilterScope::kMessageBody}));
  ASSERT_TRUE(broker_->Subscribe({.topic = "t", .queue = "everything"}));
  ASSERT_TRUE(broker_->Subscribe(
      {.topic = "t",
       .queue = "never",
       .filter_policy = R"({"to_status":[{"anything-but":["WAITING_FOR_DATA"]}]})"}));
  auto topic = broker_->OpenTopic("t");
  ASSERT_TRUE(topic);
  const std::string body = R"({"payload":{"to_status":"WAITING_FOR_DATA"}})";
  const MessageAttributes attrs = {{"to_status", "WAITING_FOR_DATA"}};
  auto sns_id = (*topic)->Publish({body, attrs});
  ASSERT_TRUE(sns_id) << sns_id.error().ToString();

  auto receive_one = [&](const std::string& name) -> std::vector<ReceivedMessage> {
    auto q = broker_->OpenQueue(name);
    EXPECT_TRUE(q);
    auto got = (*q)->Receive(10, milliseconds(0));
    EXPECT_TRUE(got);
    return got ? *got : std::vector<ReceivedMessage>{};
  };
  auto raw = receive_one("by-attr-raw");
  ASSERT_EQ(raw.size(), 1u);
  EXPECT_EQ(raw[0].body, body);
  EXPECT_EQ(raw[0].attributes, attrs);

  auto env = receive_one("by-body-envelope");
  ASSERT_EQ(env.size(), 1u);
  EXPECT_TRUE(env[0].attributes.empty());
  auto j = nlohmann::json::parse(env[0].body);
  EXPECT_EQ(j["Type"], "Notification");
  EXPECT_EQ(j["MessageId"], *sns_id);
  EXPECT_EQ(j["TopicArn"], "embedded:t");
  EXPECT_EQ(j["Message"], body);
  EXPECT_EQ(j["MessageAttributes"]["to_status"]["Value"], "WAITING_FOR_DATA");
  EXPECT_NE(env[0].message_id, raw[0].message_id);  // one SQS message per queue

  EXPECT_EQ(receive_one("everything").size(), 1u);
  EXPECT_EQ(receive_one("never").size(), 0u);
}

TEST_F(EmbeddedBrokerTest, EnvelopeOmitsAttributesWhenThereAreNone) {
  ASSERT_TRUE(broker_->DeclareTopic("t"));
  ASSERT_TRUE(broker_->DeclareQueue({.name = "q"}));
  ASSERT_TRUE(broker_->Subscribe({.topic = "t", .queue = "q"}));
  auto topic = broker_->OpenTopic("t");
  ASSERT_TRUE(topic);
  ASSERT_TRUE((*topic)->Publish({"plain text, not JSON", {}}));
  auto q = broker_->OpenQueue("q");
  ASSERT_TRUE(q);
  auto got = (*q)->Receive(1, milliseconds(0));
  ASSERT_TRUE(got);
  ASSERT_EQ(got->size(), 1u);
  auto j = nlohmann::json::parse((*got)[0].body);
  EXPECT_EQ(j["Message"], "plain text, not JSON");
  EXPECT_FALSE(j.contains("MessageAttributes"));
  // Timestamp is ISO-8601 UTC with milliseconds.
  std::string ts = j["Timestamp"];
  ASSERT_EQ(ts.size(), 24u) << ts;
  EXPECT_EQ(ts[10], 'T');
  EXPECT_EQ(ts.back(), 'Z');
}

TEST_F(EmbeddedBrokerTest, PublishBatchIsOneTransactionInOrderUpToTheFirstInvalidMessage) {
  ASSERT_TRUE(broker_->DeclareTopic("t"));
  ASSERT_TRUE(broker_->DeclareQueue({.name = "q"}));
  ASSERT_TRUE(broker_->Subscribe({.topic = "t", .queue = "q", .raw_delivery = true}));
  auto topic = broker_->OpenTopic("t");
  ASSERT_TRUE(topic);
  auto q = broker_->OpenQueue("q");
  ASSERT_TRUE(q);
  auto writer = sqlite::Writer::For(dir_.File("bus.db"), seconds(5));
  ASSERT_TRUE(writer);
  const uint64_t before = (*writer)->commits();
  auto all = (*topic)->PublishBatch({{"a", {{"k", "1"}}}, {"b", {}}, {"c", {}}});
  ASSERT_EQ(all.size(), 3u);
  for (const auto& r : all) ASSERT_TRUE(r) << r.error().ToString();
  EXPECT_NE(*all[0], *all[1]);
  EXPECT_EQ((*writer)->commits(), before + 1);
  auto got = (*q)->Receive(10, milliseconds(0));
  ASSERT_TRUE(got);
  ASSERT_EQ(got->size(), 3u);
  EXPECT_EQ((*got)[0].body, "a");
  EXPECT_EQ((*got)[0].attributes, (MessageAttributes{{"k", "1"}}));
  EXPECT_EQ((*got)[1].body, "b");
  EXPECT_EQ((*got)[2].body, "c");

  // An empty body is invalid: what comes before it is published, what comes after is not.
  auto some = (*topic)->PublishBatch({{"d", {}}, {"", {}}, {"e", {}}});
  ASSERT_EQ(some.size(), 3u);
  EXPECT_TRUE(some[0]);
  ASSERT_FALSE(some[1]);
  EXPECT_EQ(some[1].error().code, ErrorCode::kInvalidArgument);
  ASSERT_FALSE(some[2]);
  EXPECT_EQ(some[2].error().code, ErrorCode::kAborted);
  got = (*q)->Receive(10, milliseconds(0));
  ASSERT_TRUE(got);
  ASSERT_EQ(got->size(), 1u);
  EXPECT_EQ((*got)[0].body, "d");
}

// Topic::PublishBatch's default (SQS, test doubles): Publish per message, stopping at the
// first failure.
TEST(TopicTest, DefaultPublishBatchStopsAtTheFirstFailure) {
  class FailsSecond final : public Topic {
   public:
    Result<std::string> Publish(const OutgoingMessage& m) override {
      bodies.push_back(m.body);
      if (bodies.size() == 2) return Fail(ErrorCode::kUnavailable, "down");
      return "id-" + m.body;
    }
    std::string Name() const override { return "fails-second"; }
    std::vector<std::string> bodies;
  } topic;
  auto r = topic.PublishBatch({{"a", {}}, {"b", {}}, {"c", {}}});
  ASSERT_EQ(r.size(), 3u);
  ASSERT_TRUE(r[0]);
  EXPECT_EQ(*r[0], "id-a");
  ASSERT_FALSE(r[1]);
  EXPECT_EQ(r[1].error().code, ErrorCode::kUnavailable);
  ASSERT_FALSE(r[2]);
  EXPECT_EQ(r[2].error().code, ErrorCode::kAborted);
  EXPECT_EQ(topic.bodies, (std::vector<std::string>{"a", "b"}));  // c never tried
}

TEST_F(EmbeddedBrokerTest, PublishWithoutSubscriptionsDropsTheMessage) {
  ASSERT_TRUE(broker_->DeclareTopic("t"));
  auto topic = broker_->OpenTopic("t");
  ASSERT_TRUE(topic);
  auto id = (*topic)->Publish({"x", {}});
  ASSERT_TRUE(id);
  EXPECT_FALSE(id->empty());
}

TEST(EmbeddedBusTest, OpenDeclaresThePipelineLayoutIdempotently) {
  TempDir dir;
  EmbeddedBusOptions options;
  options.max_receive_count = 4;
  options.visibility_timeout = seconds(45);
  auto bus = EmbeddedBus::Open(dir.File("dripr.db"), {}, options);
  ASSERT_TRUE(bus) << bus.error().ToString();
  auto again = EmbeddedBus::Open(dir.File("dripr.db"), {}, options);  // a second process
  ASSERT_TRUE(again) << again.error().ToString();

  auto queues = (*bus)->broker().ListQueues();
  ASSERT_TRUE(queues);
  std::vector<std::string> names;
  for (const auto& q : *queues) names.push_back(q.name);
  EXPECT_EQ(names, (std::vector<std::string>{"active-listings", "active-listings-dlq",
                                             "local-market-updates", "local-market-updates-dlq",
                                             "recent-sales", "recent-sales-dlq"}));
  auto work = (*bus)->broker().GetQueueConfig("recent-sales");
  ASSERT_TRUE(work);
  EXPECT_EQ(*work, (EmbeddedQueueConfig{"recent-sales", seconds(45), 4, "recent-sales-dlq"}));

  auto subs = (*bus)->broker().ListSubscriptions("campaign-events");
  ASSERT_TRUE(subs);
  ASSERT_EQ(subs->size(), 3u);
  for (const auto& s : *subs) {
    EXPECT_EQ(s.filter_policy, EmbeddedBus::kWaitingForDataFilter);
    EXPECT_EQ(s.filter_scope, FilterScope::kMessageBody);
    EXPECT_FALSE(s.raw_delivery);
  }
  EXPECT_EQ((*bus)->CampaignEvents().Name(), "campaign-events");
  EXPECT_EQ((*bus)->WorkQueue(DataPart::kLocalMarketData).Name(), "local-market-updates");
  EXPECT_EQ((*bus)->DeadLetterQueue(DataPart::kRecentSales).Name(), "recent-sales-dlq");

  // One WAITING_FOR_DATA event reaches all three work queues, through either handle.
  ASSERT_TRUE((*again)->CampaignEvents().Publish(
      {R"({"event_type":"STATUS_CHANGE","payload":{"to_status":"WAITING_FOR_DATA"}})", {}}));
  for (DataPart part : kAllDataParts) {
    auto stats = (*bus)->WorkQueue(part).Stats();
    ASSERT_TRUE(stats);
    EXPECT_EQ(stats->visible, 1) << ToString(part);
  }
}

// A process declaring a smaller redrive count (a CLI with a smaller DRIPR_MAX_ATTEMPTS) must
// not let the broker move messages to the DLQ before the fetcher's engine gives up on them.
TEST(EmbeddedBusTest, ADeclareNeverLowersTheWorkQueuesMaxReceiveCount) {
  TempDir dir;
  EmbeddedBusOptions high;
  high.max_receive_count = 11;
  ASSERT_TRUE(EmbeddedBus::Open(dir.File("dripr.db"), {}, high));
  EmbeddedBusOptions low;
  low.max_receive_count = 5;
  auto bus = EmbeddedBus::Open(dir.File("dripr.db"), {}, low);
  ASSERT_TRUE(bus) << bus.error().ToString();
  for (DataPart part : kAllDataParts) {
    auto work = (*bus)->broker().GetQueueConfig(std::string((*bus)->WorkQueue(part).Name()));
    ASSERT_TRUE(work) << work.error().ToString();
    EXPECT_EQ(work->max_receive_count, 11) << ToString(part);
  }
  EmbeddedBusOptions higher;
  higher.max_receive_count = 20;
  ASSERT_TRUE(EmbeddedBus::Open(dir.File("dripr.db"), {}, higher));
  auto work = (*bus)->broker().GetQueueConfig("recent-sales");
  ASSERT_TRUE(work);
  EXPECT_EQ(work->max_receive_count, 20);
}

TEST(EmbeddedBusTest, OpenFailsOnAnUnopenablePath) {
  TempDir dir;
  auto bus = EmbeddedBus::Open(dir.File("missing-dir/sub/bus.db"));
  ASSERT_FALSE(bus);
  EXPECT_EQ(bus.error().code, ErrorCode::kUnavailable);
}

TEST(EmbeddedBusTest, OpenRefusesAFileThatIsNotADatabase) {
  TempDir dir;
  {
    std::FILE* f = std::fopen(dir.File("junk.db").c_str(), "w");
    ASSERT_NE(f, nullptr);
    std::fputs(
        "this is not an sqlite database, just some text long enough to matter......"
        "................................................................",
        f);
    std::fclose(f);
  }
  auto bus = EmbeddedBus::Open(dir.File("junk.db"));
  ASSERT_FALSE(bus);
  EXPECT_EQ(bus.error().code, ErrorCode::kDataLoss) << bus.error().ToString();
}

TEST(EmbeddedBusTest, OpeningWithoutDeclaringCreatesNothing) {
  TempDir dir;
  const std::string path = dir.File("store-only.db");
  {
    sqlite3* db = nullptr;  // a database with other tables (the store's) and no bus tables
    ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
    ASSERT_EQ(sqlite3_exec(db, "CREATE TABLE campaigns(id TEXT)", nullptr, nullptr, nullptr),
              SQLITE_OK);
    sqlite3_close(db);
  }
  EmbeddedBusOptions read_only;
  read_only.broker.create = false;
  read_only.declare = false;
  auto bus = EmbeddedBus::Open(path, BusNames{}, read_only);
  ASSERT_FALSE(bus);
  EXPECT_EQ(bus.error().code, ErrorCode::kNotFound) << bus.error().ToString();
  EXPECT_EQ(bus.error().message, "no bus tables");
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  sqlite3_stmt* st = nullptr;
  ASSERT_EQ(sqlite3_prepare_v2(db, "SELECT count(*) FROM sqlite_master WHERE name LIKE 'bus_%'", -1,
                               &st, nullptr),
            SQLITE_OK);
  ASSERT_EQ(sqlite3_step(st), SQLITE_ROW);
  EXPECT_EQ(sqlite3_column_int(st, 0), 0) << "a read-only open created bus tables";
  sqlite3_finalize(st);
  sqlite3_close(db);

  // Once declared (by a writing process), the same read-only open works and sees the queues.
  ASSERT_TRUE(EmbeddedBus::Open(path));
  auto opened = EmbeddedBus::Open(path, BusNames{}, read_only);
  ASSERT_TRUE(opened) << opened.error().ToString();
  auto stats = (*opened)->WorkQueue(DataPart::kActiveListings).Stats();
  ASSERT_TRUE(stats);
  EXPECT_EQ(stats->visible, 0);

  auto missing = EmbeddedBus::Open(dir.File("missing.db"), BusNames{}, read_only);
  ASSERT_FALSE(missing);
  EXPECT_FALSE(std::filesystem::exists(dir.File("missing.db")));
}

}  // namespace
}  // namespace dripr::testing
