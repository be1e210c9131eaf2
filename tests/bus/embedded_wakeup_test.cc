// Long-poll wake-ups on the embedded bus: what wakes a waiting receive (a send or publish
// through the same or another broker in this process, another process's commit through the
// change watcher, a visibility timeout, the fallback poll, the deadline) and a crashed
// writer's durability. The tests assert a wake-up's CAUSE (EmbeddedBroker::WakeCountsFor), never
// its latency, so a loaded machine cannot fail them; B1 in `make bench` measures the latency.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cstring>
#include <thread>

#include "bus/broker_fixture.h"
#include "dripr/bus/embedded/embedded_bus.h"
#include "support/poll.h"

namespace dripr::embedded {
// For gtest's messages (found by argument-dependent lookup).
void PrintTo(const WakeHub::WakeCounts& c, std::ostream* os) {
  *os << "{waiting " << c.waiting << ", local " << c.local << ", external " << c.external
      << ", timeout " << c.timeout << "}";
}
}  // namespace dripr::embedded

namespace dripr::testing {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;
using WakeCounts = embedded::WakeHub::WakeCounts;

// Long enough that no fallback re-check comes during a test: a receive that returns with a
// message was woken by its cause, not found by the periodic look.
constexpr milliseconds kNoFallback = std::chrono::hours(1);
// How long a receive waits for the wake-up under test. Only a broken wake-up path uses it up
// (the test then fails); it bounds nothing a slow machine could miss.
constexpr seconds kFailAfter{30};

class WakeupTest : public BrokerFixture {
 protected:
  void SetUp() override {
    ASSERT_NO_FATAL_FAILURE(
        OpenBroker("bus.db", {.poll_interval = kNoFallback, .watched_poll_interval = kNoFallback}));
    ASSERT_TRUE(broker_->DeclareTopic("t"));
    ASSERT_TRUE(broker_->DeclareQueue({.name = "q"}));
    ASSERT_TRUE(broker_->Subscribe({.topic = "t", .queue = "q", .raw_delivery = true}));
  }
  std::string File() const { return dir_.File("bus.db"); }

  // Starts a long poll on `q` (opened from `broker`) in a thread, runs `produce` once the poll
  // is blocked in its wait, and returns what ended the poll's waits meanwhile. The poll must
  // come back with the one message `produce` made.
  static WakeCounts WokenBy(EmbeddedBroker& broker, Queue& q,
                            const std::function<void()>& produce) {
    const WakeCounts before = broker.WakeCountsFor("q");
    std::vector<ReceivedMessage> got;
    std::thread receiver([&] {
      auto r = q.Receive(1, kFailAfter);
      ASSERT_TRUE(r) << r.error().ToString();
      got = *r;
    });
    EXPECT_TRUE(Eventually([&] { return broker.WakeCountsFor("q").waiting == 1; }, kFailAfter));
    produce();
    receiver.join();
    EXPECT_EQ(got.size(), 1u) << "the long poll was not woken";
    for (const auto& m : got) EXPECT_TRUE(q.Delete(m.receipt_handle));
    WakeCounts after = broker.WakeCountsFor("q");
    after.local -= before.local;
    after.external -= before.external;
    after.timeout -= before.timeout;
    return after;
  }
};

constexpr WakeCounts kWokenLocally{.local = 1};

TEST_F(WakeupTest, SameBrokerSendWakesTheLongPollDirectly) {
  auto q = broker_->OpenQueue("q");
  ASSERT_TRUE(q);
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(WokenBy(*broker_, **q, [&] { ASSERT_TRUE((*q)->Send({"x", {}})); }), kWokenLocally);
  }
}

TEST_F(WakeupTest, SameBrokerPublishWakesTheLongPollDirectly) {
  auto q = broker_->OpenQueue("q");
  auto t = broker_->OpenTopic("t");
  ASSERT_TRUE(q && t);
  EXPECT_EQ(WokenBy(*broker_, **q, [&] { ASSERT_TRUE((*t)->Publish({"x", {}})); }), kWokenLocally);
}

// Brokers on one file in one process share the writer, so the change watcher does not see
// each other's commits: the wake-up is the shared in-process notify.
TEST_F(WakeupTest, AnotherBrokerOnTheSameFileWakesTheLongPollDirectly) {
  auto other = EmbeddedBroker::Open(
      File(), {.poll_interval = kNoFallback, .watched_poll_interval = kNoFallback});
  ASSERT_TRUE(other) << other.error().ToString();
  auto q = broker_->OpenQueue("q");
  auto remote_topic = (*other)->OpenTopic("t");
  auto remote_queue = (*other)->OpenQueue("q");
  ASSERT_TRUE(q && remote_topic && remote_queue);
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(WokenBy(*broker_, **q,
                      [&] {
                        ASSERT_TRUE((*remote_topic)->Publish({"x", {}}));
                      }),
              kWokenLocally)
        << "publish " << i;
    EXPECT_EQ(WokenBy(*broker_, **q,
                      [&] {
                        ASSERT_TRUE((*remote_queue)->Send({"y", {}}));
                      }),
              kWokenLocally)
        << "send " << i;
  }
}

// A broker whose time is moved by hand: `ticker` times its waits, `clock` its timestamps.
struct ManualTime {
  ManualClock clock{SysTime(std::chrono::hours(24 * 365 * 56))};
  ManualTicker ticker;
};

// Runs `receive` in a thread, and for each of `deadlines` (offsets from the ticker's start):
// waits until the receive is blocked in exactly that one wait, then moves the clock and ticker
// there (so the wait ends by timeout). The receive must return after the last one.
void StepThroughWaits(ManualTime& time, const std::function<void()>& receive,
                      const std::vector<milliseconds>& deadlines) {
  std::atomic<bool> returned{false};
  std::thread receiver([&] {
    receive();
    returned = true;
  });
  for (const milliseconds d : deadlines) {
    const std::vector<Ticker::Duration> want{d};
    ASSERT_TRUE(Eventually([&] { return time.ticker.Deadlines() == want; }, kFailAfter))
        << "no wait until " << d.count() << " ms; returned: " << returned;
    time.clock.Advance(d - time.ticker.Elapsed());
    time.ticker.AdvanceTo(time.ticker.start() + d);
  }
  receiver.join();
}

TEST_F(WakeupTest, AVisibilityTimeoutEndsTheWaitWhenTheMessageBecomesVisible) {
  ManualTime time;
  ASSERT_NO_FATAL_FAILURE(OpenBroker("bus.db", {.clock = &time.clock,
                                                .ticker = &time.ticker,
                                                .poll_interval = kNoFallback,
                                                .watched_poll_interval = kNoFallback}));
  auto q = broker_->OpenQueue("q");
  ASSERT_TRUE(q);
  ASSERT_TRUE((*q)->Send({"x", {}}));
  auto first = (*q)->Receive(1, milliseconds(0), seconds(1));
  ASSERT_TRUE(first && first->size() == 1);

  Result<std::vector<ReceivedMessage>> again = std::vector<ReceivedMessage>{};
  // One wait, until 1 ms past the message's visibility (the receive's own 5 s is later).
  StepThroughWaits(time, [&] { again = (*q)->Receive(1, seconds(5)); }, {milliseconds(1001)});
  ASSERT_TRUE(again) << again.error().ToString();
  ASSERT_EQ(again->size(), 1u);
  EXPECT_EQ((*again)[0].receive_count, 2);
  EXPECT_EQ(broker_->WakeCountsFor("q"), (WakeCounts{.timeout = 1}));
}

// The change watcher runs here (inotify): the fallback look comes every watched_poll_interval.
TEST_F(WakeupTest, AnEmptyLongPollLooksEveryWatchedPollIntervalAndReturnsAtItsDeadline) {
  ManualTime time;
  ASSERT_NO_FATAL_FAILURE(OpenBroker("bus.db", {.clock = &time.clock,
                                                .ticker = &time.ticker,
                                                .poll_interval = milliseconds(300),
                                                .watched_poll_interval = milliseconds(500)}));
  auto q = broker_->OpenQueue("q");
  ASSERT_TRUE(q);
  auto got = (*q)->Receive(10, milliseconds(0));  // no wait at all
  ASSERT_TRUE(got);
  EXPECT_TRUE(got->empty());
  EXPECT_EQ(time.ticker.Elapsed(), Ticker::Duration(0));

  // 130 ms: one wait, to the deadline. 1300 ms more: fallback looks at 500 and 1000 (at 300,
  // 600, 900 and 1200 were the watcher not running).
  StepThroughWaits(time, [&] { got = (*q)->Receive(10, milliseconds(130)); }, {milliseconds(130)});
  ASSERT_TRUE(got);
  EXPECT_TRUE(got->empty());
  StepThroughWaits(time, [&] { got = (*q)->Receive(10, milliseconds(1300)); },
                   {milliseconds(630), milliseconds(1130), milliseconds(1430)});
  ASSERT_TRUE(got);
  EXPECT_TRUE(got->empty());
  EXPECT_EQ(time.ticker.Elapsed(), milliseconds(1430));
  EXPECT_EQ(broker_->WakeCountsFor("q"), (WakeCounts{.timeout = 4}));
}

// Writes exactly n bytes or fails.
bool WriteAll(int fd, const void* p, size_t n) {
  return write(fd, p, n) == static_cast<ssize_t>(n);
}
bool ReadAll(int fd, void* p, size_t n) { return read(fd, p, n) == static_cast<ssize_t>(n); }

// In a forked child: opens its own broker on `path` and publishes once when it is told to go
// (a byte on `go_fd`). Never returns.
[[noreturn]] void ChildPublish(const std::string& path, int go_fd) {
  char go = 0;
  if (!ReadAll(go_fd, &go, 1)) _exit(3);
  auto broker = EmbeddedBroker::Open(path);
  if (!broker) _exit(4);
  auto topic = (*broker)->OpenTopic("t");
  if (!topic) _exit(5);
  if (!(*topic)->Publish({"from child", {{"pid", std::to_string(getpid())}}})) _exit(6);
  _exit(0);  // no destructors: the connection is dropped as in a crash
}

// Another process's commit reaches a waiting long poll through the change watcher (inotify on
// the WAL), not through the fallback look (an hour away here).
TEST_F(WakeupTest, AForkedProcessPublishWakesTheLongPollThroughTheChangeWatcher) {
  // SQLite connections must not cross fork(): close ours, fork, then reopen.
  broker_.reset();
  int go[2];
  ASSERT_EQ(pipe(go), 0);
  pid_t pid = fork();
  ASSERT_GE(pid, 0) << std::strerror(errno);
  if (pid == 0) ChildPublish(File(), go[0]);
  close(go[0]);
  auto broker = EmbeddedBroker::Open(
      File(), {.poll_interval = kNoFallback, .watched_poll_interval = kNoFallback});
  ASSERT_TRUE(broker) << broker.error().ToString();
  auto q = (*broker)->OpenQueue("q");
  ASSERT_TRUE(q);

  const WakeCounts woken = WokenBy(**broker, **q, [&] { ASSERT_TRUE(WriteAll(go[1], "g", 1)); });
  int status = 0;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  close(go[1]);
  ASSERT_TRUE(WIFEXITED(status));
  ASSERT_EQ(WEXITSTATUS(status), 0);
  // The child's opening may commit too (and wake the poll to look in vain); its publish does.
  EXPECT_GE(woken.external, 1u);
  EXPECT_EQ(woken.local, 0u);
  EXPECT_EQ(woken.timeout, 0u);
}

TEST_F(WakeupTest, MessagesFromACrashedProcessAreDurable) {
  // The child publishes and exits without closing the database (as if killed).
  int go[2];
  ASSERT_EQ(pipe(go), 0);
  broker_.reset();  // SQLite connections must not cross fork()
  pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) ChildPublish(File(), go[0]);
  close(go[0]);
  ASSERT_TRUE(WriteAll(go[1], "g", 1));
  int status = 0;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  close(go[1]);
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);

  auto reopened = EmbeddedBroker::Open(File());
  ASSERT_TRUE(reopened) << reopened.error().ToString();
  auto q = (*reopened)->OpenQueue("q");
  ASSERT_TRUE(q);
  auto got = (*q)->Receive(10, milliseconds(0));
  ASSERT_TRUE(got);
  ASSERT_EQ(got->size(), 1u);
  EXPECT_EQ((*got)[0].body, "from child");
}

}  // namespace
}  // namespace dripr::testing
