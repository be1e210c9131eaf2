// Transactional consume on the embedded bus: Queue::AckInNextTransaction deletes the message in
// the same transaction as the next carrying write on the same file (sqlite::Writer), and only
// then; docs/decisions/bus.md. Nested writer calls (savepoints in the open transaction).
#include <gtest/gtest.h>

#include <atomic>
#include <functional>
#include <mutex>

#include "bus/broker_fixture.h"
#include "dripr/bus/embedded/embedded_bus.h"
#include "dripr/fetcher/consumer.h"
#include "dripr/sqlite/writer.h"
#include "support/poll.h"

namespace dripr::testing {
namespace {

using sqlite::Connection;
using sqlite::Writer;
using std::chrono::seconds;

class TxAckTest : public BrokerFixture {
 protected:
  void SetUp() override {
    ASSERT_NO_FATAL_FAILURE(OpenBroker("one.db"));
    ASSERT_TRUE(broker_->DeclareQueue({.name = "q"}));
    auto q = broker_->OpenQueue("q");
    ASSERT_TRUE(q);
    queue_ = std::move(*q);
    auto w = Writer::For(dir_.File("one.db"), seconds(5));
    ASSERT_TRUE(w);
    writer_ = *w;
    ASSERT_TRUE(writer_->InWriteTransaction(
        "create", [](Connection& c) { return c.Exec("CREATE TABLE effects(x INTEGER)"); }));
  }

  std::string SendAndReceive() {
    EXPECT_TRUE(queue_->Send({"body", {}}));
    auto got = queue_->Receive(1, std::chrono::milliseconds(0));
    EXPECT_TRUE(got && got->size() == 1);
    return got && !got->empty() ? (*got)[0].receipt_handle : "";
  }

  // The handler's effect: one row; fails after inserting when `fail`.
  Status Effect(Writer& w, bool fail, Writer::Carry carry = Writer::Carry::kPending) {
    return w.InWriteTransaction(
        "effect",
        [&](Connection& c) -> Status {
          DRIPR_TRY(c.Exec("INSERT INTO effects VALUES (1)"));
          if (fail) return Fail(ErrorCode::kInternal, "handler failed");
          return Ok();
        },
        carry);
  }

  int64_t Effects() {
    int64_t n = -1;
    EXPECT_TRUE(writer_->InWriteTransaction("count", [&](Connection& c) -> Status {
      DRIPR_ASSIGN_OR_RETURN(auto s, c.Prepare("SELECT count(*) FROM effects"));
      DRIPR_TRY(s.Step());
      n = s.Int(0);
      return Ok();
    }));
    return n;
  }

  std::unique_ptr<EmbeddedQueue> queue_;
  std::shared_ptr<Writer> writer_;
};

TEST_F(TxAckTest, StoreAndBusOnOneFileShareTheWriter) {
  auto again = Writer::For(dir_.File("one.db"), seconds(1));
  ASSERT_TRUE(again);
  EXPECT_EQ(again->get(), writer_.get());
}

TEST_F(TxAckTest, CommitDeletesTheMessageInTheSameTransaction) {
  const std::string receipt = SendAndReceive();
  const uint64_t commits_before = writer_->commits();
  auto ack = queue_->AckInNextTransaction(receipt);
  ASSERT_NE(ack, nullptr);
  EXPECT_FALSE(ack->committed());
  ASSERT_TRUE(Effect(*writer_, false));
  EXPECT_TRUE(ack->committed());
  EXPECT_EQ(writer_->commits(), commits_before + 1);  // no separate ack commit
  EXPECT_EQ(Effects(), 1);
  auto stats = queue_->Stats();
  ASSERT_TRUE(stats);
  EXPECT_EQ(stats->visible + stats->in_flight, 0);
  // Runs once: a second carrying commit leaves nothing more to do.
  ASSERT_TRUE(Effect(*writer_, false));
  EXPECT_EQ(Effects(), 2);
}

TEST_F(TxAckTest, FailedHandlerCommitKeepsTheMessage) {
  const std::string receipt = SendAndReceive();
  auto ack = queue_->AckInNextTransaction(receipt);
  EXPECT_FALSE(Effect(*writer_, true));
  EXPECT_FALSE(ack->committed());
  EXPECT_EQ(Effects(), 0);
  EXPECT_TRUE(queue_->Delete(receipt));  // still there, still ours
}

TEST_F(TxAckTest, WritesThatDoNotCarryLeaveTheMessage) {
  const std::string receipt = SendAndReceive();
  auto ack = queue_->AckInNextTransaction(receipt);
  ASSERT_TRUE(Effect(*writer_, false, Writer::Carry::kNo));
  EXPECT_FALSE(ack->committed());
  EXPECT_TRUE(queue_->Delete(receipt));
}

TEST_F(TxAckTest, StaleReceiptRollsBackTheHandlersCommit) {
  const std::string receipt = SendAndReceive();
  ASSERT_TRUE(queue_->ChangeVisibility(receipt, seconds(0)));
  auto redelivered = queue_->Receive(1, std::chrono::milliseconds(0));  // someone else has it
  ASSERT_TRUE(redelivered && redelivered->size() == 1);
  auto ack = queue_->AckInNextTransaction(receipt);
  auto r = Effect(*writer_, false);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::kFailedPrecondition);
  EXPECT_FALSE(ack->committed());
  EXPECT_EQ(Effects(), 0);  // exactly once: the other delivery does the work
  EXPECT_TRUE(queue_->Delete((*redelivered)[0].receipt_handle));
}

// The consumer engine with a handler whose commit finds its message received again elsewhere
// (its lease lapsed while it ran): the handler reports the store's kFailedPrecondition as a
// failure, as the part handlers do, but the message is the other delivery's now. It must not
// be copied to the DLQ nor failed (its campaign put in ERROR); the other delivery keeps it.
TEST_F(TxAckTest, TheEngineLeavesASupersededMessageToTheOtherDelivery) {
  ASSERT_TRUE(broker_->DeclareQueue({.name = "q-dlq"}));
  auto dlq = broker_->OpenQueue("q-dlq");
  ASSERT_TRUE(dlq);
  auto other = broker_->OpenQueue("q");  // another fetcher's handle on the same queue
  ASSERT_TRUE(other);
  ASSERT_TRUE(queue_->Send({"body", {}}));

  struct StolenHandler final : MessageHandler {
    std::function<Status()> commit;  // the handler's effect, carrying the acknowledgement
    EmbeddedQueue* other;
    std::mutex mu;
    std::string stolen_receipt;
    std::string handler_reason;
    std::atomic<int> failures{0};
    HandlerOutcome Handle(const ReceivedMessage& m) override {
      // Its lease lapses and another fetcher receives it, before this handler commits.
      EXPECT_TRUE(other->ChangeVisibility(m.receipt_handle, seconds(0)));
      auto again = other->Receive(1, std::chrono::milliseconds(0));
      EXPECT_TRUE(again && again->size() == 1);
      std::lock_guard lock(mu);
      if (again && !again->empty()) stolen_receipt = (*again)[0].receipt_handle;
      auto r = commit();
      handler_reason = r ? "committed" : r.error().ToString();
      return r ? HandlerOutcome::Done("saved") : HandlerOutcome::Failure(handler_reason);
    }
    Status OnFailure(const ReceivedMessage&, const std::string&) override {
      ++failures;
      return Ok();
    }
  } handler;
  handler.commit = [this] { return Effect(*writer_, false); };
  handler.other = other->get();

  ConsumerOptions options;
  options.receive_loops = 1;
  options.max_in_flight = 1;
  options.wait_time = std::chrono::milliseconds(50);
  Consumer consumer("q", *queue_, dlq->get(), handler, options);
  consumer.Start();
  ASSERT_TRUE(Eventually([&] { return consumer.Stats().done + consumer.Stats().failed >= 1; }));
  consumer.RequestStop();
  ASSERT_TRUE(consumer.Join());

  EXPECT_EQ(consumer.Stats().done, 1);
  EXPECT_EQ(consumer.Stats().failed, 0);
  EXPECT_EQ(handler.failures.load(), 0) << "the campaign would have been put in ERROR";
  {
    std::lock_guard lock(handler.mu);
    EXPECT_NE(handler.handler_reason.find("FAILED_PRECONDITION"), std::string::npos)
        << handler.handler_reason;
    auto dlq_stats = (*dlq)->Stats();
    ASSERT_TRUE(dlq_stats);
    EXPECT_EQ(dlq_stats->visible + dlq_stats->in_flight, 0) << "copied to the DLQ";
    EXPECT_EQ(Effects(), 0);  // this run committed nothing
    // Still there for the delivery that holds it, which acknowledges it.
    EXPECT_TRUE(queue_->Delete(handler.stolen_receipt));
  }
}

// Writer::InWriteTransaction called again inside an open transaction on the same thread (the
// outbox relay's pass: store calls and publishes to the embedded bus on the store's file).
TEST_F(TxAckTest, NestedWritesJoinTheOpenTransactionAsSavepoints) {
  const uint64_t commits_before = writer_->commits();
  ASSERT_TRUE(writer_->InWriteTransaction("outer", [&](Connection&) -> Status {
    EXPECT_TRUE(Effect(*writer_, false, Writer::Carry::kNo));
    // A failing nested call undoes only its own row and reports its own error.
    auto failed = Effect(*writer_, true, Writer::Carry::kNo);
    EXPECT_FALSE(failed);
    if (failed) return Ok();
    EXPECT_EQ(failed.error().message, "handler failed");
    EXPECT_TRUE(queue_->Send({"sent inside", {}}));
    // Nothing is visible to other connections before the commit.
    auto reader = Connection::Open(dir_.File("one.db"), {});
    EXPECT_TRUE(reader);
    if (!reader) return Ok();
    auto n = (*reader)->Prepare("SELECT count(*) FROM bus_messages");
    EXPECT_TRUE(n && n->Step());
    if (n) {
      EXPECT_EQ(n->Int(0), 0);
    }
    return Ok();
  }));
  EXPECT_EQ(writer_->commits(), commits_before + 1);  // one commit for all of it
  EXPECT_EQ(Effects(), 1);
  auto got = queue_->Receive(1, std::chrono::milliseconds(0));
  ASSERT_TRUE(got);
  ASSERT_EQ(got->size(), 1u);
  EXPECT_EQ((*got)[0].body, "sent inside");
}

TEST_F(TxAckTest, AFailedOuterTransactionUndoesItsNestedWritesAndTheirWakeUps) {
  int woke = 0;
  auto failed = writer_->InWriteTransaction("outer", [&](Connection&) -> Status {
    EXPECT_TRUE(Effect(*writer_, false, Writer::Carry::kNo));
    EXPECT_TRUE(queue_->Send({"never", {}}));
    writer_->AfterCommit([&] { ++woke; });
    EXPECT_EQ(woke, 0);  // not before the commit
    return Fail(ErrorCode::kInternal, "outer failed");
  });
  EXPECT_FALSE(failed);
  EXPECT_EQ(woke, 0);
  EXPECT_EQ(Effects(), 0);
  auto got = queue_->Receive(1, std::chrono::milliseconds(0));
  ASSERT_TRUE(got);
  EXPECT_TRUE(got->empty());
  // Outside a transaction, AfterCommit runs at once; inside, after the commit.
  writer_->AfterCommit([&] { ++woke; });
  EXPECT_EQ(woke, 1);
  ASSERT_TRUE(writer_->InWriteTransaction("outer", [&](Connection&) -> Status {
    writer_->AfterCommit([&] { ++woke; });
    EXPECT_EQ(woke, 1);
    return Ok();
  }));
  EXPECT_EQ(woke, 2);
}

// A nested call carries no pending acknowledgement: only a commit of its own says "committed".
TEST_F(TxAckTest, NestedWritesDoNotCarryTheAcknowledgement) {
  const std::string receipt = SendAndReceive();
  auto ack = queue_->AckInNextTransaction(receipt);
  ASSERT_TRUE(writer_->InWriteTransaction(
      "outer", [&](Connection&) -> Status { return Effect(*writer_, false); }));
  EXPECT_FALSE(ack->committed());
  ASSERT_TRUE(Effect(*writer_, false));
  EXPECT_TRUE(ack->committed());
}

TEST_F(TxAckTest, StoreOnAnotherFileAcknowledgesSeparately) {
  auto other = Writer::For(dir_.File("store.db"), seconds(5));
  ASSERT_FALSE(other);                                   // the writer never creates a file
  auto b = EmbeddedBroker::Open(dir_.File("store.db"));  // creates it
  ASSERT_TRUE(b);
  other = Writer::For(dir_.File("store.db"), seconds(5));
  ASSERT_TRUE(other);
  ASSERT_NE(other->get(), writer_.get());
  ASSERT_TRUE((*other)->InWriteTransaction(
      "create", [](Connection& c) { return c.Exec("CREATE TABLE effects(x INTEGER)"); }));
  const std::string receipt = SendAndReceive();
  auto ack = queue_->AckInNextTransaction(receipt);
  ASSERT_TRUE(Effect(**other, false));
  EXPECT_FALSE(ack->committed());
  EXPECT_TRUE(queue_->Delete(receipt));
}

}  // namespace
}  // namespace dripr::testing
