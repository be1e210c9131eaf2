// Shutdown of the consumer engine and the whole DataFetcher (docs/decisions/shutdown.md):
// one deadline for the process, stop-and-destroy while handlers overrun it (this suite also
// runs under ASan: a worker left using a freed handler would be reported), and long polls on
// SQS (moto_server, DRIPR_TEST_MOTO_URL) interrupted at once.

#include <gtest/gtest.h>

#include <condition_variable>
#include <future>

#include "aws/moto.h"
#include "dripr/bus/aws/aws_bus.h"
#include "dripr/bus/embedded/embedded_bus.h"
#include "dripr/fetcher/consumer.h"
#include "dripr/fetcher/data_fetcher.h"
#include "fetcher/local_pipeline.h"
#include "support/campaign_ids.h"
#include "support/faulty_queue.h"
#include "support/poll.h"

namespace dripr {
namespace {

using namespace std::chrono_literals;
using testing::Eventually;
using Steady = std::chrono::steady_clock;

// Every call blocks until Open(), then fails with kUnavailable (the handler retries).
class GatedProvider : public Provider {
 public:
  std::string Name() const override { return "gated"; }
  Result<MarketData> Market(const std::string&) override { return Block<MarketData>(); }
  Result<std::vector<PropertyRecord>> ActiveListings(const SearchArea&) override {
    return Block<std::vector<PropertyRecord>>();
  }
  Result<std::vector<PropertyRecord>> RecentSales(const SearchArea&, int) override {
    return Block<std::vector<PropertyRecord>>();
  }
  void Open() {
    std::lock_guard lock(mu_);
    open_ = true;
    cv_.notify_all();
  }
  std::atomic<int> waiting{0};
  std::atomic<int> returned{0};

 private:
  template <class T>
  Result<T> Block() {
    ++waiting;
    {
      std::unique_lock lock(mu_);
      cv_.wait(lock, [&] { return open_; });
    }
    ++returned;
    return Fail(ErrorCode::kUnavailable, "gated provider");
  }
  std::mutex mu_;
  std::condition_variable cv_;
  bool open_ = false;
};

class DataFetcherShutdownTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_NO_FATAL_FAILURE(local_.Open());
    store_ = local_.store.get();
    auto bus = EmbeddedBus::Open(local_.dir.File("bus.db"));
    ASSERT_TRUE(bus) << bus.error().ToString();
    bus_ = std::move(*bus);
    config_.consumer.wait_time = 1s;  // the embedded default
    config_.consumer.shutdown_deadline = 2s;
  }
  void TearDown() override {
    provider_.Open();  // a failed assertion must not leave the fetcher's handlers blocked
    fetcher_.reset();
    bus_.reset();
    local_.store.reset();
  }
  void StartCampaign(const std::string& id) {
    NewCampaign c{id, "u", "02139", std::nullopt};
    c.property = PropertyData{"1 Main St", {42.36, -71.10}, 450000};
    ASSERT_TRUE(store_->CreateCampaign(c));
    ASSERT_TRUE(store_->StartCampaign(Cid(id)));
  }
  int64_t Depth(Queue& q) {
    auto s = q.Stats();
    return s ? s->visible + s->in_flight : -1;
  }

  testing::LocalStore local_;
  Store* store_ = nullptr;
  std::unique_ptr<EmbeddedBus> bus_;
  AppConfig config_;
  GatedProvider provider_;
  std::unique_ptr<DataFetcher> fetcher_;
};

TEST_F(DataFetcherShutdownTest, StopAndDestroyWhileHandlersOverrunTheDeadline) {
  ManualTicker ticker;
  auto& fetcher = fetcher_;
  fetcher = std::make_unique<DataFetcher>(*store_, *bus_, provider_, SystemClock::Instance(),
                                          config_, &ticker);
  fetcher->Start();
  StartCampaign("c1");
  // One handler per part queue, each stuck in the provider.
  ASSERT_TRUE(Eventually([&] { return provider_.waiting == 3; }));

  // One deadline for the whole fetcher: 2 s of clock after Stop, the three consumers (whose
  // handlers all run meanwhile) are done waiting — not 2 s each, one after another.
  auto stopped = std::async(std::launch::async, [&] { return fetcher->Stop(); });
  ASSERT_TRUE(Eventually([&] {
    auto d = ticker.Deadlines();
    return std::find(d.begin(), d.end(), Ticker::Duration(2s)) != d.end();
  })) << "Stop is not waiting for the 2 s deadline";
  EXPECT_EQ(stopped.wait_for(0ms), std::future_status::timeout);
  ticker.Advance(2s);
  ShutdownReport report = stopped.get();
  EXPECT_EQ(report.still_running, 3);
  EXPECT_EQ(fetcher->Stop().still_running, 3) << "a second Stop reports the first";

  // Destroying the fetcher waits for the overrunning handlers instead of freeing what they use.
  auto destroyed = std::async(std::launch::async, [&] { fetcher.reset(); });
  EXPECT_EQ(destroyed.wait_for(100ms), std::future_status::timeout)
      << "destroyed while its handlers were still running";
  provider_.Open();
  destroyed.get();
  EXPECT_EQ(provider_.returned, 3);
  // Nothing lost: each handler asked for a retry, so each message is still in its queue.
  for (DataPart part : kAllDataParts) EXPECT_EQ(Depth(bus_->WorkQueue(part)), 1);
}

TEST_F(DataFetcherShutdownTest, IdleStopIsPromptAndClean) {
  DataFetcher fetcher(*store_, *bus_, provider_, SystemClock::Instance(), config_);
  fetcher.Start();
  const auto t0 = Steady::now();
  ShutdownReport report = fetcher.Stop();
  const auto took = Steady::now() - t0;
  EXPECT_TRUE(report.clean());
  // The embedded receive waits are cancelled (EmbeddedQueue::CancelReceives): never the 2 s
  // deadline, nor the 1 s receive wait.
  EXPECT_LT(took, 1500ms) << std::chrono::duration<double>(took).count() << " s";
}

// ---- SQS (moto) ----

class SqsShutdownTest : public ::testing::Test {
 protected:
  void SetUp() override {
    DRIPR_REQUIRE_MOTO();
    auto sqs = std::make_shared<aws::SqsClient>(aws::testing::MotoOptions());
    auto url =
        sqs->CreateQueue(aws::testing::UniqueName("shutdown"), {{"VisibilityTimeout", "30"}});
    ASSERT_TRUE(url) << url.error().ToString();
    queue_ = std::make_unique<aws::SqsQueue>(sqs, *url);
  }
  std::unique_ptr<aws::SqsQueue> queue_;
};

TEST_F(SqsShutdownTest, CancelReceivesEndsALongPollAtOnceAndLaterReceivesWork) {
  const auto t0 = Steady::now();
  auto got = std::async(std::launch::async, [&] { return queue_->Receive(10, 20s, 30s); });
  // Cancel until the poll in flight notices (a cancel before it starts has nothing to end).
  ASSERT_TRUE(Eventually(
      [&] {
        queue_->CancelReceives();
        return got.wait_for(0ms) == std::future_status::ready;
      },
      5s));
  const auto took = Steady::now() - t0;
  EXPECT_LT(took, 2s) << "a 20 s long poll took " << std::chrono::duration<double>(took).count()
                      << " s to cancel";
  auto r = got.get();
  if (!r) {
    EXPECT_NE(r.error().message.find("cancelled"), std::string::npos) << r.error().ToString();
  }
  // Only the calls in flight were cancelled: a later receive waits and answers normally.
  // (No message is sent here: the abandoned poll is still open on the server for its 20 s
  // and would take it — docs/decisions/shutdown.md.)
  const auto t1 = Steady::now();
  auto later = queue_->Receive(10, 1s, 30s);
  ASSERT_TRUE(later) << later.error().ToString();
  EXPECT_TRUE(later->empty());
  EXPECT_GE(Steady::now() - t1, 900ms) << "the later receive did not wait: cancelled too";
}

class NullHandler : public MessageHandler {
 public:
  HandlerOutcome Handle(const ReceivedMessage&) override { return HandlerOutcome::Done("ok"); }
  Status OnFailure(const ReceivedMessage&, const std::string&) override { return Ok(); }
};

TEST_F(SqsShutdownTest, IdleConsumerOnSqsStopsWithinASecondDespiteTwentySecondPolls) {
  testing::FaultyQueue counted(*queue_);
  NullHandler handler;
  ConsumerOptions o;
  o.wait_time = 20s;
  o.receive_loops = 2;
  Consumer c("sqs", counted, nullptr, handler, o);
  c.Start();
  ASSERT_TRUE(Eventually([&] { return counted.receive_calls >= 2; }));
  const auto t0 = Steady::now();
  EXPECT_TRUE(c.Join(RealTicker().Now() + 10s).clean());
  const auto took = Steady::now() - t0;
  EXPECT_LT(took, 1s) << std::chrono::duration<double>(took).count() << " s";
  EXPECT_EQ(c.Stats().receive_errors, 0) << "a cancelled poll is not a broker error";
}

}  // namespace
}  // namespace dripr
