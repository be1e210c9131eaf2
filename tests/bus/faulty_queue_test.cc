// tests/support/faulty_queue.h forwards every Queue method to the queue it wraps, the optional
// ones too: a test through the wrapper must see the backend's behaviour, not the defaults of
// the Queue interface (Browse once fell back to "cannot browse" through it).

#include "support/faulty_queue.h"

#include <gtest/gtest.h>

#include "bus/broker_fixture.h"

namespace dripr::testing {
namespace {

using namespace std::chrono_literals;

class FaultyQueueTest : public BrokerFixture {
 protected:
  void SetUp() override { ASSERT_NO_FATAL_FAILURE(OpenWorkQueues(30s)); }
};

TEST_F(FaultyQueueTest, BrowseReadsTheWrappedQueueAndLeavesItAlone) {
  ASSERT_TRUE(work_->Send({"first", {{"k", "v"}}}));
  ASSERT_TRUE(work_->Send({"second", {}}));
  FaultyQueue faulty(*work_);
  auto seen = faulty.Browse();
  ASSERT_TRUE(seen) << seen.error().ToString();
  ASSERT_TRUE(seen->has_value()) << "Browse fell back to the Queue default (nullopt)";
  ASSERT_EQ((*seen)->size(), 2u);
  EXPECT_EQ((**seen)[0].body, "first");
  EXPECT_EQ((**seen)[0].attributes.at("k"), "v");
  EXPECT_EQ((**seen)[1].body, "second");
  EXPECT_EQ(faulty.receive_calls, 0);
  // A plain read: both messages are still there to receive, first delivery each.
  auto got = work_->Receive(10, 0ms, 30s);
  ASSERT_TRUE(got);
  ASSERT_EQ(got->size(), 2u);
  EXPECT_EQ((*got)[0].receive_count, 1);
  EXPECT_EQ((*got)[1].receive_count, 1);
}

TEST_F(FaultyQueueTest, AckInNextTransactionIsTheWrappedQueues) {
  ASSERT_TRUE(work_->Send({"m", {}}));
  auto got = work_->Receive(1, 0ms, 30s);
  ASSERT_TRUE(got);
  ASSERT_EQ(got->size(), 1u);
  FaultyQueue faulty(*work_);
  // The embedded queue offers a transactional acknowledgement; the interface's default is none.
  auto ack = faulty.AckInNextTransaction(got->front().receipt_handle);
  ASSERT_NE(ack, nullptr);
  EXPECT_FALSE(ack->committed());  // no store transition ran on this thread
}

}  // namespace
}  // namespace dripr::testing
