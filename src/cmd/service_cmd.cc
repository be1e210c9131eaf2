// dripr data-fetcher | demo

#include <fmt/format.h>
#include <signal.h>
#include <stdlib.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <thread>

#include "cmd/cli.h"
#include "cmd/render.h"
#include "dripr/core/log.h"
#include "dripr/fetcher/data_fetcher.h"

namespace dripr::cli {
namespace {

using Steady = std::chrono::steady_clock;

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

int DataFetcherCmd(const Globals& g) {
  sigset_t stop_signals = BlockStopSignals();
  Context ctx;
  if (auto rc = LoadContext(g, ctx)) return *rc;
  auto provider = OpenProvider(ctx.env);
  if (!provider) return ReportError(provider.error());
  int rc = kExitOk;
  auto store = OpenStoreOrReport(ctx, rc, DbUse::kService);
  if (!store) return rc;
  auto bus = OpenBusOrReport(ctx, rc);
  if (!bus) return rc;
  // Noticed within a second: the database file removed or replaced under the fetcher (its
  // writes would be lost with the unlinked file). Every write transaction checks it too.
  const DatabaseFileWatch watch = DatabaseFileWatch::For(ctx.config);
  DataFetcher fetcher(*store, *bus, **provider, SystemClock::Instance(), ctx.config);
  fetcher.Start();
  DRIPR_LOG_INFO("data-fetcher started: provider={} bus={} database={} max_in_flight={} per queue",
                 (*provider)->Name(), ctx.config.bus == BusKind::kAws ? "aws" : "embedded",
                 DescribeDatabase(ctx.config), ctx.config.consumer.max_in_flight);
  int exit_code = kExitOk;
  while (true) {
    const timespec period{.tv_sec = 1, .tv_nsec = 0};
    int sig = sigtimedwait(&stop_signals, nullptr, &period);
    if (sig > 0) {
      DRIPR_LOG_INFO("data-fetcher: {} received, shutting down", sig == SIGTERM ? "SIGTERM" : "SIGINT");
      break;
    }
    if (auto ok = watch.Check(); !ok) {
      DRIPR_LOG_ERROR("data-fetcher: {}; stopping", ok.error().message);
      std::fprintf(stderr, "dripr: %s\n", ok.error().message.c_str());
      exit_code = kExitFailure;
      break;
    }
  }
  bool clean = fetcher.Stop();
  auto s = fetcher.Stats();
  DRIPR_LOG_INFO("data-fetcher stopped: received={} done={} retried={} failed={} released={}",
                 s.received, s.done, s.retried, s.failed, s.released);
  if (!clean) {
    std::fflush(nullptr);
    _exit(exit_code);  // a handler overran the deadline: its message reappears after its lease
  }
  return exit_code;
}

struct DemoArgs {
  int campaigns = 100;
  int timeout_seconds = 120;
  bool keep = false;
};

struct DemoZip {
  std::string zip;
  GeoPoint at;
};

// Every k-th zip of the centroid file: a spread across the country, the same every run.
std::vector<DemoZip> PickZips(const std::string& csv, int n) {
  std::ifstream in(csv);
  std::string line;
  std::vector<DemoZip> all;
  std::getline(in, line);  // header
  while (std::getline(in, line)) {
    auto c1 = line.find(','), c2 = line.rfind(',');
    if (c1 == std::string::npos || c2 == c1) continue;
    all.push_back({line.substr(0, c1), {std::stod(line.substr(c1 + 1, c2 - c1 - 1)), std::stod(line.substr(c2 + 1))}});
  }
  std::vector<DemoZip> out;
  if (all.empty() || n <= 0) return out;
  double step = static_cast<double>(all.size()) / n;
  for (int i = 0; i < n; ++i) out.push_back(all[static_cast<size_t>(i * step + step / 2) % all.size()]);
  return out;
}

void Progress(int ready, int failed, int total, double secs, bool tty) {
  const int width = 40;
  int done = ready + failed;
  int filled = total ? done * width / total : width;
  std::string bar(static_cast<size_t>(filled), '#');
  bar.resize(width, '.');
  std::fprintf(stderr, "%s[%s] %d/%d ready, %d error, %.1fs%s", tty ? "\r" : "", bar.c_str(), ready,
               total, failed, secs, tty ? "" : "\n");
  std::fflush(stderr);
}

int Demo(const Globals& g, const DemoArgs& a) {
  if (a.campaigns < 1 || a.campaigns > 5000) return ReportUsage("--campaigns must be between 1 and 5000");
  Context ctx;
  if (auto rc = LoadContext(g, ctx)) return *rc;
  if (!ctx.env.Get("DRIPR_LOG_LEVEL")) spdlog::set_level(spdlog::level::warn);
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
  ctx.env.Set("DATA_PROVIDER", "sample");
  std::string csv = ZipCsvPath(ctx.env);
  if (csv.empty()) return ReportError({ErrorCode::kFailedPrecondition, "data/zip_codes.csv not found"});
  auto provider = OpenProvider(ctx.env);
  if (!provider) return ReportError(provider.error());
  int rc = kExitOk;
  auto store = OpenStoreOrReport(ctx, rc, DbUse::kService);
  if (!store) return rc;
  auto bus = OpenBusOrReport(ctx, rc);
  if (!bus) return rc;

  std::printf("dripr demo: %d campaigns, SQLite + embedded bus + sample provider in %s\n",
              a.campaigns, dir.c_str());
  DataFetcher fetcher(*store, *bus, **provider, SystemClock::Instance(), ctx.config);
  fetcher.Start();

  auto zips = PickZips(csv, a.campaigns);
  std::vector<std::string> ids;
  std::map<std::string, SysTime> started_at;
  auto t0 = Steady::now();
  for (size_t i = 0; i < zips.size(); ++i) {
    NewCampaign nc;
    nc.id = fmt::format("demo-{:04}", i + 1);
    nc.zip_code = zips[i].zip;
    nc.user_id = fmt::format("agent-{}", i % 7 + 1);
    if (i % 3 != 2) {  // every third campaign is a no-address newsletter
      GeoPoint at{zips[i].at.lat + 0.004 * static_cast<double>(i % 5) - 0.008,
                  zips[i].at.lng - 0.003 * static_cast<double>(i % 4) + 0.004};
      nc.property = PropertyData{fmt::format("{} Maple St, {}", 100 + 17 * i, zips[i].zip), at,
                                 static_cast<int64_t>(250000 + (i * 7919) % 650000)};
    }
    if (auto c = store->CreateCampaign(nc); !c) return ReportError(c.error());
    auto s = store->StartCampaign(nc.id);
    if (!s) return ReportError(s.error());
    started_at[nc.id] = s->campaign.status_changed_at;
    ids.push_back(nc.id);
  }

  bool tty = isatty(STDERR_FILENO);
  int ready = 0, failed = 0;
  auto deadline = t0 + std::chrono::seconds(a.timeout_seconds);
  auto last_print = Steady::now() - std::chrono::seconds(10);
  while (true) {
    auto r = store->ListCampaigns(std::nullopt);
    if (!r) return ReportError(r.error());
    ready = failed = 0;
    for (const auto& c : *r) {
      ready += c.status == CampaignStatus::kReadyToCreateEmail;
      failed += c.status == CampaignStatus::kError;
    }
    double secs = std::chrono::duration<double>(Steady::now() - t0).count();
    bool finished = ready + failed == static_cast<int>(ids.size());
    if (finished || tty || Steady::now() - last_print >= std::chrono::seconds(1)) {
      Progress(ready, failed, static_cast<int>(ids.size()), secs, tty);
      last_print = Steady::now();
    }
    if (finished || Steady::now() > deadline) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));  // progress refresh rate
  }
  if (tty) std::fprintf(stderr, "\n");
  double wall = std::chrono::duration<double>(Steady::now() - t0).count();
  fetcher.Stop();

  std::printf("\n%-10s %-6s %-22s %8s %6s %14s %10s  %s\n", "campaign", "zip", "status", "listings",
              "sales", "market avg", "ready in", "note");
  std::vector<double> latencies;
  for (const auto& id : ids) {
    auto d = LoadDetails(*store, id);
    if (!d) return ReportError(d.error());
    const Campaign& c = d->campaign;
    std::string took = "-";
    if (c.status == CampaignStatus::kReadyToCreateEmail) {
      double ms = std::chrono::duration<double, std::milli>(c.status_changed_at - started_at[id]).count();
      latencies.push_back(ms);
      took = fmt::format("{:.0f} ms", ms);
    }
    std::printf("%-10s %-6s %-22s %8zu %6zu %14s %10s  %s\n", c.id.c_str(), c.zip_code.c_str(),
                std::string(ToString(c.status)).c_str(), d->listings.size(), d->sales.size(),
                Money(d->market ? d->market->current.average_price : std::nullopt).c_str(),
                took.c_str(), d->property ? "" : "no-address");
    if (!c.error_text.empty()) std::printf("           error: %s\n", c.error_text.c_str());
  }
  std::sort(latencies.begin(), latencies.end());
  auto pct = [&](double p) {
    return latencies.empty() ? 0.0 : latencies[std::min(latencies.size() - 1, static_cast<size_t>(p * static_cast<double>(latencies.size())))];
  };
  auto stats = fetcher.Stats();
  std::printf("\n%d/%zu campaigns READY_TO_CREATE_EMAIL, %d ERROR, in %.2f s (%.0f campaigns/s)\n",
              ready, ids.size(), failed, wall, static_cast<double>(ready) / wall);
  std::printf("start -> ready: p50 %.0f ms, p95 %.0f ms, max %.0f ms\n", pct(0.5), pct(0.95),
              latencies.empty() ? 0.0 : latencies.back());
  std::printf("events handled %lld (retried %lld, failed %lld), events published %lld\n",
              static_cast<long long>(stats.done + stats.failed), static_cast<long long>(stats.retried),
              static_cast<long long>(stats.failed), static_cast<long long>(fetcher.relay().published()));
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
  AddIntOption(demo, "--campaigns", a->campaigns, 1, 10000, "How many campaigns (default 100)");
  AddIntOption(demo, "--timeout", a->timeout_seconds, 1, 86400,
               "Give up after this many seconds (default 120)");
  demo->add_flag("--keep", a->keep, "Keep the demo database (its path is printed)");
  demo->callback([&g, &exit_code, a] { exit_code = Demo(g, *a); });
}

}  // namespace dripr::cli
