// MysqlStore: opening, retries, migrations, campaigns and the transition statements. Part
// rows, market data and zip codes are in mysql_store_data.cc; the outbox is in
// mysql_outbox.cc.

#include "dripr/store/mysql/mysql_store.h"

#include <cmath>

#include "dripr/core/log.h"
#include "dripr/core/random.h"
#include "dripr/store/migrations/migrations.h"
#include "dripr/store/mysql/my_rows.h"
#include "dripr/store/store_common.h"

namespace dripr {

using my::Connection;
using my::Params;
using my::Rows;

MysqlStore::MysqlStore(MysqlStoreOptions options, my::Url url, const Clock* clock)
    : StoreBase(options.required_parts, options.outbox_poll_interval),
      options_(std::move(options)),
      clock_(clock),
      pool_(std::move(url), options_.pool_size, options_.connect_timeout,
            options_.acquire_timeout) {}

Result<std::unique_ptr<MysqlStore>> MysqlStore::Open(MysqlStoreOptions options) {
  DRIPR_ASSIGN_OR_RETURN(my::Url url, my::Url::Parse(options.url));
  const Clock* clock = options.clock != nullptr ? options.clock : &SystemClock::Instance();
  std::unique_ptr<MysqlStore> store(new MysqlStore(std::move(options), std::move(url), clock));
  auto lease = store->pool_.Acquire();
  if (!lease) return Fail(lease.error());
  return store;
}

SysTime MysqlStore::Now() const { return TruncateToMillis(clock_->Now()); }

namespace {

bool Transient(const Error& e) {
  return e.code == ErrorCode::kAborted || e.code == ErrorCode::kUnavailable;
}

std::chrono::milliseconds Backoff(int attempt) {
  int64_t cap = std::min<int64_t>(1000, int64_t{20} << std::min(attempt, 6));
  const auto half = static_cast<double>(cap) / 2;
  return std::chrono::milliseconds(std::llround(SystemRandom().Uniform(half, half * 2)));
}

}  // namespace

Status MysqlStore::Run(std::string_view what, bool transaction, const Work& fn) {
  Ticker& t = ticker();
  const auto deadline = t.Now() + options_.retry_deadline;
  for (int attempt = 1;; ++attempt) {
    Status st = [&]() -> Status {
      DRIPR_ASSIGN_OR_RETURN(auto lease, pool_.Acquire());
      if (!transaction) return fn(*lease);
      DRIPR_TRY(lease->Query("START TRANSACTION"));
      Status body = fn(*lease);
      if (body) body = lease->Query("COMMIT");
      // A connection whose ROLLBACK fails is not reused (its session state is unknown).
      if (!body && lease->Healthy() && !lease->Query("ROLLBACK")) lease->MarkBroken();
      return body;
    }();
    if (st) return st;
    const auto wait = Backoff(attempt);
    // Permanent errors are the caller's answer as they are; transient ones that outlived
    // the deadline say what was being done.
    if (!Transient(st.error())) return st;
    if (t.Now() + wait > deadline) return Fail(st.error().Wrap(what));
    if (attempt == 1 || attempt % 10 == 0) {
      DRIPR_LOG_DEBUG("mysql: {}: {} (retrying)", what, st.error().ToString());
    }
    t.SleepFor(wait);
  }
}

// ---- Migrations ----

int MysqlStore::LatestSchemaVersion() const { return kLatestSchemaVersion; }

namespace {

Result<int> ReadSchemaVersion(Connection& c) {
  DRIPR_ASSIGN_OR_RETURN(Rows exists,
                         c.Exec("SELECT COUNT(*) FROM information_schema.tables WHERE "
                                "table_schema = DATABASE() AND table_name = 'schema_migrations'"));
  if (exists.Int(0, 0) == 0) return 0;
  DRIPR_ASSIGN_OR_RETURN(Rows v, c.Exec("SELECT COALESCE(MAX(version), 0) FROM schema_migrations"));
  return static_cast<int>(v.Int(0, 0));
}

// A migration's statements: separated by ';' at the end of a line.
std::vector<std::string> Statements(std::string_view sql) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start < sql.size()) {
    size_t end = sql.find(";\n", start);
    if (end == std::string_view::npos) end = sql.size();
    std::string s(sql.substr(start, end - start));
    if (s.find_first_not_of(" \n\t") != std::string::npos) out.push_back(std::move(s));
    start = end + 2;
  }
  return out;
}

// Named locks are server-wide: the database's name is part of the lock's (hashed, since a
// name is at most 64 characters), so databases on one server do not wait for each other.
constexpr std::string_view kMigrateLock = "dripr_migrate_";

}  // namespace

Result<int> MysqlStore::SchemaVersion() {
  int version = 0;
  DRIPR_TRY(Read("read schema version", [&](Connection& c) -> Status {
    DRIPR_ASSIGN_OR_RETURN(version, ReadSchemaVersion(c));
    return Ok();
  }));
  return version;
}

Status MysqlStore::Migrate() {
  // DDL commits implicitly in MySQL, so migrations cannot share one transaction; a named
  // lock (held by this session) makes concurrent `dripr migrate` runs take turns, and the
  // second finds the work done.
  return Read("migrate", [&](Connection& c) -> Status {
    DRIPR_ASSIGN_OR_RETURN(Rows locked, c.Exec("SELECT GET_LOCK(CONCAT(?, MD5(DATABASE())), 60)",
                                               Params().Text(kMigrateLock)));
    if (locked.Int(0, 0) != 1) {
      return Fail(ErrorCode::kUnavailable,
                  "another `dripr migrate` has held the migration lock for 60 s");
    }
    Status st = [&]() -> Status {
      DRIPR_TRY(
          c.Query("CREATE TABLE IF NOT EXISTS schema_migrations (version INT NOT NULL "
                  "PRIMARY KEY, applied_at DATETIME(6) NOT NULL) ENGINE=InnoDB DEFAULT "
                  "CHARSET=utf8mb4 COLLATE=utf8mb4_bin"));
      DRIPR_ASSIGN_OR_RETURN(int current, ReadSchemaVersion(c));
      if (current > kLatestSchemaVersion) {
        return Fail(ErrorCode::kFailedPrecondition,
                    "database schema version " + std::to_string(current) +
                        " is newer than this dripr binary supports (" +
                        std::to_string(kLatestSchemaVersion) + "); use a newer dripr");
      }
      for (const Migration& m : MysqlMigrations()) {
        if (m.version <= current) continue;
        for (const std::string& statement : Statements(m.sql)) {
          auto applied = c.Query(statement);
          if (!applied) {
            return Fail(applied.error().Wrap("migration " + std::to_string(m.version) + " (" +
                                             std::string(m.name) + ")"));
          }
        }
        DRIPR_TRY(c.Exec("INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)",
                         Params().Int(m.version).Time(Now())));
      }
      return Ok();
    }();
    auto released =
        c.Exec("SELECT RELEASE_LOCK(CONCAT(?, MD5(DATABASE())))", Params().Text(kMigrateLock));
    if (!released) c.MarkBroken();  // closing the session releases the lock
    return st;
  });
}

// ---- Campaigns ----

Result<Campaign> MysqlStore::GetCampaign(const std::string& id) {
  Campaign out;
  DRIPR_TRY(Read("get campaign", [&](Connection& c) -> Status {
    DRIPR_ASSIGN_OR_RETURN(out, my::LoadCampaign(c, id, /*lock=*/false));
    return Ok();
  }));
  return out;
}

namespace {
const CampaignSqlDialect kCampaignSql{my::kCampaignColumns, [](int) { return std::string("?"); },
                                      ""};
}  // namespace

Result<std::vector<Campaign>> MysqlStore::SelectCampaigns(const std::string& sql,
                                                          const std::vector<std::string>& params) {
  std::vector<Campaign> out;
  DRIPR_TRY(Read("list campaigns", [&](Connection& c) -> Status {
    out.clear();
    Params p;
    for (const auto& t : params) p.Text(t);
    DRIPR_ASSIGN_OR_RETURN(Rows rows, c.Exec(sql, p));
    for (int i = 0; i < rows.size(); ++i) {
      DRIPR_ASSIGN_OR_RETURN(Campaign campaign, my::ReadCampaign(rows, i));
      out.push_back(std::move(campaign));
    }
    return Ok();
  }));
  return out;
}

Result<std::vector<Campaign>> MysqlStore::ListCampaigns(std::optional<CampaignStatus> status) {
  std::vector<std::string> params;
  const std::string sql = CampaignListSql(status, kCampaignSql, params);
  return SelectCampaigns(sql, params);
}

Result<std::vector<Campaign>> MysqlStore::ListCampaignsPage(const CampaignPageQuery& q) {
  std::vector<std::string> params;
  const std::string sql = CampaignPageSql(q, kCampaignSql, params);
  return SelectCampaigns(sql, params);
}

Result<std::optional<PropertyData>> MysqlStore::GetProperty(const std::string& campaign_id) {
  std::optional<PropertyData> out;
  DRIPR_TRY(Read("get property", [&](Connection& c) -> Status {
    out.reset();
    DRIPR_TRY(my::LoadCampaign(c, campaign_id, /*lock=*/false));
    DRIPR_ASSIGN_OR_RETURN(Rows rows, c.Exec("SELECT formatted_address, latitude, longitude, "
                                             "current_value FROM property_data WHERE "
                                             "campaign_id = ?",
                                             Params().Text(campaign_id)));
    if (rows.empty()) return Ok();
    PropertyData p;
    p.formatted_address = rows.Text(0, 0);
    p.location = GeoPoint{rows.Real(0, 1), rows.Real(0, 2)};
    p.current_value = rows.OptInt(0, 3);
    out = std::move(p);
    return Ok();
  }));
  return out;
}

// ---- Transitions (the algorithm is StoreBase::RunTransition) ----

class MysqlStore::Tx final : public TransitionTx {
 public:
  Tx(MysqlStore& store, Connection& c) : store_(store), c_(c) {}

  Status InsertCampaign(const Campaign& row, const std::optional<PropertyData>& property) override {
    Params p;
    p.Text(row.id).TextOrNull(row.user_id).Text(row.zip_code);
    p.Int(row.no_address_newsletter ? 1 : 0).Text(ToString(row.status));
    for (DataPart part : kAllDataParts) p.Text(ToString(row.part(part)));
    p.Int(row.data_cycle).TextOrNull(row.error_text);
    p.Time(row.created_at).Time(row.updated_at).Time(row.status_changed_at);
    p.Time(row.parts_changed_at);
    auto inserted = c_.Exec(
        "INSERT INTO campaigns (id, user_id, zip_code, no_address_newsletter, "
        "campaign_status, local_market_data_status, active_listing_status, "
        "recent_sale_status, data_cycle, error_text, created_at, updated_at, "
        "status_changed_at, parts_changed_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        p);
    if (!inserted) {
      if (inserted.error().code == ErrorCode::kAlreadyExists) {
        return Fail(ErrorCode::kAlreadyExists, "campaign " + row.id + " already exists");
      }
      return Fail(inserted.error());
    }
    if (!property) return Ok();
    Params q;
    q.Text(row.id).TextOrNull(property->formatted_address);
    q.Real(property->location.lat).Real(property->location.lng);
    q.OptInt(property->current_value);
    DRIPR_TRY(
        c_.Exec("INSERT INTO property_data (campaign_id, formatted_address, latitude, "
                "longitude, current_value) VALUES (?, ?, ?, ?, ?)",
                q));
    return Ok();
  }

  Result<Campaign> LockCampaign(const std::string& id) override {
    return my::LoadCampaign(c_, id, /*lock=*/true);
  }

  Result<int64_t> CompareAndSet(const Campaign& current, const Campaign& next) override {
    Params p;
    p.Text(ToString(next.status));
    for (DataPart part : kAllDataParts) p.Text(ToString(next.part(part)));
    p.Int(next.data_cycle).TextOrNull(next.error_text);
    p.Time(next.updated_at).Time(next.status_changed_at).Time(next.parts_changed_at);
    p.Int(next.republish_count).Int(next.restart_count);
    p.Text(current.id).Text(ToString(current.status)).Int(current.data_cycle);
    for (DataPart part : kAllDataParts) p.Text(ToString(current.part(part)));
    DRIPR_ASSIGN_OR_RETURN(
        Rows updated,
        c_.Exec("UPDATE campaigns SET campaign_status = ?, local_market_data_status = ?, "
                "active_listing_status = ?, recent_sale_status = ?, data_cycle = ?, "
                "error_text = ?, updated_at = ?, status_changed_at = ?, parts_changed_at = ?, "
                "republish_count = ?, restart_count = ? WHERE id = ? AND "
                "campaign_status = ? AND data_cycle = ? AND local_market_data_status = ? AND "
                "active_listing_status = ? AND recent_sale_status = ?",
                p));
    return updated.Affected();
  }

  Status ReplaceRecords(const std::string& campaign_id, DataPart part,
                        const std::vector<RankedRecord>& records) override {
    return store_.ReplaceRecords(c_, campaign_id, part, records);
  }
  Status InsertMarketData(const MarketData& m, SysTime now) override {
    return store_.InsertMarketData(c_, m, now);
  }
  Status InsertOutboxEvent(const StatusChangeEvent& e, SysTime now) override {
    return store_.InsertOutboxEvent(c_, e, now);
  }

 private:
  MysqlStore& store_;
  Connection& c_;
};

Status MysqlStore::InTransitionTransaction(std::string_view what, const TransitionBody& body) {
  return InTransaction(what, [&](Connection& c) -> Status {
    Tx tx(*this, c);
    return body(tx);
  });
}

}  // namespace dripr
