// `dripr queues`, `dripr dlq list|redrive`, `dripr publish`, `dripr campaign retry` and
// `dripr demo` argument checks: what they print and their exit codes (0 ok, 1 run-time
// failure, 2 bad arguments), on the real binary with a SQLite database and the embedded bus.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "cmd/run_dripr.h"
#include "dripr/bus/embedded/embedded_bus.h"
#include "dripr/fetcher/consumer.h"
#include "support/sample_events.h"

namespace dripr {
namespace {

using ::dripr::testing::kDormantEvent;
using ::dripr::testing::kWaitingEvent;
using testing::DriprCli;
using ::testing::HasSubstr;
using ::testing::StartsWith;

TEST(PublishCmd, SaysWhenNoSubscriptionMatchedAndExitsOne) {
  DriprCli cli;
  auto ok = cli.Run({"publish", kWaitingEvent});
  EXPECT_EQ(ok.exit_code, 0) << ok.err;
  EXPECT_THAT(ok.out, HasSubstr("(3 subscription(s) matched)"));

  auto nowhere = cli.Run({"publish", kDormantEvent});
  EXPECT_EQ(nowhere.exit_code, 1);
  EXPECT_THAT(nowhere.err, HasSubstr("no subscription's filter matched: the event went nowhere"));

  auto raw = cli.Run({"publish", "--raw", "not json"});
  EXPECT_EQ(raw.exit_code, 1);
  EXPECT_THAT(raw.err, HasSubstr("went nowhere"));

  ASSERT_EQ(cli.Run({"migrate"}).exit_code, 0);  // queues only reads: it migrates nothing
  auto q = cli.Run({"queues", "--json"});
  ASSERT_EQ(q.exit_code, 0) << q.err;
  auto j = nlohmann::json::parse(q.out);
  for (const auto& queue : j["queues"]) EXPECT_EQ(queue["visible"], 1) << queue.dump();
}

TEST(PublishCmd, ReadsTheBodyFromStdinOrAFile) {
  DriprCli cli;
  auto in = cli.Run({"publish", "-"}, kWaitingEvent);
  EXPECT_EQ(in.exit_code, 0) << in.err;
  EXPECT_THAT(in.out, HasSubstr("matched"));

  // Bodies over what an argument can carry: 200 KB of padding in an unknown field.
  std::string big = std::string(kDormantEvent);
  big.insert(big.size() - 1, ",\"padding\":\"" + std::string(200 * 1024, 'x') + "\"");
  std::ofstream(cli.File("big.json")) << big;
  auto file = cli.Run({"publish", "--file", cli.File("big.json")});
  EXPECT_EQ(file.exit_code, 1) << file.err;  // valid, read whole, and to DORMANT: nowhere
  EXPECT_THAT(file.err, HasSubstr("went nowhere"));

  std::ofstream(cli.File("huge.json")) << std::string(300 * 1024, ' ');
  auto huge = cli.Run({"publish", "--raw", "--file", cli.File("huge.json")});
  EXPECT_EQ(huge.exit_code, 2);
  EXPECT_THAT(huge.err, HasSubstr("a message may have at most 262144"));
  // An endless input is refused after the limit, not read into memory until the process dies.
  auto endless = cli.Run({"publish", "--raw", "--file", "/dev/zero"});
  EXPECT_EQ(endless.exit_code, 2) << endless.err;
  EXPECT_THAT(endless.err, HasSubstr("the body is more than 262144 bytes"));
  EXPECT_EQ(std::count(endless.err.begin(), endless.err.end(), '\n'), 1) << endless.err;
}

TEST(PublishCmd, BadArgumentsExitTwo) {
  DriprCli cli;
  struct Case {
    std::vector<std::string> args;
    std::string stdin_text;
    std::string message;
  };
  for (const Case& c : std::vector<Case>{
           {{"publish"}, "", "no body"},
           {{"publish", "-"}, "", "the body is empty"},
           {{"publish", kWaitingEvent, "--file", "x"}, "", "not both"},
           {{"publish", "--file", "/nonexistent/x"}, "", "cannot open"},
           {{"publish", "{}"}, "", "not a valid STATUS_CHANGE event"},
       }) {
    auto r = cli.Run(c.args, c.stdin_text);
    EXPECT_EQ(r.exit_code, 2) << c.message << ": " << r.err;
    EXPECT_THAT(r.err, HasSubstr(c.message));
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
  }
}

TEST(QueuesCmd, ShowsTheOutboxBacklogAndNoFetcher) {
  DriprCli cli;
  ASSERT_EQ(cli.Run({"migrate"}).exit_code, 0);  // queues only reads: it creates nothing
  ASSERT_EQ(cli.Run({"campaign", "create", "--id", "c-1", "--zip", "02139"}).exit_code, 0);
  ASSERT_EQ(cli.Run({"campaign", "start", "c-1"}).exit_code, 0);
  auto text = cli.Run({"queues"});
  ASSERT_EQ(text.exit_code, 0) << text.err;
  EXPECT_THAT(text.out, HasSubstr("outbox: 1 unpublished event(s), oldest "));
  EXPECT_THAT(text.out, HasSubstr("fetchers: none running (start `dripr data-fetcher`)"));
  auto js = cli.Run({"queues", "--json"});
  ASSERT_EQ(js.exit_code, 0) << js.err;
  auto j = nlohmann::json::parse(js.out);
  EXPECT_EQ(j["outbox"]["unpublished"], 1);
  EXPECT_GE(j["outbox"]["oldest_age_seconds"].get<double>(), 0.0);
  EXPECT_EQ(j["fetchers"]["alive"], 0);
  EXPECT_TRUE(j["fetchers"]["instances"].empty());
  ASSERT_EQ(j["queues"].size(), 3u);
  EXPECT_EQ(j["queues"][0]["part"], "local_market_data");

  EXPECT_EQ(cli.Run({"queues", "extra"}).exit_code, 2);
}

// On SQS the bus opens without a file, so the store's open is what must not create one: a
// report that finds no database says so (exit 2) and leaves the directory as it was.
TEST(QueuesCmd, OnSqsWithoutADatabaseCreatesNone) {
  DriprCli cli;
  auto r = cli.RunInEnv(
      {"DATABASE_URL=sqlite:" + cli.File("none.db"), "EVENT_BUS=aws", "AWS_REGION=us-east-1",
       "AWS_ACCESS_KEY_ID=x", "AWS_SECRET_ACCESS_KEY=y", "AWS_ENDPOINT_URL=http://127.0.0.1:9",
       "SNS_CAMPAIGN_EVENTS_TOPIC_ARN=arn:aws:sns:us-east-1:000000000000:t",
       "SQS_LOCAL_MARKET_UPDATES_QUEUE_URL=http://127.0.0.1:9/0/q1",
       "SQS_ACTIVE_LISTINGS_QUEUE_URL=http://127.0.0.1:9/0/q2",
       "SQS_RECENT_SALES_QUEUE_URL=http://127.0.0.1:9/0/q3"},
      {"queues"});
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_THAT(r.err, HasSubstr("no database there"));
  EXPECT_FALSE(std::filesystem::exists(cli.File("none.db")));
}

TEST(DlqCmd, UnknownQueueOrMissingArgumentExitsTwo) {
  DriprCli cli;
  auto r = cli.Run({"dlq", "redrive", "bogus"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.err, HasSubstr("unknown queue \"bogus\""));
  EXPECT_EQ(cli.Run({"dlq", "redrive"}).exit_code, 2);
  EXPECT_EQ(cli.Run({"dlq"}).exit_code, 2);

  auto empty = cli.Run({"dlq", "redrive", "active_listings", "--json"});
  ASSERT_EQ(empty.exit_code, 0) << empty.err;
  auto j = nlohmann::json::parse(empty.out);
  EXPECT_TRUE(j["messages"].empty());
  EXPECT_EQ(j["queue"], "active-listings");
  auto text = cli.Run({"dlq", "redrive", "recent-sales"});
  ASSERT_EQ(text.exit_code, 0) << text.err;
  EXPECT_THAT(text.out, StartsWith("moved 0 message(s) from recent-sales-dlq to recent-sales; "
                                   "0 skipped, 0 discarded"));
}

TEST(DlqCmd, ListAndRedriveEscapeWhatMessagesCarryOnATerminal) {
  DriprCli cli;
  // Creates the database and the embedded bus's queues.
  ASSERT_EQ(cli.Run({"dlq", "redrive", "active_listings"}).exit_code, 0);
  {
    auto broker = EmbeddedBroker::Open(cli.File("cli.db"));
    ASSERT_TRUE(broker) << broker.error().ToString();
    auto dlq = (*broker)->OpenQueue("active-listings-dlq");
    ASSERT_TRUE(dlq) << dlq.error().ToString();
    // ESC sequences (clear screen, retitle), a C1 CSI and a newline, in the reason and body.
    ASSERT_TRUE((*dlq)->Send(
        {"{\"campaign_id\":\"x\\u001b[2J\"}\x1b]0;pwned\x07 \xc2\x9b"
         "31m\nrest",
         {{std::string(kFailureReasonAttribute), "provider: \x1b[2Jboom\r\nfake line"}}}));
  }
  auto text = cli.Run({"dlq", "list", "active_listings"});
  ASSERT_EQ(text.exit_code, 0) << text.err;
  EXPECT_EQ(text.out.find('\x1b'), std::string::npos) << text.out;
  EXPECT_EQ(text.out.find('\r'), std::string::npos) << text.out;
  EXPECT_EQ(text.out.find('\x07'), std::string::npos) << text.out;
  EXPECT_EQ(text.out.find("\xc2\x9b"), std::string::npos) << text.out;
  EXPECT_THAT(text.out, HasSubstr("  reason: provider: \\x1b[2Jboom\\x0d\\x0afake line\n"));
  EXPECT_THAT(text.out, HasSubstr("\\x1b]0;pwned\\x07 \\xc2\\x9b31m rest\n"));
  EXPECT_EQ(std::count(text.out.begin(), text.out.end(), '\n'), 4) << text.out;

  // --json keeps the values as they are (JSON escapes them).
  auto js = cli.Run({"dlq", "list", "active_listings", "--json"});
  ASSERT_EQ(js.exit_code, 0) << js.err;
  auto j = nlohmann::json::parse(js.out);
  ASSERT_EQ(j.size(), 1u);
  EXPECT_EQ(j[0]["reason"], "provider: \x1b[2Jboom\r\nfake line");

  auto redrive = cli.Run({"dlq", "redrive", "active_listings"});
  ASSERT_EQ(redrive.exit_code, 0) << redrive.err;
  EXPECT_EQ(redrive.out.find('\x1b'), std::string::npos) << redrive.out;
  EXPECT_THAT(redrive.out, HasSubstr("skipped (left in active-listings-dlq): malformed event"));
}

TEST(CampaignRetryCmd, ExitCodes) {
  DriprCli cli;
  ASSERT_EQ(cli.Run({"campaign", "create", "--id", "c-1", "--zip", "02139"}).exit_code, 0);
  auto dormant = cli.Run({"campaign", "retry", "c-1"});
  EXPECT_EQ(dormant.exit_code, 0) << dormant.err;
  EXPECT_EQ(dormant.out, "campaign c-1 unchanged: campaign c-1 is DORMANT, not ERROR\n");
  auto missing = cli.Run({"campaign", "retry", "nope"});
  EXPECT_EQ(missing.exit_code, 1);
  EXPECT_EQ(missing.err, "dripr: campaign \"nope\" not found\n");
  EXPECT_EQ(cli.Run({"campaign", "retry"}).exit_code, 2);
}

TEST(DemoCmd, RangesAreCheckedBeforeAnythingRuns) {
  DriprCli cli;
  for (const auto& args : std::vector<std::vector<std::string>>{
           {"demo", "--campaigns", "0"},
           {"demo", "--campaigns", "5001"},
           {"demo", "--timeout=-1"},
           {"demo", "--timeout", "0"},
       }) {
    auto r = cli.Run(args);
    EXPECT_EQ(r.exit_code, 2) << args.back() << ": " << r.err;
    EXPECT_THAT(r.err, StartsWith("dripr: --")) << r.err;
  }
}

}  // namespace
}  // namespace dripr
