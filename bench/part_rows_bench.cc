// part_rows_bench: how fast PostgresStore replaces a campaign part's rows (CompletePart for
// active listings), against the least any implementation has to do for the same rows,
// measured in the same run on the same server. Variants, each one transaction per campaign:
//   store     PostgresStore::CompletePart (row lock, compare-and-set, DELETE + COPY)
//   copy      bare libpq: DELETE + COPY of the same rows (the minimum)
//   cas+copy  bare libpq: copy plus the store's row lock and compare-and-set UPDATE, so that
//             store vs copy splits into SQL the transition needs and the store's own overhead
//   insert    bare libpq: DELETE + one prepared INSERT per row (a second reference)
//
// It creates a throw-away database dripr_bench_<pid> in the cluster of DRIPR_BENCH_PG_URL
// (else DRIPR_TEST_PG_URL) and drops it at the end, also after a failure or Ctrl-C.
// scripts/run-bench.sh starts such a cluster, builds and runs this. See docs/benchmarks.md.
//
// Every variant replaces the rows of the same campaigns, one campaign per transaction, from
// one client thread, each on a session of its own: the figures are per-connection throughput
// (latency-bound), which is what one handler slot of the data fetcher sees. The tables also
// hold --background other campaigns' rows, as production tables do. Only the replacing calls
// are timed; resetting part statuses, VACUUM and checks run between the timed passes.

#include <fmt/format.h>
#include <libpq-fe.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <numeric>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "bench_args.h"
#include "dripr/core/error.h"
#include "dripr/domain/types.h"
#include "dripr/store/networked_store.h"
#include "dripr/store/postgres/pg_conn.h"
#include "dripr/store/postgres/pg_rows.h"
#include "dripr/store/postgres/postgres_store.h"
#include "dripr/store/store_common.h"

namespace dripr {
namespace {

using SteadyClock = std::chrono::steady_clock;

// ---------------------------------------------------------------- command line

constexpr std::string_view kUsage =
    "usage: part_rows_bench [--campaigns N] [--rows N] [--rounds N] [--sweep] [--fan-in]\n"
    "                       [--no-insert]\n"
    "  --campaigns N  campaigns per timed pass (default 200)\n"
    "  --rows N       active-listing rows per campaign (default 25, DRIPR_KEEP_RESULTS)\n"
    "  --rounds N     timed rounds per variant, interleaved; the median is reported (default 5)\n"
    "  --background N other campaigns whose rows sit in the tables throughout, as in production\n"
    "                 (default 2000, 25 rows each; 0 for none)\n"
    "  --sweep        also run with 500 rows per campaign (DRIPR_KEEP_RESULTS maximum), on\n"
    "                 fewer campaigns so that it stays quick\n"
    "  --fan-in       active listings is the only required part, so every CompletePart also\n"
    "                 moves the campaign to READY_TO_CREATE_EMAIL and writes an outbox row\n"
    "  --no-insert    skip the row-by-row INSERT reference (the slowest variant)\n"
    "PostgreSQL: DRIPR_BENCH_PG_URL, else DRIPR_TEST_PG_URL (a role that may CREATE DATABASE).\n";

// The DRIPR_KEEP_RESULTS maximum: the largest part a handler ever writes.
constexpr int kMaxPartRows = 500;
// Rows of each background campaign (the DRIPR_KEEP_RESULTS default).
constexpr int kBackgroundRows = 25;

struct Options {
  int campaigns = 200;
  int rows = 25;
  int rounds = 5;
  int background = 2000;
  bool sweep = false;
  bool fan_in = false;
  bool insert = true;
};

// nullopt (after printing why) when the arguments are not understood; --help prints the
// usage and exits 0.
std::optional<Options> ParseArgs(int argc, char** argv) {
  Options o;
  bool no_insert = false, help = false, h = false;
  bench::Args args;
  args.Int("--campaigns", &o.campaigns, 1, 100'000);
  args.Int("--rows", &o.rows, 1, 100'000);
  args.Int("--background", &o.background, 0, 1'000'000);
  args.Int("--rounds", &o.rounds, 1, 1'000);
  args.Flag("--sweep", &o.sweep);
  args.Flag("--fan-in", &o.fan_in);
  args.Flag("--no-insert", &no_insert);
  args.Flag("--help", &help);
  args.Flag("-h", &h);
  if (std::string why = args.Parse(argc, argv); !why.empty()) {
    bench::UsageError("part_rows_bench", why, kUsage);
    return std::nullopt;
  }
  if (help || h) {
    fmt::print("{}", kUsage);
    std::exit(0);
  }
  o.insert = !no_insert;
  return o;
}

std::string ShellQuote(std::string_view a) {
  constexpr std::string_view kSafe =
      "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_./=:,+@%";
  if (!a.empty() && a.find_first_not_of(kSafe) == std::string_view::npos) return std::string(a);
  std::string out = "'";
  for (char ch : a) out += ch == '\'' ? std::string("'\\''") : std::string(1, ch);
  return out + "'";
}

// ---------------------------------------------------------------- bare libpq

volatile std::sig_atomic_t g_interrupted = 0;
void OnSignal(int) { g_interrupted = 1; }

Status Interrupted() { return Fail(ErrorCode::kAborted, "interrupted"); }

struct ConnCloser {
  void operator()(PGconn* c) const { PQfinish(c); }
};
using ConnPtr = std::unique_ptr<PGconn, ConnCloser>;
struct ResultClearer {
  void operator()(PGresult* r) const { PQclear(r); }
};
using ResultPtr = std::unique_ptr<PGresult, ResultClearer>;

Result<ConnPtr> Connect(const std::string& url) {
  ConnPtr c(PQconnectdb(url.c_str()));
  if (!c) return Fail(ErrorCode::kInternal, "PostgreSQL: out of memory");
  if (PQstatus(c.get()) != CONNECTION_OK) {
    return Fail(pg::ErrorFrom(c.get(), nullptr, "connect"));
  }
  return c;
}

// The URL of database `db` in the cluster of `base` (a postgresql:// URL or key=value
// conninfo, whose last dbname wins).
std::string UrlForDatabase(const std::string& base, const std::string& db) {
  const size_t scheme = base.find("://");
  if (scheme == std::string::npos) return base + " dbname=" + db;
  const size_t query = base.find('?', scheme + 3);
  std::string head = base.substr(0, query);
  const std::string tail = query == std::string::npos ? "" : base.substr(query);
  if (size_t slash = head.find('/', scheme + 3); slash != std::string::npos) head.resize(slash);
  return head + "/" + db + tail;
}

Result<ResultPtr> Run(PGconn* c, const std::string& sql) {
  ResultPtr r(PQexec(c, sql.c_str()));
  ExecStatusType st = PQresultStatus(r.get());
  if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) return Fail(pg::ErrorFrom(c, r.get(), sql));
  return r;
}

Status Exec(PGconn* c, const std::string& sql) {
  DRIPR_TRY(Run(c, sql));
  return Ok();
}

Result<std::string> QueryOne(PGconn* c, const std::string& sql) {
  DRIPR_ASSIGN_OR_RETURN(ResultPtr r, Run(c, sql));
  if (PQntuples(r.get()) < 1 || PQnfields(r.get()) < 1) {
    return Fail(ErrorCode::kInternal, sql + ": no value");
  }
  return std::string(PQgetvalue(r.get(), 0, 0));
}

Status Prepare(PGconn* c, const char* name, const std::string& sql) {
  ResultPtr r(PQprepare(c, name, sql.c_str(), 0, nullptr));
  if (PQresultStatus(r.get()) != PGRES_COMMAND_OK) return Fail(pg::ErrorFrom(c, r.get(), sql));
  return Ok();
}

Result<pg::Rows> Query(PGconn* c, const char* name, const pg::Params& params) {
  std::array<const char*, 32> values{};
  if (params.size() > static_cast<int>(values.size())) {
    return Fail(ErrorCode::kInternal, "too many parameters");
  }
  const std::vector<const char*> pointers = params.Pointers();
  std::copy(pointers.begin(), pointers.end(), values.begin());
  PGresult* r = PQexecPrepared(c, name, params.size(), values.data(), nullptr, nullptr, 0);
  const ExecStatusType st = PQresultStatus(r);
  if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK) return pg::Rows(r);
  Error e = pg::ErrorFrom(c, r, name);
  PQclear(r);
  return Fail(std::move(e));
}

Status ExecPrepared(PGconn* c, const char* name, const pg::Params& params) {
  DRIPR_TRY(Query(c, name, params));
  return Ok();
}

Status CopyIn(PGconn* c, const std::string& sql, const std::string& data) {
  {
    ResultPtr r(PQexec(c, sql.c_str()));
    if (PQresultStatus(r.get()) != PGRES_COPY_IN) return Fail(pg::ErrorFrom(c, r.get(), sql));
  }
  const bool sent = PQputCopyData(c, data.data(), static_cast<int>(data.size())) == 1;
  const bool ended = PQputCopyEnd(c, sent ? nullptr : "client failed to send rows") == 1;
  Status result = Ok();
  while (ResultPtr r{PQgetResult(c)}) {
    if (result && PQresultStatus(r.get()) != PGRES_COMMAND_OK) {
      result = Fail(pg::ErrorFrom(c, r.get(), "COPY"));
    }
  }
  if (result && (!sent || !ended)) result = Fail(pg::ErrorFrom(c, nullptr, "COPY"));
  return result;
}

// ---------------------------------------------------------------- workload

const std::string& CopySql() {
  static const std::string sql =
      "COPY active_listings (campaign_id, " + std::string(kListingColumns) + ") FROM STDIN";
  return sql;
}

const std::string& InsertSql() {
  static const std::string sql = [] {
    const size_t columns = 2 + static_cast<size_t>(std::ranges::count(kListingColumns, ','));
    std::string s =
        "INSERT INTO active_listings (campaign_id, " + std::string(kListingColumns) + ") VALUES (";
    for (size_t i = 1; i <= columns; ++i) s += (i > 1 ? ", $" : "$") + std::to_string(i);
    return s + ")";
  }();
  return sql;
}

// The campaign-row statements of the store's transition (pg::LoadCampaign with lock and the
// compare-and-set UPDATE of PostgresStore::RunTransition), for the cas+copy reference.
const std::string& LockSql() {
  static const std::string sql =
      "SELECT " + EpochMsCampaignColumns<pg::Driver>() + " FROM campaigns WHERE id = $1 FOR UPDATE";
  return sql;
}
constexpr std::string_view kCasSql =
    "UPDATE campaigns SET campaign_status = $1, local_market_data_status = $2, "
    "active_listing_status = $3, recent_sale_status = $4, data_cycle = $5, error_text = $6, "
    "updated_at = $7::timestamptz, status_changed_at = $8::timestamptz WHERE id = $9 AND "
    "campaign_status = $10 AND data_cycle = $11 AND local_market_data_status = $12 AND "
    "active_listing_status = $13 AND recent_sale_status = $14";

constexpr const char* kDeleteStmt = "bench_delete";
constexpr const char* kInsertStmt = "bench_insert";
constexpr const char* kLockStmt = "bench_lock";
constexpr const char* kCasStmt = "bench_cas";

uint64_t Mix(uint64_t x) {  // splitmix64: deterministic, well spread
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

struct Place {
  std::string_view city;
  std::string_view state;
  std::string_view zip;
  double lat;
  double lng;
};
constexpr std::array<Place, 5> kPlaces = {{
    {"Cambridge", "MA", "02139", 42.3651, -71.1040},
    {"Coeur d'Alene", "ID", "83814", 47.6777, -116.7805},
    {"Winston-Salem", "NC", "27101", 36.0999, -80.2442},
    {"Española", "NM", "87532", 35.9911, -106.0806},
    {"St. Louis", "MO", "63101", 38.6310, -90.1920},
}};
// Apostrophes, '#', '&' and UTF-8 as real addresses have them; a backslash and a tab so that
// COPY's text escaping is exercised too.
constexpr std::array<std::string_view, 6> kStreets = {"O'Brien St",   "Rue de l'Église",
                                                      "Main St #4",   "5th & Pine Ave",
                                                      "Back\\Bay Rd", "Old\tMill Ln"};
constexpr std::array<std::string_view, 4> kTypes = {"Single Family", "Condo", "Townhouse",
                                                    "Multi-Family"};

const Place& PlaceOf(int campaign) {
  return kPlaces[static_cast<size_t>(campaign) % kPlaces.size()];
}

std::string BenchIdText(int campaign) { return fmt::format("bench-{:05}", campaign); }
// "bench-00001": always a valid id.
CampaignId BenchId(int campaign) { return CampaignId::Parse(BenchIdText(campaign)).value(); }
std::string BackgroundId(int campaign) { return fmt::format("bg-{:07}", campaign); }

// Rank `k` (0-based) of campaign `campaign`, every field filled.
RankedRecord MakeListing(int campaign, int k) {
  const uint64_t h = Mix(static_cast<uint64_t>(campaign) * 1'000'003ULL + static_cast<uint64_t>(k));
  const Place& at = PlaceOf(campaign);
  RankedRecord r;
  PropertyRecord& p = r.record;
  const int number = 1 + static_cast<int>(h % 9999);
  const std::string_view street = kStreets[(h >> 8) % kStreets.size()];
  p.address_line1 = fmt::format("{} {}", number, street);
  p.formatted_address =
      fmt::format("{}, Unit {}, {}, {} {}", p.address_line1, k + 1, at.city, at.state, at.zip);
  p.city = at.city;
  p.state = at.state;
  p.zip_code = at.zip;
  p.source_id = fmt::format("{}-{},-{},-{}-{}-{:06x}", number, street.substr(0, 3), at.city,
                            at.state, at.zip, h & 0xffffff);
  p.location = GeoPoint{at.lat + static_cast<double>((h >> 12) % 20'001) * 1e-6 - 0.01,
                        at.lng + static_cast<double>((h >> 28) % 20'001) * 1e-6 - 0.01};
  p.property_type = kTypes[(h >> 40) % kTypes.size()];
  p.bedrooms = 1 + static_cast<int>((h >> 44) % 6);
  p.bathrooms = 1 + static_cast<double>((h >> 48) % 7) * 0.5;
  p.square_footage = 600 + static_cast<int>((h >> 20) % 4'000);
  p.price = 150'000 + static_cast<int64_t>((h >> 16) % 2'000) * 1'000 + 999;
  p.event_date = fmt::format("2024-{:02}-{:02}", 1 + (h >> 52) % 12, 1 + (h >> 56) % 28);
  p.days_on_market = static_cast<int>((h >> 4) % 180);
  r.rank = k + 1;
  r.score = 100.0 - k * 0.173 - static_cast<double>(h % 1000) * 1e-4;
  r.distance_miles = 0.05 + k * 0.0041 + static_cast<double>(h % 97) * 1e-3;
  return r;
}

NewCampaign MakeCampaign(int campaign) {
  const Place& at = PlaceOf(campaign);
  NewCampaign c;
  c.id = BenchIdText(campaign);
  c.user_id = "bench-user";
  c.zip_code = at.zip;
  c.property = PropertyData{
      fmt::format("{} Bench Plaza, {}, {} {}", campaign + 1, at.city, at.state, at.zip),
      GeoPoint{at.lat, at.lng}, 850'000};
  return c;
}

// ---------------------------------------------------------------- the benchmark

enum class Variant { kStore, kCopy, kCasCopy, kInsert };

std::string_view Name(Variant v) {
  switch (v) {
    case Variant::kStore:
      return "store";
    case Variant::kCopy:
      return "copy";
    case Variant::kCasCopy:
      return "cas+copy";
    case Variant::kInsert:
      return "insert";
  }
  return "?";
}

// CPU time of a thread or process from /proc/<id>/schedstat: on a CPU, and runnable but
// waiting for one (what a loaded machine adds).
struct Sched {
  double cpu_s = 0;
  double queued_s = 0;
};

std::optional<Sched> ReadSched(const std::string& path) {
  std::ifstream in(path);
  int64_t cpu_ns = 0;
  int64_t queued_ns = 0;
  if (!(in >> cpu_ns >> queued_ns)) return std::nullopt;
  return Sched{static_cast<double>(cpu_ns) * 1e-9, static_cast<double>(queued_ns) * 1e-9};
}

// What one variant took over the timed passes of a point.
struct Usage {
  std::vector<double> rows_per_s;  // per pass
  // Per campaign (seconds). On a shared machine the median shrugs off bursts of other load
  // that swing a whole pass.
  std::vector<double> latencies;
  double wall_s = 0;  // summed over the passes, as are the next two
  Sched client;       // this thread
  Sched server;       // the server backends of both connections
};

struct PointResult {
  int campaigns = 0;
  int rows = 0;
  std::vector<Variant> variants;
  std::vector<Usage> usage;  // per variant
};

// Linear interpolation between the closest ranks; q = 0.5 is the median.
double Quantile(std::vector<double> v, double q) {
  if (v.empty()) return 0;
  std::ranges::sort(v);
  const double at = q * static_cast<double>(v.size() - 1);
  const size_t lo = static_cast<size_t>(at);
  const size_t hi = std::min(lo + 1, v.size() - 1);
  return v[lo] + (v[hi] - v[lo]) * (at - static_cast<double>(lo));
}

double Median(std::vector<double> v) { return Quantile(std::move(v), 0.5); }

class Bench {
 public:
  Bench(const Options& options, PostgresStore& store, std::string url)
      : options_(options), store_(store), url_(std::move(url)) {}

  // Untimed: the campaigns (DORMANT -> WAITING_FOR_DATA), the bare sessions with their
  // statements, and the background rows.
  Status Setup(int campaigns) {
    for (int i = 0; i < campaigns; ++i) {
      if (g_interrupted) return Interrupted();
      DRIPR_TRY(store_.CreateCampaign(MakeCampaign(i)));
      DRIPR_ASSIGN_OR_RETURN(TransitionOutcome started, store_.StartCampaign(BenchId(i)));
      if (!started.changed) {
        return Fail(ErrorCode::kInternal, "start " + BenchIdText(i) + ": " + started.reason);
      }
      ids_.push_back(started.campaign.id);
      cycles_.push_back(started.campaign.data_cycle);
    }
    // A session of its own per bare variant, as the store has its pool's: no backend is
    // kept warmer, or has other plans cached, because it also serves another variant.
    DRIPR_ASSIGN_OR_RETURN(admin_, Connect(url_));
    for (ConnPtr* c : {&copy_, &cas_, &insert_}) {
      DRIPR_ASSIGN_OR_RETURN(*c, Connect(url_));
      DRIPR_TRY(
          Prepare(c->get(), kDeleteStmt, "DELETE FROM active_listings WHERE campaign_id = $1"));
    }
    DRIPR_TRY(Prepare(cas_.get(), kLockStmt, LockSql()));
    DRIPR_TRY(Prepare(cas_.get(), kCasStmt, std::string(kCasSql)));
    DRIPR_TRY(Prepare(insert_.get(), kInsertStmt, InsertSql()));
    DRIPR_TRY(LoadBackground());
    return FindServerProcesses();
  }

  bool server_cpu_known() const { return !server_pids_.empty(); }

  // One warm-up pass of every variant (prepares statements, fills caches, checks what each
  // wrote), then `rounds` timed passes of each, interleaved.
  Result<PointResult> RunPoint(int campaigns, int rows) {
    PointResult out;
    out.campaigns = campaigns;
    out.rows = rows;
    out.variants = {Variant::kStore, Variant::kCopy, Variant::kCasCopy};
    if (options_.insert) out.variants.push_back(Variant::kInsert);
    out.usage.resize(out.variants.size());

    parts_.clear();
    for (int i = 0; i < campaigns; ++i) {
      PartData d{DataPart::kActiveListings, {}, std::nullopt};
      for (int k = 0; k < rows; ++k) d.records.push_back(MakeListing(i, k));
      parts_.push_back(std::move(d));
    }
    DRIPR_TRY(Exec(admin_.get(), "DELETE FROM active_listings WHERE campaign_id LIKE 'bench-%'"));

    for (Variant v : out.variants) {
      DRIPR_TRY(TimedPass(v, campaigns, nullptr));
      DRIPR_TRY(CheckWritten(v, campaigns, rows, /*compare_rows=*/true));
    }
    // Statistics of the steady state, which the timed passes keep (same row counts).
    DRIPR_TRY(Exec(admin_.get(), "ANALYZE campaigns, active_listings, outbox"));
    // Each round runs every variant once, in an order shuffled per round (fixed seed): a pass
    // deletes the rows the pass before it wrote, and no variant should always clean up after
    // the same one (a plain rotation keeps the cyclic order, hence the predecessors).
    std::vector<size_t> order(out.variants.size());
    std::iota(order.begin(), order.end(), 0);
    std::mt19937 shuffle_rng(20240611);
    for (int round = 0; round < options_.rounds; ++round) {
      if (round > 0) std::ranges::shuffle(order, shuffle_rng);
      for (size_t j : order) {
        DRIPR_ASSIGN_OR_RETURN(double seconds,
                               TimedPass(out.variants[j], campaigns, &out.usage[j]));
        DRIPR_TRY(CheckWritten(out.variants[j], campaigns, rows, /*compare_rows=*/false));
        out.usage[j].rows_per_s.push_back(static_cast<double>(campaigns) * rows / seconds);
      }
    }
    return out;
  }

 private:
  // Seconds spent replacing the rows of the first `campaigns` campaigns with variant `v`;
  // added to `usage` (when given): each campaign's time, the CPU time of both sides.
  Result<double> TimedPass(Variant v, int campaigns, Usage* usage) {
    // Every pass starts from the same table state: the previous pass's dead rows vacuumed,
    // and autovacuum less likely to start in the middle of the timing.
    DRIPR_TRY(Exec(admin_.get(), "VACUUM campaigns, active_listings, outbox"));
    const Sched client0 = ClientSched();
    const Sched server0 = ServerSched();
    const auto start = SteadyClock::now();
    auto last = start;
    for (int i = 0; i < campaigns; ++i) {
      if (g_interrupted) return Fail(Interrupted().error());
      const size_t at = static_cast<size_t>(i);
      DRIPR_TRY(ReplaceOne(v, at));
      const auto now = SteadyClock::now();
      if (usage != nullptr) {
        usage->latencies.push_back(std::chrono::duration<double>(now - last).count());
      }
      last = now;
    }
    const double wall = std::chrono::duration<double>(last - start).count();
    if (usage != nullptr) {
      const Sched client1 = ClientSched();
      const Sched server1 = ServerSched();
      usage->wall_s += wall;
      usage->client.cpu_s += client1.cpu_s - client0.cpu_s;
      usage->client.queued_s += client1.queued_s - client0.queued_s;
      usage->server.cpu_s += server1.cpu_s - server0.cpu_s;
      usage->server.queued_s += server1.queued_s - server0.queued_s;
    }
    return wall;
  }

  static Sched ClientSched() { return ReadSched("/proc/thread-self/schedstat").value_or(Sched{}); }

  Sched ServerSched() const {
    Sched sum;
    for (int pid : server_pids_) {
      const Sched s = ReadSched(fmt::format("/proc/{}/schedstat", pid)).value_or(Sched{});
      sum.cpu_s += s.cpu_s;
      sum.queued_s += s.queued_s;
    }
    return sum;
  }

  // The real path: one transaction with the row lock, the compare-and-set, DELETE + COPY (and
  // the outbox row with --fan-in).
  // Replaces campaign `i`'s rows the way variant `v` does.
  Status ReplaceOne(Variant v, size_t i) {
    switch (v) {
      case Variant::kStore:
        return StoreOne(i);
      case Variant::kCopy:
        return CopyOne(i);
      case Variant::kCasCopy:
        return CasCopyOne(i);
      case Variant::kInsert:
        return InsertOne(i);
    }
    return Ok();  // not reached: every variant is listed
  }

  Status StoreOne(size_t i) {
    DRIPR_ASSIGN_OR_RETURN(TransitionOutcome done,
                           store_.CompletePart(ids_[i], cycles_[i], parts_[i]));
    if (!done.changed) {
      return Fail(ErrorCode::kInternal,
                  "CompletePart " + ids_[i].str() + " did nothing: " + done.reason);
    }
    return Ok();
  }

  // The minimum: DELETE + COPY in a transaction, the COPY text built here from the records as
  // the store builds it (so that conversion is on both sides of the ratio).
  Status CopyOne(size_t i) {
    PGconn* c = copy_.get();
    DRIPR_TRY(Exec(c, "BEGIN"));
    DRIPR_TRY(DeleteAndCopy(c, i));
    return Exec(c, "COMMIT");
  }

  // The minimum plus the SQL of the store's transition: lock the campaign row, read it, and
  // write it back with the same compare-and-set UPDATE (same values, so the part stays
  // WAITING_FOR_DATA). What remains between this and the store is the store's own code.
  Status CasCopyOne(size_t i) {
    PGconn* c = cas_.get();
    DRIPR_TRY(Exec(c, "BEGIN"));
    DRIPR_ASSIGN_OR_RETURN(pg::Rows row, Query(c, kLockStmt, pg::Params().Text(ids_[i].str())));
    if (row.size() != 1) return Fail(ErrorCode::kNotFound, "campaign " + ids_[i].str());
    const SysTime now = TruncateToMillis(std::chrono::system_clock::now());
    pg::Params p;
    for (int col = 4; col <= 7; ++col) p.Text(row.Text(0, col));  // campaign and part statuses
    p.Int(row.Int(0, 8)).TextOrNull(row.Text(0, 9));              // data_cycle, error_text
    p.Text(pg::TimeParam(now))
        .Text(pg::TimeParam(SysTime{} + std::chrono::milliseconds(row.Int(0, 12))));
    p.Text(ids_[i].str()).Text(row.Text(0, 4)).Int(row.Int(0, 8));
    for (int col = 5; col <= 7; ++col) p.Text(row.Text(0, col));
    DRIPR_ASSIGN_OR_RETURN(pg::Rows updated, Query(c, kCasStmt, p));
    if (updated.Affected() != 1)
      return Fail(ErrorCode::kAborted, "campaign " + ids_[i].str() + " moved");
    DRIPR_TRY(DeleteAndCopy(c, i));
    return Exec(c, "COMMIT");
  }

  Status DeleteAndCopy(PGconn* c, size_t i) {
    DRIPR_TRY(ExecPrepared(c, kDeleteStmt, pg::Params().Text(ids_[i].str())));
    pg::CopyText text;
    for (const RankedRecord& r : parts_[i].records) {
      AddRecordValues(text, ids_[i], r, kListingsTable);
      text.EndRow();
    }
    return CopyIn(c, CopySql(), text.data());
  }

  // DELETE + one prepared INSERT per row (one round trip each) in a transaction.
  Status InsertOne(size_t i) {
    PGconn* c = insert_.get();
    DRIPR_TRY(Exec(c, "BEGIN"));
    DRIPR_TRY(ExecPrepared(c, kDeleteStmt, pg::Params().Text(ids_[i].str())));
    for (const RankedRecord& r : parts_[i].records) {
      pg::Params p;
      AddRecordValues(p, ids_[i], r, kListingsTable);
      DRIPR_TRY(ExecPrepared(c, kInsertStmt, p));
    }
    return Exec(c, "COMMIT");
  }

  // Untimed, after a pass: every campaign has exactly its rows (and, after the warm-up, the
  // rows read back equal the records, whichever variant wrote them); after a store pass the
  // part is set back to WAITING_FOR_DATA so that the next CompletePart applies again.
  Status CheckWritten(Variant v, int campaigns, int rows, bool compare_rows) {
    DRIPR_ASSIGN_OR_RETURN(std::string count,
                           QueryOne(admin_.get(), "SELECT count(*) FROM active_listings"));
    const int64_t want = static_cast<int64_t>(campaigns) * rows + background_rows_;
    if (count != std::to_string(want)) {
      return Fail(ErrorCode::kInternal, fmt::format("after the {} pass active_listings has {} "
                                                    "rows, expected {}",
                                                    Name(v), count, want));
    }
    if (compare_rows) {
      DRIPR_ASSIGN_OR_RETURN(std::vector<RankedRecord> back, store_.GetActiveListings(ids_[0]));
      if (back != parts_[0].records) {
        return Fail(ErrorCode::kInternal,
                    fmt::format("the rows the {} pass wrote read back differently", Name(v)));
      }
    }
    if (v == Variant::kStore) {
      std::string reset = "UPDATE campaigns SET active_listing_status = 'WAITING_FOR_DATA'";
      if (options_.fan_in) reset += ", campaign_status = 'WAITING_FOR_DATA'";
      reset += " WHERE id LIKE 'bench-%'";
      DRIPR_TRY(Exec(admin_.get(), reset));
    }
    return Ok();
  }

  // Campaigns done long ago, with their rows: production tables hold many campaigns, and
  // PostgreSQL plans for what the tables hold. On nearly empty tables a connection's cached
  // generic plan may scan the whole table (seen: the DELETE as a Seq Scan on one connection
  // and not on the other), which measures the plan cache rather than the work.
  Status LoadBackground() {
    if (options_.background == 0) return Ok();
    DRIPR_TRY(
        Exec(admin_.get(),
             fmt::format("INSERT INTO campaigns (id, user_id, zip_code, campaign_status, "
                         "local_market_data_status, active_listing_status, recent_sale_status, "
                         "data_cycle, created_at, updated_at, status_changed_at) "
                         "SELECT 'bg-' || lpad(g::text, 7, '0'), 'bench-user', '02139', "
                         "'READY_TO_CREATE_EMAIL', 'READY', 'READY', 'READY', 1, now(), now(), "
                         "now() FROM generate_series(0, {}) g",
                         options_.background - 1)));
    pg::CopyText text;
    for (int i = 0; i < options_.background; ++i) {
      const CampaignId id = CampaignId::Parse(BackgroundId(i)).value();
      for (int k = 0; k < kBackgroundRows; ++k) {
        AddRecordValues(text, id, MakeListing(1'000'000 + i, k), kListingsTable);
        text.EndRow();
      }
    }
    DRIPR_TRY(CopyIn(admin_.get(), CopySql(), text.data()));
    background_rows_ = static_cast<int64_t>(text.rows());
    return Ok();
  }

  // The backends of the bench's sessions and of the store's pool (one connection: it is used
  // from one thread), when the server runs on this machine, so that their CPU time can be
  // read from /proc.
  Status FindServerProcesses() {
    const std::string_view host = PQhost(admin_.get()) == nullptr ? "" : PQhost(admin_.get());
    if (host != "127.0.0.1" && host != "localhost" && host != "::1" && !host.starts_with("/")) {
      return Ok();
    }
    DRIPR_ASSIGN_OR_RETURN(ResultPtr r, Run(admin_.get(),
                                            "SELECT pid FROM pg_stat_activity WHERE "
                                            "datname = current_database() AND "
                                            "backend_type = 'client backend'"));
    std::vector<int> pids;
    for (int row = 0; row < PQntuples(r.get()); ++row) {
      const int pid = std::atoi(PQgetvalue(r.get(), row, 0));
      std::ifstream comm(fmt::format("/proc/{}/comm", pid));
      std::string name;
      // Another machine's pid may exist here too, as some other program.
      if (!(comm >> name) || name != "postgres") return Ok();
      pids.push_back(pid);
    }
    server_pids_ = std::move(pids);
    return Ok();
  }

  const Options& options_;
  PostgresStore& store_;
  const std::string url_;
  ConnPtr admin_;  // background, VACUUM, checks and resets: nothing timed
  ConnPtr copy_;
  ConnPtr cas_;
  ConnPtr insert_;
  std::vector<int> server_pids_;
  int64_t background_rows_ = 0;
  std::vector<CampaignId> ids_;
  std::vector<int64_t> cycles_;
  std::vector<PartData> parts_;  // of the point being run, built before any timing
};

// The sweep's second point: 500 rows per campaign on a fifth of the campaigns (at least 10),
// so the row-by-row reference stays within seconds per pass.
std::vector<std::pair<int, int>> Points(const Options& o) {  // (campaigns, rows)
  std::vector<std::pair<int, int>> points = {{o.campaigns, o.rows}};
  if (o.sweep && o.rows != kMaxPartRows) {
    points.emplace_back(std::min(o.campaigns, std::max(10, o.campaigns / 5)), kMaxPartRows);
  }
  return points;
}

// Medians over a point's rounds, per variant.
struct Summary {
  std::vector<double> rows_per_s;  // median pass throughput
  std::vector<double> p50_ms;      // median campaign latency
  std::vector<double> p90_ms;
};

Summary Summarize(const PointResult& p) {
  Summary s;
  for (const Usage& u : p.usage) {
    s.rows_per_s.push_back(Median(u.rows_per_s));
    s.p50_ms.push_back(1000 * Quantile(u.latencies, 0.5));
    s.p90_ms.push_back(1000 * Quantile(u.latencies, 0.9));
  }
  return s;
}

// Key prefix of a variant in the RESULT line; the store's ratio is plain `ratio`.
std::string_view Key(Variant v) { return v == Variant::kCasCopy ? "cas" : Name(v); }

// Ratios are "as fast as bare COPY" factors (below 1: slower), from the median pass
// throughput and from the median campaign latency. Variant 1 is always copy.
void PrintResults(const std::vector<PointResult>& results, bool server_cpu_known) {
  fmt::print("\n{:30}{:^35}      campaign latency\n", "", "throughput of the passes");
  fmt::print("{:>5} {:>9}  {:<8}     {:>9}  {:>17}  {:>5}    {:>6} {:>6}  {:>5}\n", "rows",
             "campaigns", "variant", "rows/s", "min..max rows/s", "ratio", "p50 ms", "p90 ms",
             "ratio");
  for (const PointResult& p : results) {
    const Summary s = Summarize(p);
    for (size_t j = 0; j < p.variants.size(); ++j) {
      const auto [lo, hi] = std::ranges::minmax(p.usage[j].rows_per_s);
      fmt::print(
          "{:>5} {:>9}  {:<8}     {:>9.0f}  {:>8.0f}..{:<7.0f}  {:>5.2f}    {:>6.3f} {:>6.3f}  "
          "{:>5.2f}\n",
          p.rows, p.campaigns, Name(p.variants[j]), s.rows_per_s[j], lo, hi,
          s.rows_per_s[j] / s.rows_per_s[1], s.p50_ms[j], s.p90_ms[j], s.p50_ms[1] / s.p50_ms[j]);
    }
  }

  fmt::print(
      "rows/s: median over the passes; ratio: against copy, 1 = as fast as the bare "
      "COPY, 0.5 = half as fast\n");

  // Where a campaign's wall time goes, from the scheduler's accounting: CPU time of this
  // thread and of the server backends, and time either spent runnable but waiting for a CPU
  // (the machine's other load). They do not add up to the wall time: the two sides overlap.
  fmt::print("\nper campaign, mean over the timed passes (us){}\n",
             server_cpu_known ? "" : "; server CPU unknown (server not on this machine)");
  fmt::print("{:>5}  {:<8} {:>9}  {:>10} {:>10}  {:>16}\n", "rows", "variant", "wall", "client cpu",
             "server cpu", "waiting for cpu");
  for (const PointResult& p : results) {
    for (size_t j = 0; j < p.variants.size(); ++j) {
      const Usage& u = p.usage[j];
      const double n = static_cast<double>(u.latencies.size());
      fmt::print("{:>5}  {:<8} {:>9.1f}  {:>10.1f} {:>10.1f}  {:>16.1f}\n", p.rows,
                 Name(p.variants[j]), 1e6 * u.wall_s / n, 1e6 * u.client.cpu_s / n,
                 1e6 * u.server.cpu_s / n, 1e6 * (u.client.queued_s + u.server.queued_s) / n);
    }
  }
  fmt::print("\n");
  for (const PointResult& p : results) {
    const Summary s = Summarize(p);
    std::string line = fmt::format("RESULT rows={} campaigns={} rounds={}", p.rows, p.campaigns,
                                   p.usage[0].rows_per_s.size());
    for (size_t j = 0; j < p.variants.size(); ++j) {
      line += fmt::format(" {}_rows_per_s={:.0f}", Key(p.variants[j]), s.rows_per_s[j]);
    }
    for (size_t j = 0; j < p.variants.size(); ++j) {
      if (j == 1) continue;
      const std::string prefix = j == 0 ? "" : std::string(Key(p.variants[j])) + "_";
      line += fmt::format(" {}ratio={:.3f} {}p50_ratio={:.3f}", prefix,
                          s.rows_per_s[j] / s.rows_per_s[1], prefix, s.p50_ms[1] / s.p50_ms[j]);
    }
    fmt::print("{}\n", line);
  }
}

// Everything that uses the scratch database; the store and the connection close on return.
Status RunAll(const Options& o, const std::string& url) {
  PostgresStoreOptions so;
  so.url = url;
  if (o.fan_in) so.required_parts = RequiredParts::Of({DataPart::kActiveListings});
  DRIPR_ASSIGN_OR_RETURN(std::unique_ptr<PostgresStore> store, PostgresStore::Open(so));
  DRIPR_TRY(store->Migrate());

  const auto points = Points(o);
  int campaigns = 0;
  for (const auto& pt : points) campaigns = std::max(campaigns, pt.first);
  Bench bench(o, *store, url);
  DRIPR_TRY(bench.Setup(campaigns));

  std::vector<PointResult> results;
  for (const auto& [n, rows] : points) {
    fmt::print(stderr, "part_rows_bench: {} campaigns x {} rows, {} rounds...\n", n, rows,
               o.rounds);
    DRIPR_ASSIGN_OR_RETURN(PointResult r, bench.RunPoint(n, rows));
    results.push_back(std::move(r));
  }
  PrintResults(results, bench.server_cpu_known());
  return Ok();
}

int Main(int argc, char** argv) {
  std::optional<Options> o = ParseArgs(argc, argv);
  if (!o) return 2;
  const char* env = std::getenv("DRIPR_BENCH_PG_URL");
  if (env == nullptr || *env == '\0') env = std::getenv("DRIPR_TEST_PG_URL");
  if (env == nullptr || *env == '\0') {
    fmt::print(stderr,
               "part_rows_bench: set DRIPR_BENCH_PG_URL (or DRIPR_TEST_PG_URL) to a PostgreSQL "
               "URL, or run scripts/run-bench.sh\n");
    return 2;
  }
  const std::string admin_url = env;

  std::string command;
  for (int i = 0; i < argc; ++i) command += (i > 0 ? " " : "") + ShellQuote(argv[i]);

  auto admin = Connect(admin_url);
  if (!admin) {
    fmt::print(stderr, "part_rows_bench: {}\n", admin.error().ToString());
    return 1;
  }
  auto setting = [&](const char* name) {
    auto v = QueryOne(admin->get(), std::string("SHOW ") + name);
    return v ? *v : "?";
  };
  fmt::print("command:  {}\n", command);
  fmt::print("server:   PostgreSQL {} at {}:{} (fsync={}, synchronous_commit={})\n",
             setting("server_version"), PQhost(admin->get()), PQport(admin->get()),
             setting("fsync"), setting("synchronous_commit"));
  fmt::print(
      "workload: one client thread, one transaction per campaign, one session per variant; "
      "{} background campaigns x {} rows in the tables; {} timed rounds (after 1 warm-up), "
      "interleaved in shuffled order{}\n",
      o->background, kBackgroundRows, o->rounds,
      o->fan_in ? "; --fan-in: every CompletePart also writes an outbox row" : "");
  fmt::print(
      "variants: store = PostgresStore::CompletePart; copy = DELETE + COPY (bare libpq); "
      "cas+copy = copy + the store's row lock and compare-and-set UPDATE; insert = DELETE + "
      "one INSERT per row\n");
  std::fflush(stdout);

  std::signal(SIGINT, OnSignal);
  std::signal(SIGTERM, OnSignal);
  const std::string db = "dripr_bench_" + std::to_string(::getpid());
  if (auto made = Exec(admin->get(), "CREATE DATABASE " + db); !made) {
    fmt::print(stderr, "part_rows_bench: {}\n", made.error().ToString());
    return 1;
  }
  admin->reset();  // the run may take a while; the drop below connects afresh

  Status run = RunAll(*o, UrlForDatabase(admin_url, db));

  Status dropped = [&]() -> Status {
    DRIPR_ASSIGN_OR_RETURN(ConnPtr c, Connect(admin_url));
    return Exec(c.get(), "DROP DATABASE IF EXISTS " + db + " WITH (FORCE)");
  }();
  if (!dropped) {
    fmt::print(stderr, "part_rows_bench: could not drop database {}: {}\n", db,
               dropped.error().ToString());
  }
  if (!run) {
    fmt::print(stderr, "part_rows_bench: {}\n", run.error().ToString());
    return g_interrupted ? 130 : 1;
  }
  return dropped ? 0 : 1;
}

}  // namespace
}  // namespace dripr

int main(int argc, char** argv) { return dripr::Main(argc, argv); }
