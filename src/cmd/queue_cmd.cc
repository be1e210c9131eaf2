// dripr queues | dlq list QUEUE | dlq redrive QUEUE

#include <fmt/format.h>

#include <cstdio>
#include <set>

#include "cmd/cli.h"
#include "dripr/core/time.h"
#include "dripr/domain/event.h"
#include "dripr/fetcher/consumer.h"

namespace dripr::cli {
namespace {

using nlohmann::json;

// A queue named by its part ("active_listings") or its queue name ("active-listings",
// "dripr-active-listings-queue-dev").
std::optional<DataPart> QueuePart(std::string name, Bus& bus) {
  if (auto p = ParseDataPart(name)) return p;
  for (DataPart p : kAllDataParts) {
    if (bus.WorkQueue(p).Name() == name || bus.DeadLetterQueue(p).Name() == name) return p;
  }
  for (auto& ch : name) if (ch == '-') ch = '_';
  if (name == "local_market_updates") return DataPart::kLocalMarketData;
  return ParseDataPart(name);
}

int Queues(const Globals& g, bool as_json) {
  Context ctx;
  if (auto rc = LoadContext(g, ctx)) return *rc;
  int rc = kExitOk;
  auto bus = OpenBusOrReport(ctx, rc, DbUse::kRead);
  if (!bus) return rc;
  json arr = json::array();
  if (!as_json) {
    std::printf("%-20s %-40s %9s %9s %9s\n", "part", "queue", "visible", "in_flight", "dlq");
  }
  for (DataPart p : kAllDataParts) {
    auto s = bus->WorkQueue(p).Stats();
    if (!s) return ReportError(s.error().Wrap(bus->WorkQueue(p).Name()));
    auto d = bus->DeadLetterQueue(p).Stats();
    if (!d) return ReportError(d.error().Wrap(bus->DeadLetterQueue(p).Name()));
    arr.push_back({{"part", ToString(p)},
                   {"queue", bus->WorkQueue(p).Name()},
                   {"visible", s->visible},
                   {"in_flight", s->in_flight},
                   {"dlq", bus->DeadLetterQueue(p).Name()},
                   {"dlq_visible", d->visible},
                   {"dlq_in_flight", d->in_flight}});
    if (!as_json) {
      std::printf("%-20s %-40s %9lld %9lld %9lld\n", std::string(ToString(p)).c_str(),
                  bus->WorkQueue(p).Name().c_str(), static_cast<long long>(s->visible),
                  static_cast<long long>(s->in_flight), static_cast<long long>(d->visible + d->in_flight));
    }
  }
  if (as_json) PrintJson(arr);
  return kExitOk;
}

// Reads every message of `q` without consuming it: short leases, then all released.
Result<std::vector<ReceivedMessage>> Peek(Queue& q) {
  std::vector<ReceivedMessage> seen;
  std::set<std::string> ids;
  while (true) {
    DRIPR_ASSIGN_OR_RETURN(auto batch, q.Receive(10, std::chrono::milliseconds(0), std::chrono::seconds(30)));
    if (batch.empty()) break;
    bool fresh = false;
    for (auto& m : batch) {
      if (ids.insert(m.message_id).second) {
        fresh = true;
        seen.push_back(std::move(m));
      }
    }
    if (!fresh) break;
  }
  for (size_t i = 0; i < seen.size(); i += 10) {
    std::vector<std::pair<std::string, std::chrono::seconds>> release;
    for (size_t j = i; j < std::min(seen.size(), i + 10); ++j) {
      release.emplace_back(seen[j].receipt_handle, std::chrono::seconds(0));
    }
    DRIPR_TRY(q.ChangeVisibilityBatch(release));
  }
  return seen;
}

int DlqList(const Globals& g, const std::string& queue, bool as_json) {
  Context ctx;
  if (auto rc = LoadContext(g, ctx)) return *rc;
  int rc = kExitOk;
  auto bus = OpenBusOrReport(ctx, rc, DbUse::kRead);
  if (!bus) return rc;
  auto part = QueuePart(queue, *bus);
  if (!part) return ReportUsage("unknown queue '" + queue + "' (use local_market_data, active_listings or recent_sales)");
  Queue& dlq = bus->DeadLetterQueue(*part);
  auto msgs = Peek(dlq);
  if (!msgs) return ReportError(msgs.error().Wrap(dlq.Name()));
  json arr = json::array();
  for (const auto& m : *msgs) {
    auto reason = m.attributes.find(std::string(kFailureReasonAttribute));
    std::string why = reason == m.attributes.end() ? "(moved by the broker after too many receives)" : reason->second;
    arr.push_back({{"message_id", m.message_id},
                   {"sent_at", FormatIso8601(m.sent_at)},
                   {"reason", why},
                   {"attributes", m.attributes},
                   {"body", m.body}});
    if (!as_json) {
      std::string body = m.body.size() > 160 ? m.body.substr(0, 157) + "..." : m.body;
      for (auto& ch : body) if (ch == '\n') ch = ' ';
      std::printf("%s  %s\n  reason: %s\n  body: %s\n", m.message_id.c_str(),
                  FormatIso8601(m.sent_at).c_str(), why.c_str(), body.c_str());
    }
  }
  if (as_json) {
    PrintJson(arr);
  } else {
    std::printf("%zu message(s) in %s\n", msgs->size(), dlq.Name().c_str());
  }
  return kExitOk;
}

int DlqRedrive(const Globals& g, const std::string& queue) {
  Context ctx;
  if (auto rc = LoadContext(g, ctx)) return *rc;
  int rc = kExitOk;
  auto bus = OpenBusOrReport(ctx, rc);
  if (!bus) return rc;
  auto part = QueuePart(queue, *bus);
  if (!part) return ReportUsage("unknown queue '" + queue + "'");
  Queue& dlq = bus->DeadLetterQueue(*part);
  Queue& work = bus->WorkQueue(*part);
  int moved = 0;
  while (true) {
    auto batch = dlq.Receive(10, std::chrono::milliseconds(0), std::chrono::seconds(60));
    if (!batch) return ReportError(batch.error().Wrap(dlq.Name()));
    if (batch->empty()) break;
    for (const auto& m : *batch) {
      OutgoingMessage out{m.body, m.attributes};
      for (auto k : {kFailureReasonAttribute, kSourceQueueAttribute, kReceiveCountAttribute}) {
        out.attributes.erase(std::string(k));
      }
      // Send first, then delete: a crash in between duplicates (handlers are idempotent)
      // rather than loses.
      if (auto s = work.Send(out); !s) return ReportError(s.error().Wrap(work.Name()));
      if (auto d = dlq.Delete(m.receipt_handle); !d) return ReportError(d.error().Wrap(dlq.Name()));
      ++moved;
    }
  }
  std::printf("moved %d message(s) from %s to %s\n", moved, dlq.Name().c_str(), work.Name().c_str());
  return kExitOk;
}

int Publish(const Globals& g, const std::string& body, bool raw) {
  Context ctx;
  if (auto rc = LoadContext(g, ctx)) return *rc;
  OutgoingMessage m{body, {{"event_type", "STATUS_CHANGE"}}};
  if (!raw) {
    auto ev = DecodeStatusChange(body);
    if (!ev) return ReportUsage("not a valid STATUS_CHANGE event: " + ev.error().message);
    m.attributes["to_status"] = std::string(ToString(ev->to_status));
  }
  int rc = kExitOk;
  auto bus = OpenBusOrReport(ctx, rc);
  if (!bus) return rc;
  auto id = bus->CampaignEvents().Publish(m);
  if (!id) return ReportError(id.error().Wrap(bus->CampaignEvents().Name()));
  std::printf("published %s to %s\n", id->c_str(), bus->CampaignEvents().Name().c_str());
  return kExitOk;
}

}  // namespace

void AddQueueCommands(CLI::App& app, Globals& g, int& exit_code) {
  struct Args {
    bool json = false;
    std::string queue;
  };
  auto a = std::make_shared<Args>();
  auto* queues = app.add_subcommand("queues", "Depth, in-flight and DLQ depth per queue");
  queues->add_flag("--json", a->json, "JSON output");
  queues->callback([&g, &exit_code, a] { exit_code = Queues(g, a->json); });

  auto* dlq = app.add_subcommand("dlq", "Inspect and redrive dead-letter queues");
  dlq->require_subcommand(1);
  auto* list = dlq->add_subcommand("list", "Messages in a queue's DLQ, with the failure reason");
  list->add_option("queue", a->queue, "local_market_data | active_listings | recent_sales")->required();
  list->add_flag("--json", a->json, "JSON output");
  list->callback([&g, &exit_code, a] { exit_code = DlqList(g, a->queue, a->json); });
  auto* redrive = dlq->add_subcommand("redrive", "Move a DLQ's messages back to the work queue");
  redrive->add_option("queue", a->queue, "local_market_data | active_listings | recent_sales")->required();
  redrive->callback([&g, &exit_code, a] { exit_code = DlqRedrive(g, a->queue); });

  // Replays an event by hand (operators) and injects odd ones (tests).
  struct PublishArgs {
    std::string body;
    bool raw = false;
  };
  auto p = std::make_shared<PublishArgs>();
  auto* publish = app.add_subcommand("publish", "Publish a STATUS_CHANGE event body to the campaign-events topic");
  publish->add_option("body", p->body, "The event JSON")->required();
  publish->add_flag("--raw", p->raw, "Publish as given, without validating it");
  publish->callback([&g, &exit_code, p] { exit_code = Publish(g, p->body, p->raw); });
}

}  // namespace dripr::cli
