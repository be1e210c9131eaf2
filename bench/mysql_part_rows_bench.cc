// mysql_part_rows_bench: how fast MysqlStore replaces a campaign part's rows, batched
// multi-row INSERTs (what the store does) against one INSERT per row, measured in the same
// run on the same server, the way part_rows_bench does it for PostgreSQL. Variants, each one
// transaction per campaign, interleaved round by round (the median round is reported):
//   store       MysqlStore::CompletePart (row lock, compare-and-set, DELETE + batched INSERTs)
//   batched     DELETE + batched multi-row INSERTs of the same rows, nothing else
//   row-by-row  DELETE + one prepared INSERT per row, same transaction shape
//
// It creates a throw-away database dripr_bench_<pid> on the server of DRIPR_BENCH_MYSQL_URL
// (else DRIPR_TEST_MYSQL_URL) and drops it at the end. See docs/benchmarks.md.
//   (source scripts/test-servers.sh; trap stop_test_servers EXIT; start_mariadb;
//    build/bench/mysql_part_rows_bench --campaigns 200 --rows 25)

#include <fmt/format.h>
#include <mysql.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <string>
#include <vector>

#include "bench_args.h"
#include "dripr/store/mysql/mysql_store.h"

namespace dripr {
namespace {

using SteadyClock = std::chrono::steady_clock;

// Runs one statement on a plain session of `url` (database create/drop, status resets).
bool Exec(const my::Url& u, const std::string& database, const std::string& sql) {
  MYSQL* c = mysql_init(nullptr);
  bool ok = mysql_real_connect(c, u.host.c_str(), u.user.c_str(), u.password.c_str(),
                               database.empty() ? nullptr : database.c_str(), u.port, nullptr,
                               0) != nullptr &&
            mysql_query(c, sql.c_str()) == 0;
  if (!ok) fmt::print(stderr, "mysql_part_rows_bench: {}\n", mysql_error(c));
  mysql_close(c);
  return ok;
}

RankedRecord Listing(int campaign, int k) {
  RankedRecord r;
  r.rank = k + 1;
  r.score = 1.0 / (k + 1);
  r.distance_miles = 0.1 * k;
  PropertyRecord& p = r.record;
  p.source_id = fmt::format("src-{}-{}", campaign, k);
  p.formatted_address = fmt::format("{} Main St, Cambridge, MA 02139", 100 + k);
  p.address_line1 = fmt::format("{} Main St", 100 + k);
  p.city = "Cambridge";
  p.state = "MA";
  p.zip_code = "02139";
  p.location = GeoPoint{42.36 + 0.001 * k, -71.1 - 0.001 * k};
  p.property_type = "Single Family";
  p.bedrooms = 3;
  p.bathrooms = 2.5;
  p.square_footage = 1800 + k;
  p.price = 750000 + 1000 * k;
  p.event_date = "2026-10-01";
  p.days_on_market = k;
  return r;
}

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

int Main(int argc, char** argv) {
  int campaigns = 200, rows = 25, rounds = 5;
  bench::Args args;
  args.Int("--campaigns", &campaigns, 1, 100000);
  args.Int("--rows", &rows, 1, 500);
  args.Int("--rounds", &rounds, 1, 100);
  if (std::string why = args.Parse(argc, argv); !why.empty()) {
    return bench::UsageError("mysql_part_rows_bench", why,
                             "usage: mysql_part_rows_bench [--campaigns N] [--rows N (1-500)] "
                             "[--rounds N]\nMySQL: DRIPR_BENCH_MYSQL_URL, else "
                             "DRIPR_TEST_MYSQL_URL\n");
  }
  const char* env = std::getenv("DRIPR_BENCH_MYSQL_URL");
  if (env == nullptr) env = std::getenv("DRIPR_TEST_MYSQL_URL");
  if (env == nullptr) {
    fmt::print(stderr,
               "mysql_part_rows_bench: set DRIPR_BENCH_MYSQL_URL or DRIPR_TEST_MYSQL_URL\n");
    return 2;
  }
  auto url = my::Url::Parse(env);
  if (!url) {
    fmt::print(stderr, "mysql_part_rows_bench: {}\n", url.error().ToString());
    return 2;
  }
  const std::string db = fmt::format("dripr_bench_{}", ::getpid());
  if (!Exec(*url, "", "CREATE DATABASE " + db)) return 1;
  int rc = 1;
  {
    std::string store_url = std::string(env);
    store_url = store_url.substr(0, store_url.find('/', store_url.find("://") + 3)) + "/" + db;
    MysqlStoreOptions o;
    o.url = store_url;
    o.pool_size = 1;  // one session: per-connection throughput, as one handler slot sees it
    auto store = MysqlStore::Open(o);
    if (!store || !(*store)->Migrate()) {
      fmt::print(stderr, "mysql_part_rows_bench: cannot open or migrate {}\n", db);
    } else {
      MysqlStore& s = **store;
      std::vector<std::vector<RankedRecord>> data(campaigns);
      // "bench-00001": always a valid id.
      auto IdOf = [](int c) { return CampaignId::Parse(fmt::format("bench-{:05}", c)).value(); };
      bool ok = true;
      for (int c = 0; c < campaigns && ok; ++c) {
        NewCampaign n;
        n.id = fmt::format("bench-{:05}", c);
        n.zip_code = "02139";
        ok = s.CreateCampaign(n) && s.StartCampaign(IdOf(c));
        for (int k = 0; k < rows; ++k) data[c].push_back(Listing(c, k));
      }
      std::vector<double> store_ms, batched_ms, single_ms;
      for (int round = 0; round < rounds && ok; ++round) {
        ok = Exec(*url, db, "UPDATE campaigns SET active_listing_status = 'WAITING_FOR_DATA'");
        auto t0 = SteadyClock::now();
        for (int c = 0; c < campaigns && ok; ++c) {
          auto r = s.CompletePart(IdOf(c), 1,
                                  PartData{DataPart::kActiveListings, data[c], std::nullopt});
          ok = r && r->changed;
        }
        auto t1 = SteadyClock::now();
        for (int c = 0; c < campaigns && ok; ++c) {
          ok = s.ReplaceRecordsForBench(IdOf(c), DataPart::kActiveListings, data[c],
                                        /*row_by_row=*/false)
                   .has_value();
        }
        auto t2 = SteadyClock::now();
        for (int c = 0; c < campaigns && ok; ++c) {
          ok = s.ReplaceRecordsForBench(IdOf(c), DataPart::kActiveListings, data[c],
                                        /*row_by_row=*/true)
                   .has_value();
        }
        auto t3 = SteadyClock::now();
        auto per = [&](auto a, auto b) {
          return std::chrono::duration<double, std::milli>(b - a).count() / campaigns;
        };
        store_ms.push_back(per(t0, t1));
        batched_ms.push_back(per(t1, t2));
        single_ms.push_back(per(t2, t3));
      }
      if (ok) {
        double st = Median(store_ms), b = Median(batched_ms), r = Median(single_ms);
        fmt::print("campaigns {}  rows/campaign {}  rounds {} (median round, ms per campaign)\n",
                   campaigns, rows, rounds);
        fmt::print("  store (CompletePart)  {:8.3f} ms\n", st);
        fmt::print("  batched INSERTs       {:8.3f} ms\n", b);
        fmt::print("  row-by-row INSERTs    {:8.3f} ms\n", r);
        fmt::print("  row-by-row / batched  {:8.2f}x\n", r / b);
        rc = 0;
      } else {
        fmt::print(stderr, "mysql_part_rows_bench: a timed call failed\n");
      }
    }
  }
  Exec(*url, "", "DROP DATABASE IF EXISTS " + db);
  return rc;
}

}  // namespace
}  // namespace dripr

int main(int argc, char** argv) { return dripr::Main(argc, argv); }
