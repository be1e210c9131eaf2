// dripr queues | dlq list QUEUE | dlq redrive QUEUE | publish

#include <fmt/format.h>

#include <cstdio>
#include <fstream>
#include <iostream>
#include <iterator>
#include <sstream>

#include "cmd/cli.h"
#include "dripr/core/text.h"
#include "dripr/core/time.h"
#include "dripr/domain/event.h"
#include "dripr/fetcher/dead_letters.h"
#include "dripr/fetcher/fetcher_heartbeat.h"
#include "dripr/fetcher/reports.h"

namespace dripr::cli {
namespace {

using nlohmann::json;

// The largest body `dripr publish` reads from a file or stdin: SNS's message limit.
constexpr size_t kMaxPublishBytes = 256 * 1024;
// `dlq list` shows this much of a body on a terminal.
constexpr size_t kBodyPreviewBytes = 160;

// A queue named by its part ("active_listings") or its queue name ("active-listings",
// "dripr-active-listings-queue-dev").
std::optional<DataPart> QueuePart(std::string name, Bus& bus) {
  if (auto p = ParseDataPart(name)) return p;
  for (DataPart p : kAllDataParts) {
    if (bus.WorkQueue(p).Name() == name || bus.DeadLetterQueue(p).Name() == name) return p;
  }
  for (auto& ch : name)
    if (ch == '-') ch = '_';
  if (name == "local_market_updates") return DataPart::kLocalMarketData;
  return ParseDataPart(name);
}

double SecondsSince(SysTime t, SysTime now) {
  return std::chrono::duration<double>(now - t).count();
}

// "12s", "4m05s", "3h02m".
std::string Age(double seconds) {
  auto s = static_cast<long long>(seconds < 0 ? 0 : seconds);
  if (s < 60) return fmt::format("{}s", s);
  if (s < 3600) return fmt::format("{}m{:02}s", s / 60, s % 60);
  return fmt::format("{}h{:02}m", s / 3600, s % 3600 / 60);
}

int Queues(const Globals& g, bool as_json) {
  Context ctx;
  if (auto rc = LoadContext(g, ctx)) return *rc;
  int rc = kExitOk;
  auto bus = OpenBusOrReport(ctx, rc, DbUse::kRead);
  if (!bus) return rc;
  auto store = OpenStoreOrReport(ctx, rc, DbUse::kRead);  // a report: creates nothing
  if (!store) return rc;
  const SysTime now = ctx.clock->Now();
  auto report = QueuesReport(*bus, *store, now);
  if (!report) return ReportError(report.error());
  if (as_json) {
    PrintJson(*report);
    return kExitOk;
  }
  // An oldest age the backend does not measure (SQS) is "n/a" (docs/decisions/dashboard.md).
  auto oldest = [](const json& age) {
    return age.is_null() ? std::string("n/a") : Age(age.get<double>());
  };
  std::printf("%-20s %-40s %9s %9s %9s %9s %9s\n", "part", "queue", "visible", "in_flight",
              "delayed", "oldest", "dlq");
  for (const auto& q : (*report)["queues"]) {
    std::printf("%-20s %-40s %9lld %9lld %9lld %9s %9lld\n", q["part"].get<std::string>().c_str(),
                q["queue"].get<std::string>().c_str(), q["visible"].get<long long>(),
                q["in_flight"].get<long long>(), q["delayed"].get<long long>(),
                oldest(q["oldest_age_seconds"]).c_str(),
                q["dlq_visible"].get<long long>() + q["dlq_in_flight"].get<long long>());
  }
  // The text form reads the same rows the report was built from.
  auto backlog = store->PendingOutbox();
  if (!backlog) return ReportError(backlog.error().Wrap("outbox"));
  auto fetchers = store->ListFetchers();
  if (!fetchers) return ReportError(fetchers.error().Wrap("fetchers"));
  const int alive = (*report)["fetchers"]["alive"].get<int>();
  if (backlog->pending == 0) {
    std::printf("\noutbox: every event published\n");
  } else {
    std::printf("\noutbox: %lld unpublished event(s), oldest %s old\n",
                static_cast<long long>(backlog->pending),
                Age(SecondsSince(backlog->oldest_created.value_or(now), now)).c_str());
  }
  if (alive > 0) {
    std::printf("fetchers: %d alive\n", alive);
  } else if (fetchers->empty()) {
    std::printf("fetchers: none running (start `dripr data-fetcher`)\n");
  } else {
    std::printf("fetchers: none alive (last heartbeat %s ago)\n",
                Age(SecondsSince(fetchers->front().heartbeat_at, now)).c_str());
  }
  for (const auto& f : *fetchers) {
    std::printf("  %s  %s pid %lld  heartbeat %s ago%s\n", f.instance_id.c_str(), f.host.c_str(),
                static_cast<long long>(f.pid), Age(SecondsSince(f.heartbeat_at, now)).c_str(),
                FetcherAlive(f, now, kFetcherHeartbeatInterval) ? "" : "  (not alive)");
  }
  return kExitOk;
}

int DlqList(const Globals& g, const std::string& queue, bool as_json) {
  Context ctx;
  if (auto rc = LoadContext(g, ctx)) return *rc;
  int rc = kExitOk;
  auto bus = OpenBusOrReport(ctx, rc, DbUse::kRead);
  if (!bus) return rc;
  auto part = QueuePart(queue, *bus);
  if (!part)
    return ReportUsage("unknown queue " + QuotedEcho(queue) +
                       " (use local_market_data, active_listings or recent_sales)");
  Queue& dlq = bus->DeadLetterQueue(*part);
  auto msgs = PeekQueue(dlq);
  if (!msgs) return ReportError(msgs.error().Wrap(dlq.Name()));
  const SysTime now = ctx.clock->Now();
  json arr = json::array();
  for (const auto& m : *msgs) {
    std::string why = DeadLetterReason(m);
    arr.push_back(DeadLetterJson(m, now));
    if (!as_json) {
      // Everything from a message is escaped: a DLQ holds whatever anyone sent.
      std::string body = TruncateUtf8WithEllipsis(m.body, kBodyPreviewBytes - 3);
      for (auto& ch : body)
        if (ch == '\n') ch = ' ';
      std::printf("%s  %s\n  reason: %s\n  body: %s\n", TerminalSafe(m.message_id).c_str(),
                  FormatIso8601(m.sent_at).c_str(), TerminalSafe(why).c_str(),
                  TerminalSafe(body).c_str());
    }
  }
  if (as_json) {
    PrintJson(arr);
  } else {
    std::printf("%zu message(s) in %s\n", msgs->size(), dlq.Name().c_str());
  }
  return kExitOk;
}

struct RedriveArgs {
  std::string queue;
  bool json = false;
  bool discard_stale = false;
};

int DlqRedrive(const Globals& g, const RedriveArgs& a) {
  Context ctx;
  if (auto rc = LoadContext(g, ctx)) return *rc;
  int rc = kExitOk;
  auto bus = OpenBusOrReport(ctx, rc);
  if (!bus) return rc;
  auto part = QueuePart(a.queue, *bus);
  if (!part)
    return ReportUsage("unknown queue " + QuotedEcho(a.queue) +
                       " (use local_market_data, active_listings or recent_sales)");
  auto store = OpenStoreOrReport(ctx, rc);
  if (!store) return rc;
  Queue& dlq = bus->DeadLetterQueue(*part);
  Queue& work = bus->WorkQueue(*part);
  auto entries = RedriveDeadLetters(dlq, work, *part, *store, {.discard_stale = a.discard_stale});
  if (!entries) return ReportError(entries.error());
  int moved = 0, skipped = 0, discarded = 0;
  json arr = json::array();
  for (const auto& e : *entries) {
    moved += e.action == RedriveEntry::Action::kRedriven;
    skipped += e.action == RedriveEntry::Action::kSkipped;
    discarded += e.action == RedriveEntry::Action::kDiscarded;
    json j = {{"message_id", e.message_id},
              {"campaign_id", e.campaign_id.str()},
              {"action", ToString(e.action)}};
    if (!e.queue.empty()) j["queue"] = e.queue;
    if (!e.reason.empty()) j["reason"] = e.reason;
    arr.push_back(std::move(j));
    if (a.json) continue;
    const std::string id = TerminalSafe(e.message_id);
    const std::string who = e.campaign_id.empty() ? "-" : TerminalSafe(e.campaign_id.str());
    const std::string why = TerminalSafe(e.reason);
    if (e.action == RedriveEntry::Action::kRedriven) {
      std::printf("%s  %s  redriven to %s\n", id.c_str(), who.c_str(), e.queue.c_str());
    } else if (e.action == RedriveEntry::Action::kDiscarded) {
      std::printf("%s  %s  discarded: %s\n", id.c_str(), who.c_str(), why.c_str());
    } else {
      std::printf("%s  %s  skipped (left in %s): %s\n", id.c_str(), who.c_str(), dlq.Name().c_str(),
                  why.c_str());
    }
  }
  if (a.json) {
    PrintJson({{"dlq", dlq.Name()}, {"queue", work.Name()}, {"messages", arr}});
  } else {
    std::printf("moved %d message(s) from %s to %s; %d skipped, %d discarded\n", moved,
                dlq.Name().c_str(), work.Name().c_str(), skipped, discarded);
  }
  return kExitOk;
}

struct PublishArgs {
  std::string body;
  std::string file;
  bool raw = false;
};

// The body: the argument, or the whole of --file / stdin ("-").
Result<std::string> PublishBody(const PublishArgs& a) {
  if (!a.file.empty() && !a.body.empty()) {
    return Fail(ErrorCode::kInvalidArgument,
                "give the body as an argument or with --file, not both");
  }
  if (a.file.empty() && a.body != "-") {
    if (a.body.empty()) {
      return Fail(ErrorCode::kInvalidArgument,
                  "no body: give it as an argument, '-' for stdin, or --file PATH");
    }
    return a.body;
  }
  // Read no further than the limit: a huge or endless input (/dev/zero) is refused, not read.
  std::optional<std::string> text;
  if (a.file.empty() || a.file == "-") {
    text = ReadAtMost(std::cin, kMaxPublishBytes);
    if (std::cin.bad()) return Fail(ErrorCode::kUnavailable, "cannot read stdin");
  } else {
    std::ifstream in(a.file, std::ios::binary);
    if (!in) return Fail(ErrorCode::kInvalidArgument, "--file: cannot open " + a.file);
    text = ReadAtMost(in, kMaxPublishBytes);
    if (in.bad()) return Fail(ErrorCode::kInvalidArgument, "--file: cannot read " + a.file);
  }
  if (!text) {
    return Fail(ErrorCode::kInvalidArgument,
                fmt::format("the body is more than {} bytes; a message may have at most {}",
                            kMaxPublishBytes, kMaxPublishBytes));
  }
  if (text->empty()) return Fail(ErrorCode::kInvalidArgument, "the body is empty");
  // SNS and SQS take only valid UTF-8 (the embedded bus enforces the same), so every bus
  // refuses such a body here, with --raw too (docs/decisions/hostile-input.md).
  DRIPR_TRY(CheckUtf8("the body", *text));
  return std::move(*text);
}

int Publish(const Globals& g, const PublishArgs& a) {
  Context ctx;
  if (auto rc = LoadContext(g, ctx)) return *rc;
  auto body = PublishBody(a);
  if (!body) return ReportError(body.error());
  OutgoingMessage m{*body, {{"event_type", "STATUS_CHANGE"}}};
  if (!a.raw) {
    auto ev = DecodeStatusChange(*body);
    if (!ev) return ReportUsage("not a valid STATUS_CHANGE event: " + ev.error().message);
    m.attributes["to_status"] = std::string(ToString(ev->to_status));
  }
  int rc = kExitOk;
  auto bus = OpenBusOrReport(ctx, rc);
  if (!bus) return rc;
  Topic& topic = bus->CampaignEvents();
  // Evaluated first: when the subscriptions cannot be read, nothing is published.
  auto matches = topic.MatchSubscriptions(m);
  if (!matches) {
    return ReportError(matches.error().Wrap(
        "reading the subscriptions of " + topic.Name() +
        " (nothing published; on AWS this needs sns:ListSubscriptionsByTopic and "
        "sns:GetSubscriptionAttributes)"));
  }
  auto id = topic.Publish(m);
  if (!id) return ReportError(id.error().Wrap(topic.Name()));
  const std::string where = TerminalSafe(*id) + " to " + TerminalSafe(topic.Name());
  if (matches->matched > 0) {
    std::printf("published %s (%d subscription(s) matched)\n", where.c_str(), matches->matched);
    return kExitOk;
  }
  if (!matches->undecided.empty()) {
    // Possibly delivered: SNS may accept it under a policy dripr cannot evaluate.
    std::printf("published %s\n", where.c_str());
    std::fprintf(stderr,
                 "dripr: warning: no subscription's filter matched, but %zu subscription(s) use "
                 "filter operators dripr does not evaluate, so it may still have been "
                 "delivered (%s)\n",
                 matches->undecided.size(), matches->undecided.front().c_str());
    return kExitOk;
  }
  std::fprintf(stderr, "dripr: published %s, but %s: the event went nowhere\n", where.c_str(),
               matches->subscriptions == 0 ? "the topic has no subscriptions"
                                           : "no subscription's filter matched");
  return kExitFailure;
}

}  // namespace

void AddQueueCommands(CLI::App& app, Globals& g, int& exit_code) {
  struct Args {
    bool json = false;
    std::string queue;
  };
  auto a = std::make_shared<Args>();
  auto* queues = app.add_subcommand(
      "queues", "Depth, in-flight and DLQ depth per queue; the outbox backlog; live fetchers");
  queues->add_flag("--json", a->json, "JSON output");
  queues->callback([&g, &exit_code, a] { exit_code = Queues(g, a->json); });

  auto* dlq = app.add_subcommand("dlq", "Inspect and redrive dead-letter queues");
  dlq->require_subcommand(1);
  auto* list = dlq->add_subcommand("list", "Messages in a queue's DLQ, with the failure reason");
  list->add_option("queue", a->queue, "local_market_data | active_listings | recent_sales")
      ->required();
  list->add_flag("--json", a->json, "JSON output");
  list->callback([&g, &exit_code, a] { exit_code = DlqList(g, a->queue, a->json); });
  auto r = std::make_shared<RedriveArgs>();
  auto* redrive = dlq->add_subcommand(
      "redrive", "Move a DLQ's messages that a fetcher would act on back to the work queue");
  redrive->add_option("queue", r->queue, "local_market_data | active_listings | recent_sales")
      ->required();
  redrive->add_flag("--json", r->json, "JSON output");
  redrive->add_flag("--discard-stale", r->discard_stale,
                    "Delete messages whose event is stale instead of leaving them in the DLQ");
  redrive->callback([&g, &exit_code, r] { exit_code = DlqRedrive(g, *r); });

  // Replays an event by hand (operators) and injects odd ones (tests).
  auto p = std::make_shared<PublishArgs>();
  auto* publish = app.add_subcommand(
      "publish",
      "Publish a STATUS_CHANGE event body to the campaign-events topic; exit 1 when no "
      "subscription's filter matched");
  publish->add_option("body", p->body, "The event JSON, or - to read it from stdin");
  publish->add_option("--file", p->file, "Read the body from this file (- for stdin)");
  publish->add_flag("--raw", p->raw, "Publish as given, without validating it");
  publish->callback([&g, &exit_code, p] { exit_code = Publish(g, *p); });
}

}  // namespace dripr::cli
