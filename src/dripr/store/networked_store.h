#pragma once
// NetworkedStore<Driver>: the part of a client/server Store (PostgreSQL, MySQL) that is the
// same SQL on every server: reads of campaigns, part rows, market data, zip centroids, the
// outbox's counts and gauges, the fetchers table and the reconciler's candidates. A backend
// derives from it, runs work on its connections (Run: pooling, transactions, retries) and
// writes what its SQL dialect does differently (transitions, claims, upserts, bulk loads).
//
// Driver supplies the backend's client types and the few spellings that differ:
//   kName                      "postgres", "mysql" (logs)
//   kStatementCommits          a statement outside BEGIN/COMMIT is its own transaction, so
//                              one-statement writes need no BEGIN/COMMIT (WriteStatement)
//   Connection, Params, Rows   the client library wrapper (Exec(sql, params) -> Rows);
//                              Params has Text/Int/Time(SysTime), Rows has Text/Int/IsNull...
//   Sql(text)                  the text with its `?` placeholders in the server's form
//   EpochMs(expr)              a timestamp expression read as epoch milliseconds (bigint)
//   Columns(list)              a column list with identifiers the server reserves quoted
//   InsertIfAbsent(insert, key) the INSERT doing nothing when a row with unique `key` exists
//   UpsertSet(key)             what follows an INSERT to update the row whose unique `key`
//                              exists instead ("ON CONFLICT (key) DO UPDATE SET")

#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "dripr/core/ids.h"
#include "dripr/core/random.h"
#include "dripr/domain/event.h"
#include "dripr/store/connection_pool.h"
#include "dripr/store/migrations/migrations.h"
#include "dripr/store/row_reader.h"
#include "dripr/store/store_base.h"
#include "dripr/store/store_common.h"

namespace dripr {

// Runs `attempt` until it succeeds, fails permanently, or a transient failure (kAborted,
// kUnavailable) would be retried later than `retry_deadline` after the start. Before retry n
// (1-based) it sleeps on `ticker` for cap/2 + u * cap/2 ms rounded, u = `random`'s next
// Uniform(), cap = min(1000, 20 * 2^min(n, 6)) ms (so 20..40, 40..80, ... up to 500..1000).
// The late failure is wrapped with `what`; `server` names the backend in the debug log.
Status RetryTransient(Ticker& ticker, Random& random, std::chrono::milliseconds retry_deadline,
                      std::string_view server, std::string_view what,
                      const std::function<Status()>& attempt);

// The campaigns columns in ReadCampaign's order, timestamps as epoch milliseconds.
template <class Driver>
const std::string& EpochMsCampaignColumns() {
  static const std::string columns =
      "id, user_id, zip_code, no_address_newsletter, campaign_status, local_market_data_status, "
      "active_listing_status, recent_sale_status, data_cycle, error_text, " +
      Driver::EpochMs("created_at") + ", " + Driver::EpochMs("updated_at") + ", " +
      Driver::EpochMs("status_changed_at") + ", " + Driver::EpochMs("parts_changed_at") +
      ", republish_count, restart_count";
  return columns;
}

// The outbox columns in ReadOutbox's order, created_at as epoch milliseconds.
template <class Driver>
const std::string& EpochMsOutboxColumns() {
  static const std::string columns = "id, topic, campaign_id, event_type, body, attributes, " +
                                     Driver::EpochMs("created_at") + ", attempts";
  return columns;
}

template <class Driver>
class NetworkedStore : public StoreBase {
 public:
  using Connection = typename Driver::Connection;
  using Params = typename Driver::Params;
  using Rows = typename Driver::Rows;
  using Row = EpochMsRow<Rows>;

 protected:
  // A statement and its parameters (ExecTogether).
  struct Sent {
    std::string sql;
    Params params;
  };
  // Whether the client sends several statements in one round trip (pg::Connection::ExecAll).
  static constexpr bool kPipelines = requires(Connection & c) { c.ExecAll({}); };
  // `statements` on `c` in one round trip where the client pipelines them, else one after the
  // other: each one's rows, in order. Outside a transaction, pipelined statements run as one
  // implicit transaction; one after the other, each commits alone.
  static Result<std::vector<Rows>> ExecTogether(Connection& c, std::span<const Sent> statements) {
    if constexpr (kPipelines) {
      std::vector<typename Connection::Statement> sent;
      sent.reserve(statements.size());
      for (const Sent& st : statements) sent.push_back({st.sql, st.params});
      return c.ExecAll(sent);
    } else {
      std::vector<Rows> out;
      for (const Sent& st : statements) {
        DRIPR_ASSIGN_OR_RETURN(Rows rows, c.Exec(st.sql, st.params));
        out.push_back(std::move(rows));
      }
      return out;
    }
  }

 public:
  int LatestSchemaVersion() const override { return kLatestSchemaVersion; }

  Result<int> SchemaVersion() override {
    return ReadValue("read schema version", [&](Connection& c) { return ReadSchemaVersion(c); });
  }

  Status LoadZipCodes(const std::string& csv_path) override {
    // Cheap check first: a loaded table (the normal case on every start) skips the file.
    DRIPR_ASSIGN_OR_RETURN(
        bool empty, ReadValue("load zip codes", [&](Connection& c) { return ZipTableEmpty(c); }));
    if (!empty) return Ok();
    DRIPR_ASSIGN_OR_RETURN(std::vector<ZipRow> rows, ReadZipCodeCsv(csv_path));
    return LoadZipRows(csv_path, rows);
  }

  Result<std::vector<OutboxRow>> ClaimOutbox(int limit, std::chrono::seconds lease) override {
    std::vector<OutboxRow> out;
    if (limit <= 0) return out;
    const SysTime now = Now();
    const std::string token = NewUuid();
    int64_t max_id = 0;
    DRIPR_TRY(InTransaction("claim outbox", [&](Connection& c) -> Status {
      out.clear();
      DRIPR_TRY(ClaimRows(c, limit, now, now + lease, token, out));
      for (OutboxRow& row : out) row.claim_token = token;
      DRIPR_ASSIGN_OR_RETURN(max_id, ReadMaxOutboxId(c));
      return Ok();
    }));
    SetClaimedMaxId(max_id);
    return out;
  }

  Status MarkPublished(const std::vector<int64_t>& ids) override {
    if (ids.empty()) return Ok();
    const SysTime now = Now();
    return WriteStatement("mark outbox published", [&](Connection& c) -> Status {
      return UpdateUnpublished(c, "published_at = ?, claimed_until = NULL, claim_token = NULL", "",
                               Params().Time(now), ids);
    });
  }

  Status SetAsideOutbox(int64_t id, const std::string& reason) override {
    const SysTime now = Now();
    return WriteStatement("set outbox row aside", [&](Connection& c) -> Status {
      return UpdateUnpublished(
          c, "published_at = ?, failed_reason = ?, claimed_until = NULL, claim_token = NULL", "",
          Params().Time(now).Text(reason), {id});
    });
  }

  Status ReleaseOutbox(const std::vector<int64_t>& ids, const std::string& claim_token) override {
    if (ids.empty()) return Ok();
    DRIPR_TRY(WriteStatement("release outbox", [&](Connection& c) -> Status {
      return UpdateUnpublished(c,
                               "attempts = attempts + 1, claimed_until = NULL, claim_token = NULL",
                               "claim_token = ? AND ", Params().Text(claim_token), ids);
    }));
    NotifyOutbox();
    return Ok();
  }

  Result<Campaign> GetCampaign(const CampaignId& id) override {
    Campaign out;
    DRIPR_TRY(Read("get campaign", [&](Connection& c) -> Status {
      DRIPR_ASSIGN_OR_RETURN(out, LoadCampaign(c, id, /*lock=*/false));
      return Ok();
    }));
    return out;
  }

  Result<std::vector<Campaign>> ListCampaigns(std::optional<CampaignStatus> status) override {
    std::vector<Campaign> out;
    DRIPR_TRY(Read("list campaigns", [&](Connection& c) -> Status {
      std::string sql = "SELECT " + CampaignColumns() + " FROM campaigns";
      Params p;
      if (status) {
        sql += " WHERE campaign_status = ?";
        p.Text(ToString(*status));
      }
      DRIPR_ASSIGN_OR_RETURN(Rows rows, c.Exec(Driver::Sql(sql + " ORDER BY created_at, id"), p));
      return ReadCampaigns(rows, "list campaigns", out);
    }));
    return out;
  }

  Result<std::vector<Campaign>> ListCampaignsPage(const CampaignPageQuery& q) override {
    const CampaignSqlDialect dialect{EpochMsCampaignColumns<Driver>(),
                                     [](int) { return std::string("?"); }, Driver::kIdCollate};
    std::vector<std::string> texts;
    const std::string sql = Driver::Sql(CampaignPageSql(q, dialect, texts));
    std::vector<Campaign> out;
    DRIPR_TRY(Read("list campaigns page", [&](Connection& c) -> Status {
      out.clear();
      Params p;
      for (const auto& t : texts) p.Text(t);
      DRIPR_ASSIGN_OR_RETURN(Rows rows, c.Exec(sql, p));
      return ReadCampaigns(rows, "list campaigns page", out);
    }));
    return out;
  }

  Result<std::optional<PropertyData>> GetProperty(const CampaignId& campaign_id) override {
    std::optional<PropertyData> out;
    DRIPR_TRY(Read("get property", [&](Connection& c) -> Status {
      out.reset();
      // One statement: no row = no campaign; a NULL campaign_id = a campaign without address.
      DRIPR_ASSIGN_OR_RETURN(
          Rows rows, c.Exec(Driver::Sql("SELECT p.formatted_address, p.latitude, p.longitude, "
                                        "p.current_value, p.campaign_id FROM campaigns c LEFT "
                                        "JOIN property_data p ON p.campaign_id = c.id WHERE "
                                        "c.id = ?"),
                            Params().Text(campaign_id.str())));
      if (rows.empty()) {
        return Fail(ErrorCode::kNotFound, "campaign " + campaign_id.str() + " not found");
      }
      if (rows.IsNull(0, 4)) return Ok();
      PropertyData p;
      p.formatted_address = rows.Text(0, 0);
      p.location = GeoPoint{rows.Real(0, 1), rows.Real(0, 2)};
      p.current_value = rows.OptInt(0, 3);
      out = std::move(p);
      return Ok();
    }));
    return out;
  }

  Result<PartInputs> LoadForPart(const CampaignId& id) override {
    PartInputs out;
    DRIPR_TRY(Read("load campaign", [&](Connection& c) -> Status {
      const Sent read = PartInputsStatement(id);
      DRIPR_ASSIGN_OR_RETURN(Rows rows, c.Exec(read.sql, read.params));
      DRIPR_ASSIGN_OR_RETURN(out, PartInputsFrom(rows, id));
      return Ok();
    }));
    return out;
  }

  // LoadForPart's statement once per id, all in ONE round trip on one pooled connection where
  // the client pipelines (ExecTogether; as one implicit read-only transaction); else
  // StoreBase's one call after another. An outage is every id's error; any other failure of
  // the round trip reads each id alone, so that it is only its own.
  std::vector<Result<PartInputs>> LoadForParts(std::span<const CampaignId> ids) override {
    if (!kPipelines || ids.size() <= 1) return StoreBase::LoadForParts(ids);
    std::vector<Result<PartInputs>> out;
    const std::string what = "load " + std::to_string(ids.size()) + " campaigns";
    Status read = Read(what, [&](Connection& c) -> Status {
      out.clear();
      std::vector<Sent> sent;
      sent.reserve(ids.size());
      for (const CampaignId& id : ids) sent.push_back(PartInputsStatement(id));
      DRIPR_ASSIGN_OR_RETURN(std::vector<Rows> rows, ExecTogether(c, sent));
      if (rows.size() != ids.size()) {
        return Fail(ErrorCode::kInternal, std::to_string(rows.size()) + " replies to " +
                                              std::to_string(ids.size()) + " reads");
      }
      for (size_t i = 0; i < ids.size(); ++i) out.push_back(PartInputsFrom(rows[i], ids[i]));
      return Ok();
    });
    if (read) return out;
    // An outage (after the store's own retries) is every campaign's, as each read alone would
    // have met it. Any other failure of the round trip may be one campaign's: each read alone.
    if (read.error().code == ErrorCode::kUnavailable || read.error().code == ErrorCode::kAborted) {
      out.assign(ids.size(), Fail(read.error()));
      return out;
    }
    return StoreBase::LoadForParts(ids);
  }
  // Batches of part handlers take fewer round trips only where the client pipelines, and fewer
  // transactions only where transitions are combined.
  bool BatchesParts() const override { return kPipelines && transition_batching().max_batch > 1; }

  Result<std::vector<RankedRecord>> GetActiveListings(const CampaignId& campaign_id) override {
    return GetRecords(campaign_id, kListingsTable);
  }
  Result<std::vector<RankedRecord>> GetRecentSales(const CampaignId& campaign_id) override {
    return GetRecords(campaign_id, kSalesTable);
  }

  Result<std::optional<MarketData>> GetMarketData(const std::string& zip,
                                                  std::chrono::seconds max_age) override {
    return QueryMarket(FreshMarketStatement(zip, max_age));
  }

  // Both reads on one pooled connection (Store::LoadForMarket), in one round trip where the
  // client pipelines (ExecTogether): the market data is found through the campaign's zip code
  // in the same statement, not after reading the campaign.
  Result<MarketInputs> LoadForMarket(const CampaignId& id, std::chrono::seconds max_age) override {
    MarketInputs out;
    DRIPR_TRY(Read("load campaign and market data", [&](Connection& c) -> Status {
      const Sent reads[] = {{CampaignSql(/*lock=*/false), Params().Text(id.str())},
                            CampaignMarketStatement(id, Now() - max_age)};
      DRIPR_ASSIGN_OR_RETURN(std::vector<Rows> rows, ExecTogether(c, reads));
      if (rows[0].empty()) return Fail(ErrorCode::kNotFound, "campaign " + id.str() + " not found");
      DRIPR_ASSIGN_OR_RETURN(out.campaign, ReadCampaign(Row(rows[0], 0)));
      DRIPR_ASSIGN_OR_RETURN(out.stored, MarketFrom(rows[1]));
      return Ok();
    }));
    return out;
  }

  // Store::LoadForMarketOrLease in ONE round trip where the backend takes the zip's lease in
  // one statement that reads the campaign's zip and state itself (TakeMarketLeaseStatement)
  // and the client pipelines: LoadForMarket's two reads, that lease statement (it takes
  // nothing when the data is there or the campaign does not wait for it) and the read after
  // it, as one implicit transaction. Otherwise StoreBase's two calls. A second round trip
  // only when the lease was taken and the read after it found data (the lease given back).
  Result<MarketLoad> LoadForMarketOrLease(const CampaignId& id, std::chrono::seconds max_age,
                                          const std::string& holder,
                                          std::chrono::seconds ttl) override {
    const SysTime now = Now();
    std::optional<Sent> take = TakeMarketLeaseStatement(id, holder, now, now + ttl, now - max_age);
    if (!take || !kPipelines) return StoreBase::LoadForMarketOrLease(id, max_age, holder, ttl);
    MarketLoad out;
    DRIPR_TRY(Read("load campaign, market data or lease", [&](Connection& c) -> Status {
      const Sent market = CampaignMarketStatement(id, now - max_age);
      const Sent sent[] = {
          {CampaignSql(/*lock=*/false), Params().Text(id.str())}, market, *take, market};
      DRIPR_ASSIGN_OR_RETURN(std::vector<Rows> rows, ExecTogether(c, sent));
      if (rows[0].empty()) return Fail(ErrorCode::kNotFound, "campaign " + id.str() + " not found");
      // The zip the lease statement's name was made of (CampaignZipSql there).
      const LeaseRef lease{MarketLeaseName(CampaignZip(Row(rows[0], 0).Text(2))), holder};
      auto release = [&] { return ReleaseLeaseOn(c, lease); };
      // A row that does not read (another program's status text) or market data that does
      // not: the lease the statement may have taken is given back, or every campaign of the
      // zip would wait for its TTL behind a holder that never fetches.
      auto or_release = [&]<class T>(Result<T> r) -> Result<T> {
        if (!r && rows[2].Affected() == 1) (void)release();
        return r;
      };
      DRIPR_ASSIGN_OR_RETURN(out.campaign, or_release(ReadCampaign(Row(rows[0], 0))));
      DRIPR_ASSIGN_OR_RETURN(std::optional<MarketData> first, or_release(MarketFrom(rows[1])));
      if (first) {
        // Found by the first read, so the lease statement's own look found it too and took
        // nothing, unless the data went in between: then the lease is given back.
        if (rows[2].Affected() == 1) (void)release();
        out.turn.stored = std::move(first);
        return Ok();
      }
      // As MarketDataOrLease(read_first=false) decides, from the results already here.
      auto taken = [&]() -> Result<TakenAndRead> {
        TakenAndRead t;
        t.held = rows[2].Affected() == 1;
        if (t.held) {
          DRIPR_ASSIGN_OR_RETURN(t.again, MarketFrom(rows[3]));
        }
        return t;
      };
      auto no_read = []() -> Result<std::optional<MarketData>> { return std::nullopt; };
      DRIPR_ASSIGN_OR_RETURN(out.turn,
                             RunMarketTurn(/*read_first=*/false, no_read, taken, release));
      return Ok();
    }));
    return out;
  }

  // Store::MarketDataOrLease: GetMarketData's, AcquireLease's and ReleaseLease's statements
  // on one pooled connection; the lease and the read after it in one round trip where the
  // backend takes a lease in one statement and the client pipelines (TakeLeaseStatement).
  Result<MarketTurn> MarketDataOrLease(const std::string& zip, std::chrono::seconds max_age,
                                       const LeaseRef& lease, std::chrono::seconds ttl,
                                       bool read_first) override {
    MarketTurn out;
    DRIPR_TRY(Read("market data or lease " + lease.name, [&](Connection& c) -> Status {
      auto read = [&] { return SelectMarket(c, FreshMarketStatement(zip, max_age)); };
      auto take = [&]() -> Result<bool> {
        const SysTime now = Now();
        if constexpr (Driver::kStatementCommits) {
          return TakeLease(c, lease.name, lease.holder, now, now + ttl);
        } else {
          bool held = false;
          DRIPR_TRY(InTransactionOn(c, [&](Connection& tc) -> Status {
            DRIPR_ASSIGN_OR_RETURN(held, TakeLease(tc, lease.name, lease.holder, now, now + ttl));
            return Ok();
          }));
          return held;
        }
      };
      auto release = [&] { return ReleaseLeaseOn(c, lease); };
      auto take_then_read = [&]() -> Result<TakenAndRead> {
        const SysTime now = Now();
        std::optional<Sent> take_one = TakeLeaseStatement(lease.name, lease.holder, now, now + ttl);
        if (!take_one || !kPipelines) return TakeThenRead(take, read, release);
        // One implicit transaction: the read sees what was committed before the lease.
        const Sent both[] = {*take_one, FreshMarketStatement(zip, max_age)};
        DRIPR_ASSIGN_OR_RETURN(std::vector<Rows> rows, ExecTogether(c, both));
        TakenAndRead taken;
        taken.held = rows[0].Affected() == 1;
        if (taken.held) {
          DRIPR_ASSIGN_OR_RETURN(taken.again, MarketFrom(rows[1]));
        }
        return taken;
      };
      DRIPR_ASSIGN_OR_RETURN(out, RunMarketTurn(read_first, read, take_then_read, release));
      return Ok();
    }));
    return out;
  }
  Result<std::optional<MarketData>> LatestMarketData(const std::string& zip) override {
    static const std::string sql = MarketSql("?", "");
    return QueryMarket(Sent{sql, Params().Text(zip)});
  }

  Result<std::optional<GeoPoint>> ZipCentroid(const std::string& zip) override {
    auto five = NormalizeZip(zip);
    if (!five) return Fail(five.error().Wrap("zip_code"));
    std::optional<GeoPoint> out;
    DRIPR_TRY(Read("zip centroid", [&](Connection& c) -> Status {
      DRIPR_ASSIGN_OR_RETURN(Rows rows,
                             c.Exec(Driver::Sql("SELECT latitude, longitude FROM zip_codes WHERE "
                                                "zip_code = ?"),
                                    Params().Text(*five)));
      out.reset();
      if (!rows.empty()) out = GeoPoint{rows.Real(0, 0), rows.Real(0, 1)};
      return Ok();
    }));
    return out;
  }

  Result<int64_t> PendingOutboxCount() override {
    int64_t n = 0;
    DRIPR_TRY(Read("count pending outbox", [&](Connection& c) -> Status {
      DRIPR_ASSIGN_OR_RETURN(Rows rows,
                             c.Exec("SELECT COUNT(*) FROM outbox WHERE published_at IS NULL"));
      n = rows.Int(0, 0);
      return Ok();
    }));
    return n;
  }

  Result<StoreGauges> SampleGauges() override {
    StoreGauges g;
    DRIPR_TRY(Read("sample gauges", [&](Connection& c) -> Status {
      g = StoreGauges{};
      DRIPR_ASSIGN_OR_RETURN(Rows by_status, c.Exec("SELECT campaign_status, COUNT(*) FROM "
                                                    "campaigns GROUP BY campaign_status"));
      for (int i = 0; i < by_status.size(); ++i) {
        g.campaigns_by_status[by_status.Text(i, 0)] = by_status.Int(i, 1);
      }
      DRIPR_ASSIGN_OR_RETURN(OutboxBacklog b, ReadBacklog(c));
      g.outbox_backlog = b.pending;
      g.oldest_unpublished = b.oldest_created;
      return Ok();
    }));
    return g;
  }

  Result<std::vector<OutboxRow>> OutboxForCampaign(const CampaignId& campaign_id) override {
    std::vector<OutboxRow> out;
    DRIPR_TRY(Read("outbox for campaign", [&](Connection& c) -> Status {
      DRIPR_ASSIGN_OR_RETURN(Rows rows,
                             c.Exec(Driver::Sql("SELECT " + OutboxColumns() +
                                                " FROM outbox WHERE campaign_id = ? ORDER BY id"),
                                    Params().Text(campaign_id.str())));
      return ReadAll(rows, ReadOutbox, out);
    }));
    return out;
  }

  Result<OutboxBacklog> PendingOutbox() override {
    return ReadValue("outbox backlog", [&](Connection& c) { return ReadBacklog(c); });
  }

  Status HeartbeatFetcher(const FetcherInfo& f) override {
    if (f.instance_id.empty()) {
      return Fail(ErrorCode::kInvalidArgument, "fetcher instance id is empty");
    }
    const std::string host = f.host.empty() ? "unknown" : f.host;
    const std::string version = f.version.empty() ? "unknown" : f.version;
    const SysTime now = Now();
    Params p;
    p.Text(f.instance_id).Text(host).Int(f.pid).Text(version).Time(f.started_at).Time(now);
    p.Text(host).Int(f.pid).Text(version).Time(f.started_at).Time(now);
    return WriteStatement("fetcher heartbeat", [&](Connection& c) -> Status {
      DRIPR_TRY(c.Exec(Driver::Sql("INSERT INTO fetchers (instance_id, host, pid, version, "
                                   "started_at, heartbeat_at) VALUES (?, ?, ?, ?, ?, ?) " +
                                   Driver::UpsertSet("instance_id") +
                                   " host = ?, pid = ?, version = ?, started_at = ?, "
                                   "heartbeat_at = ?"),
                       p));
      return Ok();
    });
  }

  Status UnregisterFetcher(const std::string& instance_id) override {
    return WriteStatement("fetcher unregister", [&](Connection& c) -> Status {
      DRIPR_TRY(c.Exec(Driver::Sql("DELETE FROM fetchers WHERE instance_id = ?"),
                       Params().Text(instance_id)));
      return Ok();
    });
  }

  Result<std::vector<FetcherInfo>> ListFetchers() override {
    std::vector<FetcherInfo> out;
    DRIPR_TRY(Read("list fetchers", [&](Connection& c) -> Status {
      DRIPR_ASSIGN_OR_RETURN(
          Rows rows, c.Exec("SELECT instance_id, host, pid, version, " +
                            Driver::EpochMs("started_at") + ", " + Driver::EpochMs("heartbeat_at") +
                            " FROM fetchers ORDER BY heartbeat_at DESC, instance_id"));
      return ReadAll(rows, ReadFetcher, out);
    }));
    return out;
  }

  Result<std::vector<Campaign>> FindReconcileCandidates(SysTime unmoved_before,
                                                        std::optional<SysTime> errored_before,
                                                        int max_restarts, int limit) override {
    std::vector<Campaign> out;
    if (limit <= 0) return out;
    DRIPR_TRY(Read("find reconcile candidates", [&](Connection& c) -> Status {
      out.clear();
      DRIPR_ASSIGN_OR_RETURN(
          Rows stuck,
          c.Exec(Driver::Sql("SELECT " + CampaignColumns() +
                             " FROM campaigns c WHERE campaign_status = 'WAITING_FOR_DATA'"
                             " AND coalesce(parts_changed_at, status_changed_at, updated_at) <= ?"
                             " AND updated_at <= ?"
                             " AND NOT EXISTS (SELECT 1 FROM outbox o WHERE o.campaign_id = c.id"
                             " AND o.published_at IS NULL)"
                             " ORDER BY coalesce(parts_changed_at, status_changed_at, updated_at),"
                             " id LIMIT ?"),
                 Params().Time(unmoved_before).Time(unmoved_before).Int(limit)));
      DRIPR_TRY(ReadCampaigns(stuck, "reconciler", out, /*append=*/true));
      if (!errored_before) return Ok();
      DRIPR_ASSIGN_OR_RETURN(Rows errored,
                             c.Exec(Driver::Sql("SELECT " + CampaignColumns() +
                                                " FROM campaigns WHERE campaign_status = 'ERROR'"
                                                " AND status_changed_at <= ? AND restart_count < ?"
                                                " ORDER BY status_changed_at, id LIMIT ?"),
                                    Params().Time(*errored_before).Int(max_restarts).Int(limit)));
      return ReadCampaigns(errored, "reconciler", out, /*append=*/true);
    }));
    return out;
  }

  Result<bool> AcquireLease(const std::string& name, const std::string& holder,
                            std::chrono::seconds ttl) override {
    const SysTime now = Now();
    bool held = false;
    DRIPR_TRY(WriteStatement("lease " + name, [&](Connection& c) -> Status {
      DRIPR_ASSIGN_OR_RETURN(held, TakeLease(c, name, holder, now, now + ttl));
      return Ok();
    }));
    return held;
  }

  Status ReleaseLease(const std::string& name, const std::string& holder) override {
    return WriteStatement("release lease " + name, [&](Connection& c) -> Status {
      return ReleaseLeaseOn(c, {name, holder});
    });
  }

 protected:
  Status SelectExistingIds(std::span<const std::string> ids,
                           std::vector<CampaignId>& out) override {
    return SelectIn("existing campaigns", "SELECT id FROM campaigns WHERE id IN ", ids,
                    [&](const Rows& rows, int i) {
                      out.push_back(CampaignId::FromStoredRow(rows.Text(i, 0)));
                    });
  }
  Status SelectZipCentroids(std::span<const std::string> zips,
                            std::map<std::string, GeoPoint>& out) override {
    return SelectIn("zip centroids",
                    "SELECT zip_code, latitude, longitude FROM zip_codes WHERE zip_code IN ", zips,
                    [&](const Rows& rows, int i) {
                      out[rows.Text(i, 0)] = GeoPoint{rows.Real(i, 1), rows.Real(i, 2)};
                    });
  }

 protected:
  using Work = std::function<Status(Connection&)>;
  // `ticker` as StoreBase's; `random` (null: the real one; it must outlive the store) jitters
  // the retry backoff (RetryTransient).
  NetworkedStore(RequiredParts required_parts, std::chrono::milliseconds outbox_poll_interval,
                 Ticker* ticker, Random* random)
      : StoreBase(std::move(required_parts), outbox_poll_interval, ticker),
        random_(OrRealRandom(random)) {}

  // The row of the cluster-wide provider budget `name` (table provider_budget,
  // docs/decisions/cluster.md), locked FOR UPDATE so that concurrent reservations from any
  // process queue on it. Locking before inserting keeps the common case to one exclusive lock:
  // taking a shared one first (a duplicate-key insert) and upgrading it deadlocks concurrent
  // reservations. A missing row is created with next_at 0 ("free since 1970").
  Status UpdateBudget(std::string_view what, const std::string& name,
                      const BudgetDecision& decide) override {
    return InTransaction(what, [&](Connection& c) -> Status {
      auto lock_row = [&]() {
        return c.Exec(Driver::Sql("SELECT next_at FROM provider_budget WHERE name = ? FOR UPDATE"),
                      Params().Text(name));
      };
      DRIPR_ASSIGN_OR_RETURN(Rows r, lock_row());
      if (r.empty()) {
        DRIPR_TRY(c.Exec(Driver::Sql(Driver::InsertIfAbsent(
                             "INSERT INTO provider_budget (name, next_at) VALUES (?, 0)", "name")),
                         Params().Text(name)));
        DRIPR_ASSIGN_OR_RETURN(r, lock_row());
      }
      std::optional<int64_t> next_at;
      if (!r.empty()) next_at = r.Int(0, 0);
      std::optional<int64_t> updated = decide(next_at, Now());
      if (!updated) return Ok();
      DRIPR_TRY(c.Exec(Driver::Sql("UPDATE provider_budget SET next_at = ? WHERE name = ?"),
                       Params().Int(*updated).Text(name)));
      return Ok();
    });
  }

  // Runs `fn` on a pooled connection, inside a transaction when `transaction`; retries the
  // whole of it on transient failures (serialization failures, deadlocks, lost connections)
  // until retry_deadline(). `what` prefixes errors.
  Status Run(std::string_view what, bool transaction, const Work& fn) {
    return RetryTransient(ticker(), random_, retry_deadline(), Driver::kName, what,
                          [&]() -> Status {
                            DRIPR_ASSIGN_OR_RETURN(auto lease, pool().Acquire());
                            if (!transaction) return fn(*lease);
                            return InTransactionOn(*lease, fn);
                          });
  }
  Status InTransaction(std::string_view what, const Work& fn) { return Run(what, true, fn); }
  Status Read(std::string_view what, const Work& fn) { return Run(what, false, fn); }
  // `fn` runs ONE write statement. Where a single statement is atomic on its own and the
  // session commits it by itself (Driver::kStatementCommits: PostgreSQL), it runs without
  // BEGIN/COMMIT, two round trips fewer; elsewhere inside a transaction. Retried like the rest,
  // so the statement must be idempotent.
  Status WriteStatement(std::string_view what, const Work& fn) {
    return Run(what, !Driver::kStatementCommits, fn);
  }
  // Read, for one value: `fn(c)` returns a Result<T>; its value (from the last attempt, when
  // Run retried) or the error.
  template <class Fn>
  std::invoke_result_t<Fn, Connection&> ReadValue(std::string_view what, Fn fn) {
    std::optional<typename std::invoke_result_t<Fn, Connection&>::value_type> out;
    DRIPR_TRY(Read(what, [&](Connection& c) -> Status {
      DRIPR_ASSIGN_OR_RETURN(out, fn(c));
      return Ok();
    }));
    return std::move(*out);
  }

  // The outbox's highest id (0 when empty): StoreBase's wake-up check.
  Result<int64_t> MaxOutboxId() override {
    return ReadValue("outbox max id", [&](Connection& c) { return ReadMaxOutboxId(c); });
  }

  virtual ConnectionPool<Connection>& pool() = 0;
  virtual std::chrono::milliseconds retry_deadline() const = 0;
  // `fn` between the server's BEGIN and COMMIT on `c`, rolled back when it fails.
  virtual Status InTransactionOn(Connection& c, const Work& fn) = 0;

  // On `c` (inside a transaction unless Driver::kStatementCommits, and then in ONE statement):
  // `holder` takes or renews lease `name` until `until` when the lease is free, already its
  // own, or expired at `now`. Whether `holder` holds it.
  virtual Result<bool> TakeLease(Connection& c, const std::string& name, const std::string& holder,
                                 SysTime now, SysTime until) = 0;
  // TakeLease as ONE statement that changes one row when the lease is held, for a backend
  // whose TakeLease is one (to travel with other statements: ExecTogether); nullopt otherwise.
  virtual std::optional<Sent> TakeLeaseStatement(const std::string& /*name*/,
                                                 const std::string& /*holder*/, SysTime /*now*/,
                                                 SysTime /*until*/) {
    return std::nullopt;
  }
  // TakeLeaseStatement for campaign `id`'s zip (MarketLeaseName of its zip as CampaignZipSql
  // reads it in the statement), changing one row only when the campaign waits for its market data
  // (WaitsForMarketData) and the zip has none created at or after `fresh_after`; nullopt
  // where the backend has no such one statement (LoadForMarketOrLease then makes two calls).
  virtual std::optional<Sent> TakeMarketLeaseStatement(const CampaignId& /*id*/,
                                                       const std::string& /*holder*/,
                                                       SysTime /*now*/, SysTime /*until*/,
                                                       SysTime /*fresh_after*/) {
    return std::nullopt;
  }

  // 0 before the first migration.
  virtual Result<int> ReadSchemaVersion(Connection& c) = 0;
  // Loads `rows` (read from `csv_path`) into an empty zip_codes table; a loader that finds
  // the table filled by another one meanwhile changes nothing.
  virtual Status LoadZipRows(const std::string& csv_path, const std::vector<ZipRow>& rows) = 0;
  // Inside the claim's transaction: the claimable rows (each campaign's oldest unpublished
  // row not under a live claim, and that campaign's later rows), at most `limit`, marked
  // claimed until `until` by `token`, into `out` in id order.
  virtual Status ClaimRows(Connection& c, int limit, SysTime now, SysTime until,
                           const std::string& token, std::vector<OutboxRow>& out) = 0;
  // "UPDATE outbox SET <set> WHERE <where>id IN (ids) AND published_at IS NULL", the
  // parameters of `set` then of `where` (empty, or conditions ending in "AND ") in `params`.
  virtual Status UpdateUnpublished(Connection& c, std::string_view set, std::string_view where,
                                   Params params, const std::vector<int64_t>& ids) = 0;
  // Inside the transaction on `c`: deletes the campaign's rows of `t` and inserts `records`
  // (may be empty) in their place.
  virtual Status ReplaceRows(Connection& c, const CampaignId& campaign_id, const RecordTable& t,
                             const std::vector<RankedRecord>& records) = 0;

  // Replaces the campaign's rows of `part` inside the transaction on `c`.
  Status ReplaceRecords(Connection& c, const CampaignId& campaign_id, DataPart part,
                        const std::vector<RankedRecord>& records) {
    return ReplaceRows(c, campaign_id, RecordTableFor(part), records);
  }
  // "DELETE FROM t WHERE campaign_id = ?": ReplaceRows' delete, the id its only parameter.
  static std::string DeleteRowsSql(const RecordTable& t) {
    return Driver::Sql("DELETE FROM " + std::string(t.name) + " WHERE campaign_id = ?");
  }

  // A write inside a transaction whose result is not read: queued to go with the
  // transaction's next round trip where the client can (pg::Connection::Queue), else run now.
  // `miss`, when not empty: the statement must change one row, else kAborted with `miss`.
  static Status Write(Connection& c, const std::string& sql, const Params& p,
                      std::string_view miss = {}) {
    if constexpr (requires { c.Queue(sql, p, miss); }) {
      return c.Queue(sql, p, miss);
    } else {
      DRIPR_ASSIGN_OR_RETURN(Rows done, c.Exec(sql, p));
      if (!miss.empty() && done.Affected() != 1) {
        return Fail(ErrorCode::kAborted, std::string(miss));
      }
      return Ok();
    }
  }

  static Result<bool> ZipTableEmpty(Connection& c) {
    DRIPR_ASSIGN_OR_RETURN(
        Rows rows, c.Exec("SELECT COUNT(*) FROM (SELECT zip_code FROM zip_codes LIMIT 1) z"));
    return rows.Int(0, 0) == 0;
  }

  static Result<int64_t> ReadMaxOutboxId(Connection& c) {
    DRIPR_ASSIGN_OR_RETURN(Rows rows, c.Exec("SELECT COALESCE(MAX(id), 0) FROM outbox"));
    return rows.Int(0, 0);
  }

  Status InTransitionTransaction(std::string_view what, const TransitionBody& body) override {
    return InTransaction(what, [&](Connection& c) -> Status {
      Tx tx(*this, c);
      return body(tx);
    });
  }

  static Status InsertMarketData(Connection& c, const MarketData& m, SysTime now) {
    if (m.current.month.empty()) {
      return Fail(ErrorCode::kInvalidArgument,
                  "market data for zip " + m.zip_code + " has no month");
    }
    Params p;
    p.Text(m.zip_code);
    for (const MarketMonth* month : {&m.current, &m.previous}) {
      p.TextOrNull(month->month).OptReal(month->average_price);
      p.OptReal(month->average_price_per_sqft).OptReal(month->average_days_on_market);
      p.OptInt(month->total_listings);
    }
    p.Time(now);
    static const std::string sql =
        Driver::Sql("INSERT INTO local_market_data (" + std::string(kMarketColumns) +
                    ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
    return Write(c, sql, p);
  }

  static Status InsertOutboxEvent(Connection& c, const StatusChangeEvent& e, SysTime now) {
    Params p;
    p.Text(kCampaignEventsTopic).Text(e.campaign_id.str()).Text(kStatusChangeEventType);
    p.Text(EncodeStatusChange(e)).Text(EncodeOutboxAttributes(StatusChangeAttributes(e)));
    p.Time(now);
    static const std::string sql = Driver::Sql(
        "INSERT INTO outbox (topic, campaign_id, event_type, body, attributes, "
        "created_at, attempts) VALUES (?, ?, ?, ?, ?, ?, 0)");
    return Write(c, sql, p);
  }

  static const std::string& DeleteLeaseSql() {
    static const std::string sql = Driver::Sql("DELETE FROM leases WHERE name = ? AND holder = ?");
    return sql;
  }

  static const std::string& CampaignColumns() { return EpochMsCampaignColumns<Driver>(); }
  static const std::string& OutboxColumns() { return EpochMsOutboxColumns<Driver>(); }

  // The campaign row by id (one parameter). `lock`: SELECT ... FOR UPDATE, or FOR NO KEY
  // UPDATE where the database has it (Driver::kRowLock; inside a transaction).
  static const std::string& CampaignSql(bool lock) {
    static const std::string read =
        Driver::Sql("SELECT " + CampaignColumns() + " FROM campaigns WHERE id = ?");
    static const std::string locked = read + std::string(Driver::kRowLock);
    return lock ? locked : read;
  }
  // kNotFound when absent. `lock` as CampaignSql's.
  static Result<Campaign> LoadCampaign(Connection& c, const CampaignId& id, bool lock) {
    DRIPR_ASSIGN_OR_RETURN(Rows rows, c.Exec(CampaignSql(lock), Params().Text(id.str())));
    if (rows.empty()) return Fail(ErrorCode::kNotFound, "campaign " + id.str() + " not found");
    return ReadCampaign(Row(rows, 0));
  }

  // The campaigns of a list read (AppendReadable: a row that does not read is left out).
  static Status ReadCampaigns(const Rows& rows, std::string_view what, std::vector<Campaign>& out,
                              bool append = false) {
    if (!append) out.clear();
    for (int i = 0; i < rows.size(); ++i)
      DRIPR_TRY(AppendReadable(ReadCampaign(Row(rows, i)), what, out));
    return Ok();
  }

  // Every row of `rows` through `read` into `out` (cleared first unless `append`).
  template <class T, class ReadFn>
  static Status ReadAll(const Rows& rows, ReadFn read, std::vector<T>& out, bool append = false) {
    if (!append) out.clear();
    for (int i = 0; i < rows.size(); ++i) {
      DRIPR_ASSIGN_OR_RETURN(T value, read(Row(rows, i)));
      out.push_back(std::move(value));
    }
    return Ok();
  }

 private:
  // `select` followed by an IN list of `keys`: one statement (retried as a Read), then
  // `row(rows, i)` for each row it returned.
  template <class OnRow>
  Status SelectIn(std::string_view what, std::string_view select, std::span<const std::string> keys,
                  OnRow row) {
    const std::string sql = Driver::Sql(std::string(select) + StoreBase::InList(keys.size()));
    return Read(what, [&](Connection& c) -> Status {
      Params p;
      for (const auto& k : keys) p.Text(k);
      DRIPR_ASSIGN_OR_RETURN(Rows rows, c.Exec(sql, std::move(p)));
      for (int i = 0; i < static_cast<int>(rows.size()); ++i) row(rows, i);
      return Ok();
    });
  }

  // A transition's statements on the connection of its transaction (StoreBase::RunTransition).
  class Tx final : public TransitionTx {
   public:
    Tx(NetworkedStore& store, Connection& c) : store_(store), c_(c) {}

    Status InsertCampaign(const Campaign& row,
                          const std::optional<PropertyData>& property) override {
      Params p;
      p.Text(row.id.str()).TextOrNull(row.user_id).Text(row.zip_code);
      p.Int(row.no_address_newsletter ? 1 : 0).Text(ToString(row.status));
      for (DataPart part : kAllDataParts) p.Text(ToString(row.part(part)));
      p.Int(row.data_cycle).TextOrNull(row.error_text);
      p.Time(row.created_at).Time(row.updated_at).Time(row.status_changed_at);
      p.Time(row.parts_changed_at);
      auto inserted = c_.Exec(
          Driver::Sql("INSERT INTO campaigns (id, user_id, zip_code, no_address_newsletter, "
                      "campaign_status, local_market_data_status, active_listing_status, "
                      "recent_sale_status, data_cycle, error_text, created_at, updated_at, "
                      "status_changed_at, parts_changed_at) "
                      "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"),
          p);
      if (!inserted) {
        if (inserted.error().code == ErrorCode::kAlreadyExists) {
          return Fail(ErrorCode::kAlreadyExists, "campaign " + row.id.str() + " already exists");
        }
        return Fail(inserted.error());
      }
      if (!property) return Ok();
      Params q;
      q.Text(row.id.str()).TextOrNull(property->formatted_address);
      q.Real(property->location.lat).Real(property->location.lng);
      q.OptInt(property->current_value);
      return Write(c_,
                   Driver::Sql("INSERT INTO property_data (campaign_id, formatted_address, "
                               "latitude, longitude, current_value) VALUES (?, ?, ?, ?, ?)"),
                   q);
    }

    Result<Campaign> LockCampaign(const CampaignId& id) override {
      return LoadCampaign(c_, id, /*lock=*/true);
    }

    // LockCampaign's statements, with SKIP LOCKED where not `wait` (a row another
    // transaction holds reads as absent: the batch goes on without it), in one round trip
    // where the client pipelines.
    Result<std::vector<std::optional<Campaign>>> LockCampaigns(
        std::span<const CampaignId> ids, const std::vector<bool>& wait) override {
      static const std::string skip = CampaignSql(/*lock=*/true) + " SKIP LOCKED";
      std::vector<Sent> sent;
      sent.reserve(ids.size());
      for (size_t i = 0; i < ids.size(); ++i) {
        const bool waits = i < wait.size() && wait[i];
        sent.push_back(
            Sent{waits ? CampaignSql(/*lock=*/true) : skip, Params().Text(ids[i].str())});
      }
      DRIPR_ASSIGN_OR_RETURN(std::vector<Rows> rows, ExecTogether(c_, sent));
      std::vector<std::optional<Campaign>> out;
      for (const Rows& r : rows) {
        if (r.empty()) {
          out.emplace_back(std::nullopt);
          continue;
        }
        DRIPR_ASSIGN_OR_RETURN(Campaign row, ReadCampaign(Row(r, 0)));
        out.emplace_back(std::move(row));
      }
      return out;
    }

    Result<int64_t> CompareAndSet(const Campaign& current, const Campaign& next) override {
      Params p;
      p.Text(ToString(next.status));
      for (DataPart part : kAllDataParts) p.Text(ToString(next.part(part)));
      p.Int(next.data_cycle).TextOrNull(next.error_text);
      p.Time(next.updated_at).Time(next.status_changed_at).Time(next.parts_changed_at);
      p.Int(next.republish_count).Int(next.restart_count);
      p.Text(current.id.str()).Text(ToString(current.status)).Int(current.data_cycle);
      for (DataPart part : kAllDataParts) p.Text(ToString(current.part(part)));
      // The row is locked, so a miss means a foreign writer ignoring the lock: retryable (the
      // retry re-reads the row). Checked by the server where the write is queued.
      static const std::string sql = Driver::Sql(
          "UPDATE campaigns SET campaign_status = ?, local_market_data_status = ?, "
          "active_listing_status = ?, recent_sale_status = ?, data_cycle = ?, error_text = ?, "
          "updated_at = ?, status_changed_at = ?, parts_changed_at = ?, republish_count = ?, "
          "restart_count = ? WHERE id = ? AND campaign_status = ? AND data_cycle = ? AND "
          "local_market_data_status = ? AND active_listing_status = ? AND recent_sale_status = ?");
      DRIPR_TRY(
          Write(c_, sql, p, "campaign " + current.id.str() + " changed during the transaction"));
      return 1;
    }

    Status ReplaceRecords(const CampaignId& campaign_id, DataPart part,
                          const std::vector<RankedRecord>& records) override {
      return store_.ReplaceRecords(c_, campaign_id, part, records);
    }
    Status InsertMarketData(const MarketData& m, SysTime now) override {
      return NetworkedStore::InsertMarketData(c_, m, now);
    }
    Status InsertOutboxEvent(const StatusChangeEvent& e, SysTime now) override {
      return NetworkedStore::InsertOutboxEvent(c_, e, now);
    }
    Status DeleteLease(const LeaseRef& lease) override {
      return Write(c_, DeleteLeaseSql(), Params().Text(lease.name).Text(lease.holder));
    }

   private:
    NetworkedStore& store_;
    Connection& c_;
  };

  Result<std::vector<RankedRecord>> GetRecords(const CampaignId& campaign_id,
                                               const RecordTable& t) {
    std::vector<RankedRecord> out;
    DRIPR_TRY(Read("get " + std::string(t.name), [&](Connection& c) -> Status {
      DRIPR_ASSIGN_OR_RETURN(
          Rows rows, c.Exec(Driver::Sql("SELECT " + Driver::Columns(t.columns) + " FROM " +
                                        std::string(t.name) + " WHERE campaign_id = ? ORDER BY " +
                                        Driver::Columns("rank, id")),
                            Params().Text(campaign_id.str())));
      out.clear();
      for (int i = 0; i < rows.size(); ++i) out.push_back(ReadRecord(Row(rows, i), t));
      return Ok();
    }));
    return out;
  }

  // `st` (a MarketSql statement) on a pooled connection: its row, if any.
  Result<std::optional<MarketData>> QueryMarket(const Sent& st) {
    std::optional<MarketData> out;
    DRIPR_TRY(Read("get market data", [&](Connection& c) -> Status {
      DRIPR_ASSIGN_OR_RETURN(out, SelectMarket(c, st));
      return Ok();
    }));
    return out;
  }
  // LoadForPart's one statement for campaign `id` (PartInputsSql), and its reply read.
  static Sent PartInputsStatement(const CampaignId& id) {
    static const std::string sql = Driver::Sql(PartInputsSql(CampaignColumns()));
    return {sql, Params().Text(id.str())};
  }
  static Result<PartInputs> PartInputsFrom(const Rows& rows, const CampaignId& id) {
    if (rows.empty()) return Fail(ErrorCode::kNotFound, "campaign " + id.str() + " not found");
    return ReadPartInputs(Row(rows, 0));
  }
  // The zip's newest market data created at or after `fresh_after`, the zip found through
  // campaign `id` in the same statement (LoadForMarket, LoadForMarketOrLease).
  static Sent CampaignMarketStatement(const CampaignId& id, SysTime fresh_after) {
    static const std::string sql =
        MarketSql("(SELECT " + CampaignZipSql("zip_code") + " FROM campaigns WHERE id = ?)",
                  " AND created_at >= ?");
    return {sql, Params().Text(id.str()).Time(fresh_after)};
  }
  // ReleaseLease's statement on `c`.
  static Status ReleaseLeaseOn(Connection& c, const LeaseRef& lease) {
    DRIPR_TRY(c.Exec(DeleteLeaseSql(), Params().Text(lease.name).Text(lease.holder)));
    return Ok();
  }
  // The newest local_market_data row whose zip code is `zip_expr` (a `?`, or a subquery), with
  // `where` added: its SELECT with the placeholders numbered.
  static std::string MarketSql(std::string_view zip_expr, std::string_view where) {
    static const std::string select = [] {
      std::string cols(kMarketColumns);
      cols.replace(cols.rfind("created_at"), 10, Driver::EpochMs("created_at"));
      return "SELECT " + cols + " FROM local_market_data WHERE zip_code = ";
    }();
    return Driver::Sql(select + std::string(zip_expr) + std::string(where) +
                       " ORDER BY created_at DESC, id DESC LIMIT 1");
  }
  // The row of a MarketSql statement, if any.
  static Result<std::optional<MarketData>> MarketFrom(const Rows& rows) {
    if (rows.empty()) return std::optional<MarketData>();
    DRIPR_ASSIGN_OR_RETURN(MarketData m, ReadMarketData(Row(rows, 0)));
    return std::optional<MarketData>(std::move(m));
  }
  // `st` (a MarketSql statement) on `c`: its row, if any.
  static Result<std::optional<MarketData>> SelectMarket(Connection& c, const Sent& st) {
    DRIPR_ASSIGN_OR_RETURN(Rows rows, c.Exec(st.sql, st.params));
    return MarketFrom(rows);
  }
  // GetMarketData's statement (Now() read when it is built): the SQL and its parameters.
  Sent FreshMarketStatement(const std::string& zip, std::chrono::seconds max_age) {
    static const std::string sql = MarketSql("?", " AND created_at >= ?");
    return Sent{sql, Params().Text(zip).Time(Now() - max_age)};
  }

  // Unpublished outbox rows: how many and the oldest one's created_at.
  static Result<OutboxBacklog> ReadBacklog(Connection& c) {
    DRIPR_ASSIGN_OR_RETURN(Rows rows,
                           c.Exec("SELECT COUNT(*), " + Driver::EpochMs("MIN(created_at)") +
                                  " FROM outbox WHERE published_at IS NULL"));
    OutboxBacklog b;
    b.pending = rows.Int(0, 0);
    if (!rows.IsNull(0, 1)) b.oldest_created = *Row(rows, 0).Time(1, "outbox.created_at");
    return b;
  }

  Random& random_;
};

}  // namespace dripr
