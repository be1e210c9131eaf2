// EmbeddedTopic::MatchSubscriptions: the filters Publish would apply, evaluated without
// publishing (what `dripr publish` uses to say that an event went nowhere).

#include <gtest/gtest.h>

#include "bus/temp_dir.h"
#include "dripr/bus/embedded/embedded_bus.h"

namespace dripr {
namespace {

TEST(EmbeddedTopicMatch, CountsTheSubscriptionsWhoseFilterAcceptsTheMessage) {
  testing::TempDir dir;
  auto broker = EmbeddedBroker::Open(dir.File("bus.db"));
  ASSERT_TRUE(broker) << broker.error().ToString();
  auto& b = **broker;
  ASSERT_TRUE(b.DeclareTopic("t"));
  for (const char* q : {"by-attr", "by-body", "everything"})
    ASSERT_TRUE(b.DeclareQueue({.name = q}));
  ASSERT_TRUE(b.Subscribe({.topic = "t", .queue = "by-attr", .filter_policy = R"({"k":["v"]})"}));
  ASSERT_TRUE(b.Subscribe({.topic = "t",
                           .queue = "by-body",
                           .filter_policy = R"({"payload":{"to_status":["WAITING_FOR_DATA"]}})",
                           .filter_scope = FilterScope::kMessageBody}));
  auto topic = b.OpenTopic("t");
  ASSERT_TRUE(topic) << topic.error().ToString();

  auto count = [&](const OutgoingMessage& m) {
    auto n = (*topic)->MatchSubscriptions(m);
    EXPECT_TRUE(n) << n.error().ToString();
    if (n) {
      EXPECT_TRUE(n->undecided.empty());
    }
    return n ? n->matched : -1;
  };
  const std::string waiting = R"({"payload":{"to_status":"WAITING_FOR_DATA"}})";
  EXPECT_EQ(count({"not json", {}}), 0);
  EXPECT_EQ(count({"not json", {{"k", "v"}}}), 1);
  EXPECT_EQ(count({waiting, {{"k", "v"}}}), 2);
  EXPECT_EQ(count({R"({"payload":{"to_status":"DORMANT"}})", {}}), 0);

  ASSERT_TRUE(b.Subscribe({.topic = "t", .queue = "everything"}));
  EXPECT_EQ(count({"not json", {}}), 1);
  auto all = (*topic)->MatchSubscriptions({"not json", {}});
  ASSERT_TRUE(all) << all.error().ToString();
  EXPECT_EQ(all->subscriptions, 3);

  // Counting publishes nothing.
  for (const char* q : {"by-attr", "by-body", "everything"}) {
    auto queue = b.OpenQueue(q);
    ASSERT_TRUE(queue);
    auto stats = (*queue)->Stats();
    ASSERT_TRUE(stats);
    EXPECT_EQ(stats->visible, 0) << q;
  }
}

}  // namespace
}  // namespace dripr
