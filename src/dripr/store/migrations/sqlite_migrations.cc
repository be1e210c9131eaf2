// The SQLite dialect of the schema (docs/contracts.md §3). Compiled into the binary: no SQL files
// are read at run time. Timestamps are ISO-8601 UTC text ("2026-11-29T13:40:22.123Z", see
// core/time.h), so text comparison orders them. Empty strings are stored as NULL.

#include <string>

#include "dripr/store/migrations/migrations.h"

namespace dripr {
namespace {

constexpr std::string_view kV1CampaignsSql = R"sql(
CREATE TABLE campaigns (
  id                       TEXT PRIMARY KEY NOT NULL,
  user_id                  TEXT,
  zip_code                 TEXT NOT NULL,
  no_address_newsletter    INTEGER NOT NULL DEFAULT 0,
  campaign_status          TEXT NOT NULL DEFAULT 'DORMANT',
  local_market_data_status TEXT NOT NULL DEFAULT 'DORMANT',
  active_listing_status    TEXT NOT NULL DEFAULT 'DORMANT',
  recent_sale_status       TEXT NOT NULL DEFAULT 'DORMANT',
  data_cycle               INTEGER NOT NULL DEFAULT 0,
  error_text               TEXT,
  created_at               TEXT NOT NULL,
  updated_at               TEXT NOT NULL,
  status_changed_at        TEXT
);
CREATE INDEX campaigns_by_status ON campaigns (campaign_status);

CREATE TABLE property_data (
  campaign_id       TEXT PRIMARY KEY NOT NULL REFERENCES campaigns (id) ON DELETE CASCADE,
  formatted_address TEXT,
  latitude          REAL,
  longitude         REAL,
  current_value     INTEGER
);

)sql";

// active_listings and recent_sales hold a campaign's ranked records: the same columns but for
// the price (`own_price`) and the dates (`own_dates`), whole column lines (migrations.h V1Sql).
std::string RankedRecordTable(std::string_view table, std::string_view own_price,
                              std::string_view own_dates) {
  return ConcatSql({"CREATE TABLE ", table, R"sql( (
  id                INTEGER PRIMARY KEY,
  campaign_id       TEXT NOT NULL REFERENCES campaigns (id) ON DELETE CASCADE,
  rank              INTEGER NOT NULL,
  score             REAL NOT NULL,
)sql",
                    own_price, R"sql(  formatted_address TEXT,
  address_line1     TEXT,
  city              TEXT,
  state             TEXT,
  zip_code          TEXT,
  latitude          REAL,
  longitude         REAL,
  property_type     TEXT,
  bedrooms          INTEGER,
  bathrooms         REAL,
  square_footage    INTEGER,
)sql",
                    own_dates, R"sql(  distance_miles    REAL,
  source_id         TEXT
);
CREATE INDEX )sql",
                    table, "_by_campaign ON ", table, " (campaign_id, rank);\n"});
}

constexpr std::string_view kV1MarketSql = R"sql(CREATE TABLE local_market_data (
  id                         INTEGER PRIMARY KEY,
  zip_code                   TEXT NOT NULL,
  month                      TEXT NOT NULL,
  average_price              REAL,
  average_price_per_sqft     REAL,
  average_days_on_market     REAL,
  total_listings             INTEGER,
  old_month                  TEXT,
  old_average_price          REAL,
  old_average_price_per_sqft REAL,
  old_average_days_on_market REAL,
  old_total_listings         INTEGER,
  created_at                 TEXT NOT NULL
);
CREATE INDEX local_market_data_by_zip ON local_market_data (zip_code, created_at);

CREATE TABLE zip_codes (
  zip_code  TEXT PRIMARY KEY NOT NULL,
  latitude  REAL NOT NULL,
  longitude REAL NOT NULL
) WITHOUT ROWID;

CREATE TABLE outbox (
  id            INTEGER PRIMARY KEY AUTOINCREMENT,
  topic         TEXT NOT NULL,
  campaign_id   TEXT NOT NULL,
  event_type    TEXT NOT NULL,
  body          TEXT NOT NULL,
  attributes    TEXT NOT NULL DEFAULT '[]',
  created_at    TEXT NOT NULL,
  published_at  TEXT,
  attempts      INTEGER NOT NULL DEFAULT 0,
  claimed_until TEXT,
  claim_token   TEXT
);
CREATE INDEX outbox_pending ON outbox (id) WHERE published_at IS NULL;
CREATE INDEX outbox_by_campaign ON outbox (campaign_id, id);
)sql";

// The ranked-record tables of v1 in this dialect.
constexpr RankedRecordTables kV1RankedTables = {.render = RankedRecordTable,
                                                .money_type = "INTEGER",
                                                .date_type = "TEXT",
                                                .days_type = "INTEGER"};

// v2: what the reconciler and the operator tooling need. parts_changed_at is when any part
// status of the campaign last changed (the reconciler's "has not moved" clock);
// republish_count counts the reconciler's republishes in the current data cycle;
// restart_count counts automatic restarts of an errored campaign. `leases` holds named
// time-limited leases (one reconciler acts at a time); `fetchers` one row per running
// data-fetcher, refreshed by its heartbeat (`dripr queues` says whether one is alive).
constexpr std::string_view kV2Sql = R"sql(
ALTER TABLE campaigns ADD COLUMN parts_changed_at TEXT;
ALTER TABLE campaigns ADD COLUMN republish_count INTEGER NOT NULL DEFAULT 0;
ALTER TABLE campaigns ADD COLUMN restart_count INTEGER NOT NULL DEFAULT 0;
UPDATE campaigns SET parts_changed_at = COALESCE(status_changed_at, updated_at);

CREATE TABLE leases (
  name       TEXT PRIMARY KEY NOT NULL,
  holder     TEXT NOT NULL,
  expires_at TEXT NOT NULL
) WITHOUT ROWID;

CREATE TABLE fetchers (
  instance_id  TEXT PRIMARY KEY NOT NULL,
  host         TEXT NOT NULL,
  pid          INTEGER NOT NULL,
  version      TEXT NOT NULL,
  started_at   TEXT NOT NULL,
  heartbeat_at TEXT NOT NULL
) WITHOUT ROWID;
)sql";

// v3: the provider request budget shared by every instance (docs/decisions/cluster.md): one
// row per budget ("rentcast:" + a hash of the API key, never the key), next_at = the GCRA
// "theoretical arrival time" of the next request slot, in microseconds since the Unix epoch.
constexpr std::string_view kV3Sql = R"sql(
CREATE TABLE provider_budget (
  name    TEXT PRIMARY KEY NOT NULL,
  next_at INTEGER NOT NULL
) WITHOUT ROWID;
)sql";

}  // namespace

std::span<const Migration> SqliteMigrations() {
  static const std::string v1 = V1Sql(kV1CampaignsSql, kV1RankedTables, kV1MarketSql);
  static const auto list = MigrationList({v1, kV2Sql, kV3Sql, kPagingIndexesSql});
  return list;
}

}  // namespace dripr
