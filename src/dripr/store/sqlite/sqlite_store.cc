// SqliteStore: opening, migrations, campaigns and transitions. Part rows, market data and zip
// codes are in sqlite_store_data.cc; the outbox is in sqlite_outbox.cc.

#include "dripr/store/sqlite/sqlite_store.h"

#include "dripr/core/time.h"
#include "dripr/store/migrations/migrations.h"
#include "dripr/store/sqlite/sqlite_rows.h"
#include "dripr/store/store_common.h"

namespace dripr {

using sqlite::Connection;

Result<std::unique_ptr<SqliteStore>> SqliteStore::Open(SqliteStoreOptions options) {
  if (options.path.empty()) {
    return Fail(ErrorCode::kInvalidArgument, "sqlite database path is empty");
  }
  if (options.path == ":memory:" || options.path.starts_with("file::memory:")) {
    return Fail(ErrorCode::kInvalidArgument,
                "sqlite in-memory databases are not supported (each connection would see its "
                "own database); use a file path");
  }
  const Clock* clock = options.clock != nullptr ? options.clock : &SystemClock::Instance();
  std::unique_ptr<SqliteStore> store(new SqliteStore(std::move(options), clock));
  // Open one connection now so a bad path fails here rather than on first use.
  auto lease = store->pool_.Acquire();
  if (!lease) return Fail(lease.error());
  if (store->options_.quick_check) DRIPR_TRY((*lease)->QuickCheck());
  auto writer = sqlite::Writer::For(store->options_.path, store->options_.busy_timeout);
  if (!writer) return Fail(writer.error());
  store->writer_ = std::move(*writer);
  store->JoinOutboxHub();
  return store;
}

void SqliteStore::BeforeOutboxWait() {
  others_commits_.StartOnce(writer_, "sqlite store", "outbox rows", options_.outbox_poll_interval,
                            [this] { RecheckOutbox(); });
}

SysTime SqliteStore::Now() const { return TruncateToMillis(clock_->Now()); }

Status SqliteStore::InWriteTransaction(std::string_view what,
                                       const std::function<Status(Connection&)>& fn,
                                       sqlite::Writer::Carry carry) {
  return writer_->InWriteTransaction(what, fn, carry);
}

// ---- Migrations ----

int SqliteStore::LatestSchemaVersion() const { return kLatestSchemaVersion; }

namespace {

constexpr std::string_view kCreateSchemaMigrations =
    "CREATE TABLE IF NOT EXISTS schema_migrations ("
    "version INTEGER PRIMARY KEY, applied_at TEXT NOT NULL)";

Result<int> ReadSchemaVersion(Connection& c) {
  DRIPR_ASSIGN_OR_RETURN(auto exists,
                         c.Prepare("SELECT count(*) FROM sqlite_master WHERE type = 'table' "
                                   "AND name = 'schema_migrations'"));
  DRIPR_TRY(exists.Step());
  if (exists.Int(0) == 0) return 0;
  DRIPR_ASSIGN_OR_RETURN(auto s,
                         c.Prepare("SELECT coalesce(max(version), 0) FROM schema_migrations"));
  DRIPR_TRY(s.Step());
  return static_cast<int>(s.Int(0));
}

}  // namespace

Result<int> SqliteStore::SchemaVersion() {
  DRIPR_ASSIGN_OR_RETURN(auto c, pool_.Acquire());
  auto v = ReadSchemaVersion(*c);
  if (!v) return Fail(v.error().Wrap("read schema version"));
  return *v;
}

Status SqliteStore::Migrate() {
  const std::string applied_at = FormatIso8601(Now());
  return InWriteTransaction("migrate", [&](Connection& c) -> Status {
    DRIPR_TRY(c.Exec(std::string(kCreateSchemaMigrations)));
    DRIPR_ASSIGN_OR_RETURN(int current, ReadSchemaVersion(c));
    return ApplyMigrations(
        current, SqliteMigrations(), [&](const Migration& m) { return c.Exec(std::string(m.sql)); },
        [&](const Migration& m) -> Status {
          DRIPR_ASSIGN_OR_RETURN(
              auto s,
              c.Prepare("INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)"));
          return s.BindInt(m.version).BindText(applied_at).Run();
        });
  });
}

// ---- Campaigns ----

Result<Campaign> SqliteStore::GetCampaign(const CampaignId& id) {
  DRIPR_ASSIGN_OR_RETURN(auto c, pool_.Acquire());
  return sqlite::LoadCampaign(*c, id);
}

namespace {
const CampaignSqlDialect kCampaignSql{sqlite::kCampaignColumns,
                                      [](int) { return std::string("?"); }, ""};
}  // namespace

Result<std::vector<Campaign>> SqliteStore::SelectCampaigns(const std::string& sql,
                                                           const std::vector<std::string>& params) {
  DRIPR_ASSIGN_OR_RETURN(auto c, pool_.Acquire());
  DRIPR_ASSIGN_OR_RETURN(auto s, c->Prepare(sql));
  for (const auto& p : params) s.BindText(p);
  std::vector<Campaign> out;
  DRIPR_TRY(s.ForEachRow([&](sqlite::Statement& row) {
    return AppendReadable(sqlite::ReadCampaignRow(row), "list campaigns", out);
  }));
  return out;
}

Result<std::vector<Campaign>> SqliteStore::ListCampaigns(std::optional<CampaignStatus> status) {
  std::vector<std::string> params;
  const std::string sql = CampaignListSql(status, kCampaignSql, params);
  return SelectCampaigns(sql, params);
}

Result<std::vector<Campaign>> SqliteStore::ListCampaignsPage(const CampaignPageQuery& q) {
  std::vector<std::string> params;
  const std::string sql = CampaignPageSql(q, kCampaignSql, params);
  return SelectCampaigns(sql, params);
}

Result<std::optional<PropertyData>> SqliteStore::GetProperty(const CampaignId& campaign_id) {
  DRIPR_ASSIGN_OR_RETURN(auto c, pool_.Acquire());
  DRIPR_TRY(sqlite::LoadCampaign(*c, campaign_id));
  DRIPR_ASSIGN_OR_RETURN(auto s, c->Prepare("SELECT formatted_address, latitude, longitude, "
                                            "current_value FROM property_data WHERE "
                                            "campaign_id = ?"));
  s.BindText(campaign_id.str());
  DRIPR_ASSIGN_OR_RETURN(bool row, s.Step());
  if (!row) return std::optional<PropertyData>();
  PropertyData p;
  p.formatted_address = s.Text(0);
  p.location = GeoPoint{s.Real(1), s.Real(2)};
  p.current_value = s.OptInt(3);
  return std::optional<PropertyData>(std::move(p));
}

Result<PartInputs> SqliteStore::LoadForPart(const CampaignId& id) {
  static const std::string sql = PartInputsSql(sqlite::kCampaignColumns);
  DRIPR_ASSIGN_OR_RETURN(auto c, pool_.Acquire());
  DRIPR_ASSIGN_OR_RETURN(auto s, c->Prepare(sql));
  s.BindText(id.str());
  DRIPR_ASSIGN_OR_RETURN(bool row, s.Step());
  if (!row) return Fail(ErrorCode::kNotFound, "campaign " + id.str() + " not found");
  return ReadPartInputs(sqlite::StatementRow(s));
}

// ---- Transitions (the algorithm is StoreBase::RunTransition) ----

class SqliteStore::Tx final : public TransitionTx {
 public:
  Tx(SqliteStore& store, Connection& c) : store_(store), c_(c) {}

  Status InsertCampaign(const Campaign& row, const std::optional<PropertyData>& property) override {
    const std::string ts = FormatIso8601(row.created_at);
    DRIPR_ASSIGN_OR_RETURN(
        auto s, c_.Prepare("INSERT INTO campaigns (" + std::string(sqlite::kCampaignColumns) +
                           ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 0, 0)"));
    s.BindText(row.id.str()).BindText(row.user_id).BindText(row.zip_code);
    s.BindInt(row.no_address_newsletter ? 1 : 0).BindText(ToString(row.status));
    for (DataPart p : kAllDataParts) s.BindText(ToString(row.part(p)));
    s.BindInt(row.data_cycle).BindText(row.error_text).BindText(ts).BindText(ts).BindText(ts);
    s.BindText(ts);
    auto inserted = s.Run();
    if (!inserted) {
      if (inserted.error().code == ErrorCode::kAlreadyExists) {
        return Fail(ErrorCode::kAlreadyExists, "campaign " + row.id.str() + " already exists");
      }
      return inserted;
    }
    if (!property) return Ok();
    DRIPR_ASSIGN_OR_RETURN(
        auto p, c_.Prepare("INSERT INTO property_data (campaign_id, formatted_address, latitude, "
                           "longitude, current_value) VALUES (?, ?, ?, ?, ?)"));
    p.BindText(row.id.str()).BindText(property->formatted_address);
    p.BindReal(property->location.lat).BindReal(property->location.lng);
    p.BindInt(property->current_value);
    return p.Run();
  }

  // Inside BEGIN IMMEDIATE the database write lock is held: nobody can interleave.
  Result<Campaign> LockCampaign(const CampaignId& id) override {
    return sqlite::LoadCampaign(c_, id);
  }

  Result<int64_t> CompareAndSet(const Campaign& current, const Campaign& next) override {
    DRIPR_ASSIGN_OR_RETURN(
        auto s,
        c_.Prepare("UPDATE campaigns SET campaign_status = ?, local_market_data_status = ?, "
                   "active_listing_status = ?, recent_sale_status = ?, data_cycle = ?, "
                   "error_text = ?, updated_at = ?, status_changed_at = ?, "
                   "parts_changed_at = ?, republish_count = ?, restart_count = ? "
                   "WHERE id = ? AND campaign_status = ? AND data_cycle = ? AND "
                   "local_market_data_status = ? AND active_listing_status = ? AND "
                   "recent_sale_status = ?"));
    s.BindText(ToString(next.status));
    for (DataPart p : kAllDataParts) s.BindText(ToString(next.part(p)));
    s.BindInt(next.data_cycle).BindText(next.error_text);
    s.BindText(FormatIso8601(next.updated_at)).BindText(FormatIso8601(next.status_changed_at));
    s.BindText(FormatIso8601(next.parts_changed_at));
    s.BindInt(next.republish_count).BindInt(next.restart_count);
    s.BindText(current.id.str()).BindText(ToString(current.status)).BindInt(current.data_cycle);
    for (DataPart p : kAllDataParts) s.BindText(ToString(current.part(p)));
    DRIPR_TRY(s.Run());
    return c_.Changes();
  }

  Status ReplaceRecords(const CampaignId& campaign_id, DataPart part,
                        const std::vector<RankedRecord>& records) override {
    return store_.ReplaceRecords(c_, campaign_id, part, records);
  }
  Status InsertMarketData(const MarketData& m, SysTime now) override {
    return store_.InsertMarketData(c_, m, now);
  }
  Status InsertOutboxEvent(const StatusChangeEvent& e, SysTime now) override {
    return store_.InsertOutboxEvent(c_, e, now);
  }
  Status DeleteLease(const LeaseRef& lease) override {
    return store_.DeleteLease(c_, lease.name, lease.holder);
  }

 private:
  SqliteStore& store_;
  Connection& c_;
};

// Transitions (and only they: a handler's one commit) carry the bus's pending acknowledgement
// when the bus shares this file (transactional consume, docs/decisions/bus.md).
Status SqliteStore::InTransitionTransaction(std::string_view what, const TransitionBody& body) {
  return InWriteTransaction(
      what,
      [&](Connection& c) -> Status {
        Tx tx(*this, c);
        return body(tx);
      },
      sqlite::Writer::Carry::kPending);
}

}  // namespace dripr
