// dripr campaign import FILE|- [--start] [--json]: bulk creation from CSV or JSON lines
// (docs/decisions/cli.md "campaign import"). Every row is checked before anything is written.

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <sstream>

#include "cmd/cli.h"
#include "dripr/core/clock.h"
#include "dripr/core/text.h"
#include "dripr/domain/campaign_import.h"

namespace dripr::cli {
namespace {

// Rows per transaction: large enough for thousands of campaigns per second, small enough
// that a running fetcher never waits long for the write lock.
constexpr size_t kBatchRows = 500;
// An import file larger than this is refused before parsing (about a million campaigns).
constexpr size_t kMaxFileBytes = 256u << 20;
// At most this many row problems are printed; the count says how many there were.
constexpr size_t kMaxProblemsShown = 20;

struct ImportArgs {
  std::string file;
  bool start = false;
  bool json = false;
};

Result<std::string> ReadInput(const std::string& file) {
  // Read no further than the limit: a huge or endless input (/dev/zero) is refused, not read.
  std::optional<std::string> text;
  if (file == "-") {
    text = ReadAtMost(std::cin, kMaxFileBytes);
  } else {
    std::ifstream in(file, std::ios::binary);
    if (!in) return Fail(ErrorCode::kInvalidArgument, "cannot read " + QuotedEcho(file));
    text = ReadAtMost(in, kMaxFileBytes);
  }
  if (!text) {
    return Fail(
        ErrorCode::kInvalidArgument,
        "the import file is larger than " + std::to_string(kMaxFileBytes >> 20) + " MB; split it");
  }
  return std::move(*text);
}

int ReportProblems(const std::vector<ImportProblem>& problems) {
  size_t shown = 0;
  for (const auto& p : problems) {
    if (shown++ == kMaxProblemsShown) break;
    std::string where = p.line > 0 ? "line " + std::to_string(p.line) + ": " : "";
    std::fprintf(stderr, "dripr: %s%s\n", where.c_str(), TerminalSafe(p.message).c_str());
  }
  if (problems.size() > kMaxProblemsShown) {
    std::fprintf(stderr, "dripr: ... and %zu more\n", problems.size() - kMaxProblemsShown);
  }
  std::fprintf(stderr, "dripr: %zu invalid row(s); nothing was imported\n", problems.size());
  return kExitUsage;
}

int Import(const Globals& g, const ImportArgs& a) {
  Context ctx;
  if (auto rc = LoadContext(g, ctx)) return *rc;
  auto text = ReadInput(a.file);
  if (!text) return ReportError(text.error());
  ImportFile parsed = ParseCampaignImport(*text);
  if (!parsed.problems.empty()) return ReportProblems(parsed.problems);

  int rc = kExitOk;
  auto store = OpenStoreOrReport(ctx, rc);
  if (!store) return rc;
  // Checks that need the database, still before anything is written: ids already taken and
  // no-address campaigns in zips without a centroid. Two batch reads (a statement per
  // kBatchReadChunk keys), then the rows' problems in line order as CheckLocatable words them.
  std::vector<ImportProblem> problems;
  std::vector<CampaignId> ids;
  std::vector<std::string> unplaced_zips;  // zips of the no-address rows
  ids.reserve(parsed.rows.size());
  for (const auto& row : parsed.rows) {
    // Rows here passed CampaignFromFields, so the id parses; a failure is reported as one.
    auto id = CampaignId::Parse(row.campaign.id);
    if (id) ids.push_back(std::move(*id));
    if (!row.campaign.property) unplaced_zips.push_back(row.campaign.zip_code);
  }
  auto existing = store->ExistingCampaigns(ids);
  if (!existing) return ReportError(existing.error());
  auto centroids = store->ZipCentroids(unplaced_zips);
  if (!centroids) return ReportError(centroids.error());
  for (const auto& row : parsed.rows) {
    auto id = CampaignId::Parse(row.campaign.id);
    if (!id) {
      problems.push_back({row.line, "id: " + id.error().message});
      continue;
    }
    if (std::binary_search(existing->begin(), existing->end(), *id)) {
      problems.push_back({row.line, "campaign " + QuotedEcho(row.campaign.id) + " already exists"});
    }
    if (!row.campaign.property && !centroids->contains(row.campaign.zip_code)) {
      problems.push_back({row.line, NoCentroidMessage(row.campaign.zip_code)});
    }
  }
  if (!problems.empty()) return ReportProblems(problems);

  std::vector<NewCampaign> all;
  all.reserve(parsed.rows.size());
  for (auto& row : parsed.rows) all.push_back(std::move(row.campaign));
  const auto t0 = ctx.ticker->Now();
  size_t done = 0;
  while (done < all.size()) {
    size_t n = std::min(kBatchRows, all.size() - done);
    auto created = store->CreateCampaigns(std::span(all).subspan(done, n), a.start);
    if (!created) {
      // Earlier batches are committed: say exactly how far the import got.
      std::fprintf(stderr, "dripr: imported %zu of %zu campaign(s) before an error\n", done,
                   all.size());
      return ReportError(created.error());
    }
    done += n;
  }
  const double secs = std::chrono::duration<double>(ctx.ticker->Now() - t0).count();
  if (a.json) {
    PrintJson({{"created", done}, {"started", a.start ? done : 0}, {"seconds", secs}});
  } else {
    std::printf("imported %zu campaign(s)%s in %.2f s\n", done,
                a.start ? ", started (STATUS_CHANGE events queued)" : ", DORMANT", secs);
  }
  return kExitOk;
}

}  // namespace

void AddImportCommand(CLI::App& campaign, Globals& g, int& exit_code) {
  auto a = std::make_shared<ImportArgs>();
  auto* import = campaign.add_subcommand(
      "import",
      "Create many campaigns from CSV (header row of create's flag names: "
      "id,zip,user-id,address,lat,lng,current-value) or JSON lines with the same keys; "
      "every row is checked first, nothing is written if any row is bad");
  import->add_option("file", a->file, "The file, or - for stdin")->required();
  import->add_flag("--start", a->start, "Also start each campaign (one STATUS_CHANGE each)");
  import->add_flag("--json", a->json, "JSON output");
  import->callback([&g, &exit_code, a] { exit_code = Import(g, *a);
});
}  // namespace dripr::cli

}  // namespace dripr::cli
