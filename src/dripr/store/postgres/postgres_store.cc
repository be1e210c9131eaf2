// PostgresStore: opening, retries, migrations, campaigns and transitions. Part rows, market
// data and zip codes are in postgres_store_data.cc; the outbox is in postgres_outbox.cc.

#include "dripr/store/postgres/postgres_store.h"

#include <cmath>

#include "dripr/core/log.h"
#include "dripr/core/random.h"
#include "dripr/core/time.h"
#include "dripr/store/migrations/migrations.h"
#include "dripr/store/postgres/pg_rows.h"
#include "dripr/store/store_common.h"

namespace dripr {

using pg::Connection;
using pg::Params;
using pg::Rows;

PostgresStore::PostgresStore(PostgresStoreOptions options, const Clock* clock)
    : StoreBase(options.required_parts, options.outbox_poll_interval, options.ticker),
      options_(std::move(options)),
      clock_(clock),
      pool_(options_.url, options_.pool_size, options_.connect_timeout, options_.acquire_timeout,
            options_.ticker) {}

Result<std::unique_ptr<PostgresStore>> PostgresStore::Open(PostgresStoreOptions options) {
  if (options.url.empty()) return Fail(ErrorCode::kInvalidArgument, "PostgreSQL URL is empty");
  const Clock* clock = options.clock != nullptr ? options.clock : &SystemClock::Instance();
  std::unique_ptr<PostgresStore> store(new PostgresStore(std::move(options), clock));
  auto lease = store->pool_.Acquire();
  if (!lease) return Fail(lease.error());
  return store;
}

PostgresStore::~PostgresStore() {
  stop_ = true;
  if (listener_.joinable()) listener_.join();
}

SysTime PostgresStore::Now() const { return TruncateToMillis(clock_->Now()); }

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

Status PostgresStore::Run(std::string_view what, bool transaction, const Work& fn) {
  Ticker& t = ticker();
  const auto deadline = t.Now() + options_.retry_deadline;
  for (int attempt = 1;; ++attempt) {
    Status st = [&]() -> Status {
      DRIPR_ASSIGN_OR_RETURN(auto lease, pool_.Acquire());
      if (!transaction) return fn(*lease);
      DRIPR_TRY(lease->ExecScript("BEGIN"));
      Status body = fn(*lease);
      if (body) body = lease->ExecScript("COMMIT");
      // After a failure the pool closes a connection still inside a transaction, so a failed
      // ROLLBACK (e.g. the connection is gone) needs no handling here.
      if (!body && lease->Healthy() && !lease->Idle()) (void)lease->ExecScript("ROLLBACK");
      return body;
    }();
    if (st) return st;
    const auto wait = Backoff(attempt);
    // Permanent errors are the caller's answer as they are (e.g. "campaign X already
    // exists"); transient ones that outlived the deadline say what was being done.
    if (!Transient(st.error())) return st;
    if (t.Now() + wait > deadline) return Fail(st.error().Wrap(what));
    if (attempt == 1 || attempt % 10 == 0) {
      DRIPR_LOG_DEBUG("postgres: {}: {} (retrying)", what, st.error().ToString());
    }
    t.SleepFor(wait);
  }
}

// ---- Migrations ----

int PostgresStore::LatestSchemaVersion() const { return kLatestSchemaVersion; }

namespace {

Result<int> ReadSchemaVersion(Connection& c) {
  DRIPR_ASSIGN_OR_RETURN(Rows exists,
                         c.Exec("SELECT to_regclass('schema_migrations') IS NOT NULL"));
  if (exists.Text(0, 0) != "t") return 0;
  DRIPR_ASSIGN_OR_RETURN(Rows v, c.Exec("SELECT coalesce(max(version), 0) FROM schema_migrations"));
  return static_cast<int>(v.Int(0, 0));
}

}  // namespace

Result<int> PostgresStore::SchemaVersion() {
  int version = 0;
  DRIPR_TRY(Read("read schema version", [&](Connection& c) -> Status {
    DRIPR_ASSIGN_OR_RETURN(version, ReadSchemaVersion(c));
    return Ok();
  }));
  return version;
}

Status PostgresStore::Migrate() {
  const std::string applied_at = pg::TimeParam(Now());
  return InTransaction("migrate", [&](Connection& c) -> Status {
    // Several processes may migrate at once: one at a time, the others then find it done.
    DRIPR_TRY(c.Exec("SELECT pg_advisory_xact_lock(7262430001)"));
    DRIPR_TRY(
        c.ExecScript("CREATE TABLE IF NOT EXISTS schema_migrations ("
                     "version integer PRIMARY KEY, applied_at timestamptz NOT NULL)"));
    DRIPR_ASSIGN_OR_RETURN(int current, ReadSchemaVersion(c));
    if (current > kLatestSchemaVersion) {
      return Fail(ErrorCode::kFailedPrecondition,
                  "database schema version " + std::to_string(current) +
                      " is newer than this dripr binary supports (" +
                      std::to_string(kLatestSchemaVersion) + "); use a newer dripr");
    }
    for (const Migration& m : PostgresMigrations()) {
      if (m.version <= current) continue;
      auto applied = c.ExecScript(m.sql);
      if (!applied) {
        return Fail(applied.error().Wrap("migration " + std::to_string(m.version) + " (" +
                                         std::string(m.name) + ")"));
      }
      DRIPR_TRY(
          c.Exec("INSERT INTO schema_migrations (version, applied_at) "
                 "VALUES ($1, $2::timestamptz)",
                 Params().Int(m.version).Text(applied_at)));
    }
    return Ok();
  });
}

// ---- Campaigns ----

Result<Campaign> PostgresStore::GetCampaign(const std::string& id) {
  Campaign out;
  DRIPR_TRY(Read("get campaign", [&](Connection& c) -> Status {
    DRIPR_ASSIGN_OR_RETURN(out, pg::LoadCampaign(c, id, /*lock=*/false));
    return Ok();
  }));
  return out;
}

namespace {
const CampaignSqlDialect kCampaignSql{
    pg::kCampaignColumns, [](int n) { return "$" + std::to_string(n); }, " COLLATE \"C\""};
}  // namespace

Result<std::vector<Campaign>> PostgresStore::SelectCampaigns(
    const std::string& sql, const std::vector<std::string>& params) {
  std::vector<Campaign> out;
  DRIPR_TRY(Read("list campaigns", [&](Connection& c) -> Status {
    out.clear();
    Params p;
    for (const auto& t : params) p.Text(t);
    DRIPR_ASSIGN_OR_RETURN(Rows rows, c.Exec(sql, p));
    for (int i = 0; i < rows.size(); ++i) {
      DRIPR_ASSIGN_OR_RETURN(Campaign campaign, pg::ReadCampaign(rows, i));
      out.push_back(std::move(campaign));
    }
    return Ok();
  }));
  return out;
}

Result<std::vector<Campaign>> PostgresStore::ListCampaigns(std::optional<CampaignStatus> status) {
  std::vector<std::string> params;
  const std::string sql = CampaignListSql(status, kCampaignSql, params);
  return SelectCampaigns(sql, params);
}

Result<std::vector<Campaign>> PostgresStore::ListCampaignsPage(const CampaignPageQuery& q) {
  std::vector<std::string> params;
  const std::string sql = CampaignPageSql(q, kCampaignSql, params);
  return SelectCampaigns(sql, params);
}

Result<std::optional<PropertyData>> PostgresStore::GetProperty(const std::string& campaign_id) {
  std::optional<PropertyData> out;
  DRIPR_TRY(Read("get property", [&](Connection& c) -> Status {
    out.reset();
    DRIPR_TRY(pg::LoadCampaign(c, campaign_id, /*lock=*/false));
    DRIPR_ASSIGN_OR_RETURN(Rows rows, c.Exec("SELECT formatted_address, latitude, longitude, "
                                             "current_value FROM property_data WHERE "
                                             "campaign_id = $1",
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

class PostgresStore::Tx final : public TransitionTx {
 public:
  Tx(PostgresStore& store, Connection& c) : store_(store), c_(c) {}

  Status InsertCampaign(const Campaign& row, const std::optional<PropertyData>& property) override {
    Params p;
    p.Text(row.id).TextOrNull(row.user_id).Text(row.zip_code);
    p.Int(row.no_address_newsletter ? 1 : 0).Text(ToString(row.status));
    for (DataPart part : kAllDataParts) p.Text(ToString(row.part(part)));
    p.Int(row.data_cycle).TextOrNull(row.error_text).Text(pg::TimeParam(row.created_at));
    auto inserted = c_.Exec(
        "INSERT INTO campaigns (id, user_id, zip_code, no_address_newsletter, "
        "campaign_status, local_market_data_status, active_listing_status, "
        "recent_sale_status, data_cycle, error_text, created_at, updated_at, "
        "status_changed_at, parts_changed_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, "
        "$10, $11::timestamptz, $11::timestamptz, $11::timestamptz, $11::timestamptz)",
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
                "longitude, current_value) VALUES ($1, $2, $3, $4, $5)",
                q));
    return Ok();
  }

  Result<Campaign> LockCampaign(const std::string& id) override {
    return pg::LoadCampaign(c_, id, /*lock=*/true);
  }

  Result<int64_t> CompareAndSet(const Campaign& current, const Campaign& next) override {
    Params p;
    p.Text(ToString(next.status));
    for (DataPart part : kAllDataParts) p.Text(ToString(next.part(part)));
    p.Int(next.data_cycle).TextOrNull(next.error_text);
    p.Text(pg::TimeParam(next.updated_at)).Text(pg::TimeParam(next.status_changed_at));
    p.Text(current.id).Text(ToString(current.status)).Int(current.data_cycle);
    for (DataPart part : kAllDataParts) p.Text(ToString(current.part(part)));
    p.Text(pg::TimeParam(next.parts_changed_at)).Int(next.republish_count).Int(next.restart_count);
    DRIPR_ASSIGN_OR_RETURN(
        Rows updated,
        c_.Exec("UPDATE campaigns SET campaign_status = $1, local_market_data_status = $2, "
                "active_listing_status = $3, recent_sale_status = $4, data_cycle = $5, "
                "error_text = $6, updated_at = $7::timestamptz, "
                "status_changed_at = $8::timestamptz, parts_changed_at = $15::timestamptz, "
                "republish_count = $16, restart_count = $17 WHERE id = $9 AND "
                "campaign_status = $10 AND data_cycle = $11 AND local_market_data_status = $12 "
                "AND active_listing_status = $13 AND recent_sale_status = $14",
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
  PostgresStore& store_;
  Connection& c_;
};

Status PostgresStore::InTransitionTransaction(std::string_view what, const TransitionBody& body) {
  return InTransaction(what, [&](Connection& c) -> Status {
    Tx tx(*this, c);
    return body(tx);
  });
}

}  // namespace dripr
