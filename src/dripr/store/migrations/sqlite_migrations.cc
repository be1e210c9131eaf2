// The SQLite dialect of the schema (docs/contracts.md §3). Compiled into the binary: no SQL files
// are read at run time. Timestamps are ISO-8601 UTC text ("2026-11-29T13:40:22.123Z", see
// core/time.h), so text comparison orders them. Empty strings are stored as NULL.

#include <string>

#include "dripr/store/migrations/migrations.h"

namespace dripr {
// Named, not anonymous: the three dialects share names and a unity build merges them.
namespace sqlite_schema {

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

constexpr Dialect kSqliteDialect = {.v1_before = kV1CampaignsSql,
                                    .ranked_table = RankedRecordTable,
                                    .v1_after = kV1MarketSql,
                                    .text = "TEXT",
                                    .date = "TEXT",
                                    .int32 = "INTEGER",
                                    .int64 = "INTEGER",
                                    .time = "TEXT",
                                    .primary_key = " PRIMARY KEY NOT NULL",
                                    .table_options = " WITHOUT ROWID"};

}  // namespace sqlite_schema

std::span<const Migration> SqliteMigrations() {
  static const DialectMigrations migrations(sqlite_schema::kSqliteDialect);
  return migrations.list();
}

}  // namespace dripr
