// dripr data-fetcher | demo

#include <fmt/format.h>
#include <signal.h>
#include <stdlib.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <thread>

#include "cmd/allocator.h"
#include "cmd/cli.h"
#include "cmd/render.h"
#include "dripr/core/log.h"
#include "dripr/core/thread_name.h"
#include "dripr/core/time.h"
#include "dripr/fetcher/cluster_budget.h"
#include "dripr/fetcher/data_fetcher.h"
#include "dripr/fetcher/demo.h"
#include "dripr/fetcher/fetcher_ops.h"
#include "dripr/sqlite/writer.h"

namespace dripr::cli {
namespace {

// Blocks SIGINT/SIGTERM in this thread (and so in every thread it starts later) so that
// WaitForSignal can take them synchronously.
sigset_t BlockStopSignals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  return set;
}

// data-fetcher's exit status when the shutdown deadline passed with handlers still running
// (docs/operations.md "Exit codes"); a second SIGTERM/SIGINT exits with 128 + the signal.
constexpr int kExitShutdownOverrun = 3;

void FlushLogs() {
  spdlog::default_logger()->flush();
  std::fflush(nullptr);
}

// After the first stop signal: a second one ends the process at once (an operator's or
// orchestrator's "now"). Messages in flight come back after their visibility timeout.
class SecondSignalWatcher {
 public:
  explicit SecondSignalWatcher(sigset_t signals)
      : thread_([this, signals] {
          NameThisThread("signals");
          int sig = 0;
          sigwait(&signals, &sig);
          if (done_) return;
          DRIPR_LOG_WARN(
              "data-fetcher: second {} received, exiting at once; messages in flight "
              "come back after their visibility timeout",
              sig == SIGTERM ? "SIGTERM" : "SIGINT");
          FlushLogs();
          std::quick_exit(128 + sig);
        }) {}
  ~SecondSignalWatcher() {
    done_ = true;
    pthread_kill(thread_.native_handle(), SIGTERM);  // blocked, so taken by its sigwait
    thread_.join();
  }
  SecondSignalWatcher(const SecondSignalWatcher&) = delete;
  SecondSignalWatcher& operator=(const SecondSignalWatcher&) = delete;

 private:
  std::atomic<bool> done_{false};
  std::thread thread_;
};

// dripr_build_info's `store` label: the DATABASE_URL scheme (validated by LoadConfig).
std::string StoreKindName(const std::string& database_url) {
  if (SqlitePath(database_url)) return "sqlite";
  if (database_url.starts_with("mysql://") || database_url.starts_with("mariadb://")) {
    return "mysql";
  }
  return "postgres";
}

int DataFetcherCmd(const Globals& g) {
  sigset_t stop_signals = BlockStopSignals();
  Context ctx;
  if (auto rc = LoadContext(g, ctx)) return *rc;
  Metrics metrics;  // the process's metrics and heartbeats (served by the ops server)
  // The provider's configuration is checked before the database is opened (exit 2 first).
  const auto& cfg = ctx.config;
  if (auto checked = OpenProvider(cfg.provider, cfg.sample, cfg.rentcast); !checked) {
    return ReportError(checked.error());
  }
  int rc = kExitOk;
  auto store = OpenStoreOrReport(ctx, rc, DbUse::kService);
  if (!store) return rc;
  // RENTCAST_MAX_RPS is the budget of every fetcher on this database (docs/decisions/cluster.md).
  auto provider = OpenProvider(cfg.provider, cfg.sample, cfg.rentcast, &metrics,
                               std::make_shared<StoreBudget>(*store), ctx.ticker, ctx.random);
  if (!provider) return ReportError(provider.error());
  auto bus = OpenBusOrReport(ctx, rc);
  if (!bus) return rc;
  if (auto checked = CheckBusForFetcher(ctx.config, ctx.ticker, ctx.random); !checked) {
    return ReportError(checked.error());
  }
  // Noticed within a second: the database file removed or replaced under the fetcher (its
  // writes would be lost with the unlinked file). Every write transaction checks it too.
  const DatabaseFileWatch watch = DatabaseFileWatch::For(ctx.config);
  DataFetcher fetcher(*store, *bus, **provider, *ctx.clock, ctx.config, ctx.ticker, &metrics,
                      ctx.random);
  fetcher.reconciler().SetPassObserver([&metrics](const ReconcilePass& pass) {
    metrics.Gauge(kReconcilerLastPass, {})
        .Set(static_cast<double>(ToUnixMillis(pass.started_at)) / 1000.0);
    for (ReconcileAction a : kAllReconcileActions) {
      if (pass.count(a) == 0) continue;
      CounterOf(&metrics, kReconcilerActions, {{"action", std::string(ToString(a))}})
          .Increment(static_cast<double>(pass.count(a)));
    }
  });
  // Ops HTTP server (DRIPR_OPS_ADDR): bound before the consumers start, so a taken port
  // stops the process before it takes any work.
  std::unique_ptr<FetcherOps> ops;
  if (ctx.config.ops.enabled) {
    BuildInfo build{std::string(DriprVersion()), StoreKindName(ctx.config.database_url),
                    ctx.config.bus == BusKind::kAws ? "aws" : "embedded", (*provider)->Name()};
    auto started = FetcherOps::Start(ctx.config.ops, *store, *bus, fetcher, metrics, build);
    if (!started) return ReportError(started.error());
    ops = std::move(*started);
  }
  // Start-up freed more heap than it keeps (the sample provider's zip table is parsed from a
  // CSV text, ~3.7 MB of temporaries): give it back to the OS before settling in
  // (docs/decisions/performance.md, B4 idle memory).
  ReleaseFreeMemory();
  fetcher.Start();
  DRIPR_LOG_INFO("data-fetcher started: provider={} bus={} database={} max_in_flight={} per queue",
                 (*provider)->Name(), ctx.config.bus == BusKind::kAws ? "aws" : "embedded",
                 DescribeDatabase(ctx.config), ctx.config.consumer.max_in_flight);
  const auto& k = ctx.config.consumer;
  const auto deadline_s =
      std::chrono::duration_cast<std::chrono::seconds>(k.shutdown_deadline).count();
  int exit_code = kExitOk;
  while (true) {
    const timespec period{.tv_sec = 1, .tv_nsec = 0};
    int sig = sigtimedwait(&stop_signals, nullptr, &period);
    if (sig > 0) {
      DRIPR_LOG_INFO("data-fetcher: {} received, shutting down (deadline {} s)",
                     sig == SIGTERM ? "SIGTERM" : "SIGINT", deadline_s);
      break;
    }
    if (auto ok = watch.Check(); !ok) {
      DRIPR_LOG_ERROR("data-fetcher: {}; stopping", ok.error().message);
      std::fprintf(stderr, "dripr: %s\n", ok.error().message.c_str());
      exit_code = kExitFailure;
      break;
    }
  }
  SecondSignalWatcher second_signal(stop_signals);
  ShutdownReport report = fetcher.Stop();
  auto s = fetcher.Stats();
  DRIPR_LOG_INFO("data-fetcher stopped: received={} done={} retried={} failed={} released={}",
                 s.received, s.done, s.retried, s.failed, s.released);
  if (!report.clean()) {
    // The fetcher would wait for the overrunning handlers when destroyed; the orchestrator
    // will not. Nothing is lost: their messages were neither acknowledged nor released.
    const int code = exit_code == kExitOk ? kExitShutdownOverrun : exit_code;
    DRIPR_LOG_ERROR(
        "data-fetcher: shutdown deadline passed with {} message(s) still being handled: "
        "they will come back after their visibility timeout ({} s); exit {}",
        report.still_running, k.visibility_timeout.count(), code);
    FlushLogs();
    std::quick_exit(code);
  }
  return exit_code;
}

struct DemoArgs {
  int campaigns = 100;
  int timeout_seconds = 120;
  bool keep = false;
};

// The progress bar's width in characters; without a terminal, one line per second at most.
constexpr int kProgressWidth = 40;
constexpr std::chrono::seconds kProgressLineEvery{1};
constexpr int kMaxDemoTimeoutSeconds = 86'400;

void Progress(const DemoProgress& p, bool tty) {
  int done = p.ready + p.failed;
  int filled = p.total ? done * kProgressWidth / p.total : kProgressWidth;
  std::string bar(static_cast<size_t>(filled), '#');
  bar.resize(kProgressWidth, '.');
  std::fprintf(stderr, "%s[%s] %d/%d ready, %d error, %.1fs%s", tty ? "\r" : "", bar.c_str(),
               p.ready, p.total, p.failed, p.seconds, tty ? "" : "\n");
  std::fflush(stderr);
}

int Demo(const Globals& g, const DemoArgs& a) {
  if (a.campaigns < kMinDemoCampaigns || a.campaigns > kMaxDemoCampaigns) {
    return ReportUsage(
        fmt::format("--campaigns must be between {} and {}", kMinDemoCampaigns, kMaxDemoCampaigns));
  }
  if (a.timeout_seconds < 1 || a.timeout_seconds > kMaxDemoTimeoutSeconds) {
    return ReportUsage(
        fmt::format("--timeout must be between 1 and {} seconds", kMaxDemoTimeoutSeconds));
  }
  Context ctx;
  if (auto rc = LoadContext(g, ctx)) return *rc;
  if (ctx.config.OriginOf("DRIPR_LOG_LEVEL") == SettingOrigin::kDefault) {
    spdlog::set_level(spdlog::level::warn);
  }
  char tmpl[] = "/tmp/dripr-demo-XXXXXX";
  if (!mkdtemp(tmpl)) return ReportError({ErrorCode::kUnavailable, "cannot create a temp dir"});
  std::string dir = tmpl;
  struct Cleanup {
    std::string dir;
    bool keep;
    ~Cleanup() {
      std::error_code ec;
      if (!keep) std::filesystem::remove_all(dir, ec);
    }
  } cleanup{dir, a.keep};

  // The embedded shape whatever the environment says: SQLite + embedded bus + sample data.
  ctx.config.database_url = "sqlite:" + dir + "/demo.db";
  ctx.config.bus = BusKind::kEmbedded;
  ctx.config.embedded_bus_path = dir + "/demo.db";
  ctx.config.provider = ProviderKind::kSample;
  const std::string& csv = ctx.config.zip_csv_path;
  if (csv.empty())
    return ReportError({ErrorCode::kFailedPrecondition, "data/zip_codes.csv not found"});
  auto zips = ZipCentroids::LoadFile(csv);
  if (!zips) return ReportError(zips.error());
  auto provider = OpenProvider(ProviderKind::kSample, ctx.config.sample, ctx.config.rentcast,
                               nullptr, nullptr, ctx.ticker);
  if (!provider) return ReportError(provider.error());
  int rc = kExitOk;
  auto store = OpenStoreOrReport(ctx, rc, DbUse::kService);
  if (!store) return rc;
  auto bus = OpenBusOrReport(ctx, rc);
  if (!bus) return rc;

  std::printf("dripr demo: %d campaigns, SQLite + embedded bus + sample provider in %s\n",
              a.campaigns, dir.c_str());
  DataFetcher fetcher(*store, *bus, **provider, *ctx.clock, ctx.config, ctx.ticker, nullptr,
                      ctx.random);
  fetcher.Start();

  const bool tty = isatty(STDERR_FILENO);
  auto last_print = ctx.ticker->Now() - 10 * kProgressLineEvery;
  auto run =
      RunDemo(*store, DemoCampaigns(*zips, a.campaigns), *ctx.ticker,
              std::chrono::seconds(a.timeout_seconds), [&](const DemoProgress& p) {
                if (p.finished || tty || ctx.ticker->Now() - last_print >= kProgressLineEvery) {
                  Progress(p, tty);
                  last_print = ctx.ticker->Now();
                }
              });
  if (!run) return ReportError(run.error());
  if (tty) std::fprintf(stderr, "\n");
  double wall = run->last.seconds;
  const int ready = run->last.ready, failed = run->last.failed;
  const auto& ids = run->ids;
  fetcher.Stop();

  std::printf("\n%-10s %-6s %-22s %8s %6s %14s %10s  %s\n", "campaign", "zip", "status", "listings",
              "sales", "market avg", "ready in", "note");
  std::vector<double> latencies;
  std::vector<Campaign> finished;
  finished.reserve(ids.size());
  for (const auto& id : ids) {
    auto d = LoadDetails(*store, id);
    if (!d) return ReportError(d.error());
    const Campaign& c = d->campaign;
    finished.push_back(c);
    std::string took = "-";
    if (c.status == CampaignStatus::kReadyToCreateEmail) {
      double ms =
          std::chrono::duration<double, std::milli>(c.status_changed_at - run->started_at[id])
              .count();
      latencies.push_back(ms);
      took = fmt::format("{:.0f} ms", ms);
    }
    std::printf("%-10s %-6s %-22s %8zu %6zu %14s %10s  %s\n", c.id.str().c_str(),
                c.zip_code.c_str(), std::string(ToString(c.status)).c_str(), d->listings.size(),
                d->sales.size(),
                Money(d->market ? d->market->current.average_price : std::nullopt).c_str(),
                took.c_str(), d->property ? "" : "no-address");
    if (!c.error_text.empty()) std::printf("           error: %s\n", c.error_text.c_str());
  }
  // From the first start to the last READY as stored, not to the progress count that saw it.
  if (auto recorded = RecordedSeconds(*run, finished)) wall = *recorded;
  auto lat = SummarizeLatencies(latencies);
  auto stats = fetcher.Stats();
  std::printf("\n%d/%zu campaigns READY_TO_CREATE_EMAIL, %d ERROR, in %.2f s (%.0f campaigns/s)\n",
              ready, ids.size(), failed, wall, static_cast<double>(ready) / wall);
  std::printf("start -> ready: p50 %.0f ms, p95 %.0f ms, max %.0f ms\n", lat.p50, lat.p95, lat.max);
  std::printf("events handled %lld (retried %lld, failed %lld), events published %lld\n",
              static_cast<long long>(stats.done + stats.failed),
              static_cast<long long>(stats.retried), static_cast<long long>(stats.failed),
              static_cast<long long>(fetcher.relay().published()));
  // Every write transaction on the file since it was created (set-up and migrations
  // included): the figure docs/decisions/performance.md tracks.
  if (auto w = sqlite::Writer::For(dir + "/demo.db", std::chrono::seconds(5)); w) {
    std::printf("database commits %llu (%.1f per campaign)\n",
                static_cast<unsigned long long>((*w)->commits()),
                static_cast<double>((*w)->commits()) / static_cast<double>(ids.size()));
  }
  if (ready != static_cast<int>(ids.size())) {
    std::fprintf(stderr, "dripr demo: %zu campaign(s) did not reach READY_TO_CREATE_EMAIL\n",
                 ids.size() - static_cast<size_t>(ready));
    return kExitFailure;
  }
  return kExitOk;
}

}  // namespace

void AddServiceCommands(CLI::App& app, Globals& g, int& exit_code) {
  auto* df = app.add_subcommand("data-fetcher", "Run the service: queue consumers + outbox relay");
  df->callback([&g, &exit_code] { exit_code = DataFetcherCmd(g); });

  auto a = std::make_shared<DemoArgs>();
  auto* demo = app.add_subcommand("demo", "End-to-end run on SQLite + embedded bus + sample data");
  AddIntOption(demo, "--campaigns", a->campaigns, kMinDemoCampaigns, kMaxDemoCampaigns,
               "How many campaigns (default 100)");
  AddIntOption(demo, "--timeout", a->timeout_seconds, 1, kMaxDemoTimeoutSeconds,
               "Give up after this many seconds (default 120)");
  demo->add_flag("--keep", a->keep, "Keep the demo database (its path is printed)");
  demo->callback([&g, &exit_code, a] { exit_code = Demo(g, *a); });
}

}  // namespace dripr::cli
