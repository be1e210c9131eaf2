// sample_provider_bench: the sample provider alone (src/dripr/providers/sample/), its CPU and
// a digest of everything it answered, so that a change to it can be shown to cost less and to
// return the same bytes (docs/decisions/performance.md, "Sample provider, second pass").
//
//   sample_provider_bench --zips data/zip_codes.csv [--mode demo|check] [--campaigns N]
//
// demo   N campaigns like `dripr demo --campaigns N` makes them (every k-th zip of the table,
//        the handlers' widening 1 → 2 → 4 → 8 miles until 10 listings, then 10 sales of 90
//        days, then the zip's market), one provider with the centroid table, one thread.
// check  a wide sweep: N centres spread over the table and a few far-off places (southern
//        hemisphere, the date line, 85 degrees), radii 0.3-25 miles widening and narrowing,
//        both kinds, sales windows 1-3650 days, four `today`s (a leap day among them), with
//        and without the centroid table and with sparse zips; errors are hashed too.
//
// Prints one line: mode, searches, records, the digest (FNV-1a over every field of every
// answer, doubles by their bits) and the thread's CPU time. Equal digests on two builds mean
// equal answers.
#include <time.h>

#include <cinttypes>
#include <cstdio>
#include <memory>
#include <string>

#include "bench_args.h"
#include "dripr/core/clock.h"
#include "dripr/core/time.h"
#include "dripr/providers/sample/sample_provider.h"
#include "providers/sample_digest.h"  // tests/ is on dripr_testlib's include path

namespace dripr {
namespace {

using sample_digest::Digest;

constexpr const char* kUsage =
    "usage: sample_provider_bench --zips FILE [--mode demo|check] [--campaigns N]";

double ThreadCpuSeconds() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

// What the handlers do for one part: widen 1 → 8 miles until 10 records.
template <class Fetch>
void Widen(Digest& d, Fetch fetch) {
  for (double miles = 1;; miles *= 2) {
    auto r = fetch(miles);
    d.Add(r);
    if (!r || r->size() >= 10 || miles >= 8) return;
  }
}

void Demo(const std::shared_ptr<const ZipCentroids>& zips, int n, Digest& d) {
  ManualClock clock(*ParseIso8601("2026-11-29T12:00:00Z"));
  SampleProviderOptions o;
  o.zips = zips;
  SampleProvider p(clock, o);
  const double step = static_cast<double>(zips->size()) / n;
  for (int i = 0; i < n; ++i) {
    auto [zip, at] = zips->At(static_cast<size_t>(i * step + step / 2) % zips->size());
    Widen(d, [&](double miles) { return p.ActiveListings({at, miles, zip}); });
    Widen(d, [&](double miles) { return p.RecentSales({at, miles, zip}, 90); });
    d.Add(p.Market(zip));
  }
}

int Main(int argc, char** argv) {
  std::string zips_path, mode = "demo";
  int campaigns = 3000;
  bench::Args args;
  args.Text("--zips", &zips_path, bench::Need::kRequired);
  args.Choice("--mode", &mode, {"demo", "check"});
  args.Int("--campaigns", &campaigns, 1, 1'000'000);
  if (std::string why = args.Parse(argc, argv); !why.empty()) {
    return bench::UsageError("sample_provider_bench", why, kUsage);
  }
  auto loaded = ZipCentroids::LoadFile(zips_path);
  if (!loaded || loaded->size() == 0) {
    std::fprintf(stderr, "sample_provider_bench: %s\n",
                 loaded ? "the zip table is empty" : loaded.error().message.c_str());
    return 1;
  }
  auto zips = std::make_shared<const ZipCentroids>(std::move(*loaded));
  Digest d;
  const double start = ThreadCpuSeconds();
  if (mode == "demo") {
    Demo(zips, campaigns, d);
  } else {
    sample_digest::Sweep(zips, campaigns, /*wide=*/true, d);
  }
  const double cpu = ThreadCpuSeconds() - start;
  std::printf("%s campaigns=%d searches=%" PRIu64 " records=%" PRIu64 " digest=%016" PRIx64
              " cpu=%.3fs (%.1f us/campaign)\n",
              mode.c_str(), campaigns, d.searches, d.records, d.h, cpu, cpu * 1e6 / campaigns);
  return 0;
}

}  // namespace
}  // namespace dripr

int main(int argc, char** argv) { return dripr::Main(argc, argv); }
