// DLQ tooling (fetcher/dead_letters.h) on a real SQLite store and embedded bus: peeking
// leaves every message in place; redrive moves only what a fetcher would act on and says
// for every message what happened to it and why.

#include "dripr/fetcher/dead_letters.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "dripr/domain/event.h"
#include "dripr/fetcher/consumer.h"
#include "fetcher/local_pipeline.h"
#include "support/campaign_ids.h"
#include "support/enum_names.h"

namespace dripr {
namespace {

using ::testing::HasSubstr;
using Action = RedriveEntry::Action;
using Kind = RedriveVerdict::Kind;

constexpr DataPart kPart = DataPart::kActiveListings;

class DeadLettersTest : public testing::LocalPipelineTest {
 protected:
  Queue& dlq() { return bus_->DeadLetterQueue(kPart); }
  Queue& work() { return bus_->WorkQueue(kPart); }

  // Creates and starts `id`; returns its start event.
  StatusChangeEvent Started(const std::string& id) {
    EXPECT_TRUE(store_->CreateCampaign(NewCampaign{id, "u", "02139", std::nullopt}));
    auto r = store_->StartCampaign(Cid(id));
    EXPECT_TRUE(r && r->changed && r->event);
    return *r->event;
  }
  // Puts `body` in the DLQ as the consumer does (with a failure reason).
  std::string DeadLetter(const std::string& body, const std::string& reason = "boom") {
    auto id = dlq().Send(OutgoingMessage{body,
                                         {{std::string(kFailureReasonAttribute), reason},
                                          {std::string(kSourceQueueAttribute), "w"}}});
    EXPECT_TRUE(id) << id.error().ToString();
    return id ? *id : "";
  }
  int64_t Visible(Queue& q) {
    auto s = q.Stats();
    EXPECT_TRUE(s);
    return s ? s->visible : -1;
  }
};

TEST_F(DeadLettersTest, PeekReturnsEveryMessageAndLeavesThemVisible) {
  for (int i = 0; i < 23; ++i)
    DeadLetter("body-" + std::to_string(i), "reason " + std::to_string(i));
  auto seen = PeekQueue(dlq());
  ASSERT_TRUE(seen) << seen.error().ToString();
  ASSERT_EQ(seen->size(), 23u);
  EXPECT_EQ(DeadLetterReason(seen->front()), "reason 0");
  EXPECT_EQ(Visible(dlq()), 23);

  ReceivedMessage moved_by_broker;
  EXPECT_EQ(DeadLetterReason(moved_by_broker), "(moved by the broker after too many receives)");
}

TEST_F(DeadLettersTest, ClassifiesByTheCampaignsCurrentState) {
  auto waiting = Started("waiting");
  auto v = ClassifyDeadLetter(ReceivedMessage{.body = EncodeStatusChange(waiting)}, kPart, *store_);
  ASSERT_TRUE(v) << v.error().ToString();
  EXPECT_EQ(v->kind, Kind::kRedrive);
  EXPECT_EQ(v->campaign_id, "waiting");

  // ERROR in the same cycle: redriving cannot help until it is retried.
  auto failed = Started("failed");
  ASSERT_TRUE(store_->FailCampaign(Cid("failed"), kPart, failed.data_cycle, "no data"));
  v = ClassifyDeadLetter(ReceivedMessage{.body = EncodeStatusChange(failed)}, kPart, *store_);
  ASSERT_TRUE(v);
  EXPECT_EQ(v->kind, Kind::kKeep);
  EXPECT_THAT(v->reason, HasSubstr("campaign is ERROR (no data)"));
  EXPECT_THAT(v->reason, HasSubstr("dripr campaign retry failed"));

  // After a retry the old copy is stale.
  ASSERT_TRUE(store_->RetryCampaign(Cid("failed")));
  v = ClassifyDeadLetter(ReceivedMessage{.body = EncodeStatusChange(failed)}, kPart, *store_);
  ASSERT_TRUE(v);
  EXPECT_EQ(v->kind, Kind::kStale);
  EXPECT_THAT(v->reason, HasSubstr("event is for data cycle 1, campaign is in 2"));

  // Reset (the old runbook): DORMANT, a copy would be acknowledged as stale.
  auto reset = Started("reset");
  ASSERT_TRUE(store_->FailCampaign(Cid("reset"), kPart, reset.data_cycle, "x"));
  ASSERT_TRUE(store_->ResetCampaign(Cid("reset")));
  v = ClassifyDeadLetter(ReceivedMessage{.body = EncodeStatusChange(reset)}, kPart, *store_);
  ASSERT_TRUE(v);
  EXPECT_EQ(v->kind, Kind::kStale);
  EXPECT_THAT(v->reason, HasSubstr("campaign is DORMANT: a redriven copy would only be "
                                   "acknowledged as stale; use `dripr campaign start reset`"));

  v = ClassifyDeadLetter(ReceivedMessage{.body = "not json"}, kPart, *store_);
  ASSERT_TRUE(v);
  EXPECT_EQ(v->kind, Kind::kKeep);
  EXPECT_THAT(v->reason, HasSubstr("malformed event"));

  StatusChangeEvent ghost = waiting;
  ghost.campaign_id = Cid("ghost");
  v = ClassifyDeadLetter(ReceivedMessage{.body = EncodeStatusChange(ghost)}, kPart, *store_);
  ASSERT_TRUE(v);
  EXPECT_EQ(v->kind, Kind::kKeep);
  EXPECT_EQ(v->reason, "campaign ghost does not exist");
}

TEST_F(DeadLettersTest, RedriveMovesOnlyWhatAFetcherWouldActOnAndReportsEachMessage) {
  auto waiting = Started("waiting");
  auto failed = Started("failed");
  ASSERT_TRUE(store_->FailCampaign(Cid("failed"), kPart, failed.data_cycle, "no data"));
  auto retried = Started("retried");
  ASSERT_TRUE(store_->FailCampaign(Cid("retried"), kPart, retried.data_cycle, "no data"));
  ASSERT_TRUE(store_->RetryCampaign(Cid("retried")));
  std::string m_waiting = DeadLetter(EncodeStatusChange(waiting));
  std::string m_failed = DeadLetter(EncodeStatusChange(failed));
  std::string m_stale = DeadLetter(EncodeStatusChange(retried));

  auto r = RedriveDeadLetters(dlq(), work(), kPart, *store_, {});
  ASSERT_TRUE(r) << r.error().ToString();
  ASSERT_EQ(r->size(), 3u);
  std::map<std::string, RedriveEntry> by_id;
  for (const auto& e : *r) by_id[e.message_id] = e;
  EXPECT_EQ(by_id[m_waiting].action, Action::kRedriven);
  EXPECT_EQ(by_id[m_waiting].queue, work().Name());
  EXPECT_EQ(by_id[m_failed].action, Action::kSkipped);
  EXPECT_THAT(by_id[m_failed].reason, HasSubstr("campaign retry failed"));
  EXPECT_EQ(by_id[m_stale].action, Action::kSkipped);
  EXPECT_EQ(by_id[m_stale].campaign_id, "retried");

  // The redriven copy is in the work queue without the DLQ bookkeeping attributes; the
  // skipped ones are visible in the DLQ again at once.
  auto got = work().Receive(10, std::chrono::milliseconds(0));
  ASSERT_TRUE(got);
  ASSERT_EQ(got->size(), 1u);
  EXPECT_EQ(got->front().body, EncodeStatusChange(waiting));
  EXPECT_EQ(got->front().attributes.count(std::string(kFailureReasonAttribute)), 0u);
  EXPECT_EQ(Visible(dlq()), 2);

  // --discard-stale deletes the stale copy only.
  r = RedriveDeadLetters(dlq(), work(), kPart, *store_, {.discard_stale = true});
  ASSERT_TRUE(r) << r.error().ToString();
  ASSERT_EQ(r->size(), 2u);
  for (const auto& e : *r) {
    EXPECT_EQ(e.action, e.message_id == m_stale ? Action::kDiscarded : Action::kSkipped)
        << e.message_id;
  }
  EXPECT_EQ(Visible(dlq()), 1);
}

TEST_F(DeadLettersTest, ActionsHaveStableNames) {
  EXPECT_EQ(NamesOf({Action::kRedriven, Action::kSkipped, Action::kDiscarded}),
            "redriven skipped discarded");
}

}  // namespace
}  // namespace dripr
