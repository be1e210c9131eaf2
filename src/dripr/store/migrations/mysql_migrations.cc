// The MySQL/MariaDB dialect of the schema (docs/contracts.md §3): the same versions, tables and
// columns as the SQLite and PostgreSQL lists, in MySQL's types. Every table is InnoDB (row locks,
// transactions, foreign keys), utf8mb4 with the binary collation (ids and text compare
// exactly, as in SQLite and PostgreSQL), and every timestamp is DATETIME(6) holding UTC
// (sessions run with time_zone '+00:00'). `rank` is quoted: it is reserved in MySQL 8.
//
// MySQL commits DDL implicitly, so a migration's statements are run one by one (the
// migration is recorded after its last statement); `dripr migrate` serializes concurrent
// runs with GET_LOCK (MysqlStore::Migrate). Partial indexes do not exist: the outbox's
// pending-row indexes lead with published_at instead.

#include <string>

#include "dripr/store/migrations/migrations.h"

namespace dripr {
// Named, not anonymous: the three dialects share names and a unity build merges them.
namespace mysql_schema {

constexpr std::string_view kV1CampaignsSql = R"sql(
CREATE TABLE campaigns (
  id                       VARCHAR(64) NOT NULL PRIMARY KEY,
  user_id                  VARCHAR(255),
  zip_code                 VARCHAR(16) NOT NULL,
  no_address_newsletter    INT NOT NULL DEFAULT 0,
  campaign_status          VARCHAR(32) NOT NULL DEFAULT 'DORMANT',
  local_market_data_status VARCHAR(32) NOT NULL DEFAULT 'DORMANT',
  active_listing_status    VARCHAR(32) NOT NULL DEFAULT 'DORMANT',
  recent_sale_status       VARCHAR(32) NOT NULL DEFAULT 'DORMANT',
  data_cycle               BIGINT NOT NULL DEFAULT 0,
  error_text               TEXT,
  created_at               DATETIME(6) NOT NULL,
  updated_at               DATETIME(6) NOT NULL,
  status_changed_at        DATETIME(6),
  KEY campaigns_by_status (campaign_status)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE property_data (
  campaign_id       VARCHAR(64) NOT NULL PRIMARY KEY,
  formatted_address TEXT,
  latitude          DOUBLE,
  longitude         DOUBLE,
  current_value     BIGINT,
  CONSTRAINT property_data_campaign FOREIGN KEY (campaign_id) REFERENCES campaigns (id)
    ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

)sql";

// active_listings and recent_sales hold a campaign's ranked records: the same columns but for
// the price (`own_price`) and the dates (`own_dates`), whole column lines (migrations.h V1Sql).
std::string RankedRecordTable(std::string_view table, std::string_view own_price,
                              std::string_view own_dates) {
  return ConcatSql({"CREATE TABLE ", table, R"sql( (
  id                BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
  campaign_id       VARCHAR(64) NOT NULL,
  `rank`            INT NOT NULL,
  score             DOUBLE NOT NULL,
)sql",
                    own_price, R"sql(  formatted_address TEXT,
  address_line1     TEXT,
  city              VARCHAR(255),
  state             VARCHAR(255),
  zip_code          VARCHAR(255),
  latitude          DOUBLE,
  longitude         DOUBLE,
  property_type     VARCHAR(255),
  bedrooms          INT,
  bathrooms         DOUBLE,
  square_footage    INT,
)sql",
                    own_dates, R"sql(  distance_miles    DOUBLE,
  source_id         VARCHAR(255),
  KEY )sql",
                    table, R"sql(_by_campaign (campaign_id, `rank`),
  CONSTRAINT )sql",
                    table, R"sql(_campaign FOREIGN KEY (campaign_id) REFERENCES campaigns (id)
    ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
)sql"});
}

constexpr std::string_view kV1MarketSql = R"sql(CREATE TABLE local_market_data (
  id                         BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
  zip_code                   VARCHAR(16) NOT NULL,
  month                      VARCHAR(32) NOT NULL,
  average_price              DOUBLE,
  average_price_per_sqft     DOUBLE,
  average_days_on_market     DOUBLE,
  total_listings             BIGINT,
  old_month                  VARCHAR(32),
  old_average_price          DOUBLE,
  old_average_price_per_sqft DOUBLE,
  old_average_days_on_market DOUBLE,
  old_total_listings         BIGINT,
  created_at                 DATETIME(6) NOT NULL,
  KEY local_market_data_by_zip (zip_code, created_at)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE zip_codes (
  zip_code  VARCHAR(16) NOT NULL PRIMARY KEY,
  latitude  DOUBLE NOT NULL,
  longitude DOUBLE NOT NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE outbox (
  id            BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
  topic         VARCHAR(255) NOT NULL,
  campaign_id   VARCHAR(64) NOT NULL,
  event_type    VARCHAR(64) NOT NULL,
  body          TEXT NOT NULL,
  attributes    VARCHAR(2048) NOT NULL DEFAULT '[]',
  created_at    DATETIME(6) NOT NULL,
  published_at  DATETIME(6),
  attempts      INT NOT NULL DEFAULT 0,
  claimed_until DATETIME(6),
  claim_token   VARCHAR(64),
  KEY outbox_pending (published_at, id),
  KEY outbox_pending_by_campaign (campaign_id, published_at, id),
  KEY outbox_by_campaign (campaign_id, id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
)sql";

constexpr Dialect kMysqlDialect = {
    .v1_before = kV1CampaignsSql,
    .ranked_table = RankedRecordTable,
    .v1_after = kV1MarketSql,
    .text = "VARCHAR(255)",
    .date = "VARCHAR(64)",
    .int32 = "INT",
    .int64 = "BIGINT",
    .time = "DATETIME(6)",
    .primary_key = " NOT NULL PRIMARY KEY",
    .table_options = " ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin",
    .one_alter = true};

}  // namespace mysql_schema

std::span<const Migration> MysqlMigrations() {
  static const DialectMigrations migrations(mysql_schema::kMysqlDialect);
  return migrations.list();
}

}  // namespace dripr
