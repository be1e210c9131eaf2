#pragma once
// Backend-independent pieces every Store implementation shares (no database code): the outbox
// row of a STATUS_CHANGE event, the attributes' JSON form, the zip CSV reader.

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "dripr/core/clock.h"
#include "dripr/core/error.h"
#include "dripr/domain/campaign_rules.h"
#include "dripr/domain/event.h"
#include "dripr/domain/types.h"
#include "dripr/store/store.h"

namespace dripr {

using OutboxAttributes = std::vector<std::pair<std::string, std::string>>;

// ValidateNewCampaign (the checks before an insert) is domain/campaign_rules.h.

// The message attributes of a STATUS_CHANGE event: event_type and to_status (docs/contracts.md §2).
OutboxAttributes StatusChangeAttributes(const StatusChangeEvent& e);

// Attributes as stored in outbox.attributes: a JSON array of [name, value] pairs,
// e.g. [["event_type","STATUS_CHANGE"],["to_status","WAITING_FOR_DATA"]].
std::string EncodeOutboxAttributes(const OutboxAttributes& attributes);
// kDataLoss when the text is not such an array.
Result<OutboxAttributes> DecodeOutboxAttributes(std::string_view json);

// Column lists of the part tables and of local_market_data, in the order every backend
// binds and reads them (campaign_id is bound first and not listed).
inline constexpr std::string_view kListingColumns =
    "rank, score, price, formatted_address, address_line1, city, state, zip_code, latitude, "
    "longitude, property_type, bedrooms, bathrooms, square_footage, listed_date, days_on_market, "
    "distance_miles, source_id";
inline constexpr std::string_view kSaleColumns =
    "rank, score, sale_price, formatted_address, address_line1, city, state, zip_code, latitude, "
    "longitude, property_type, bedrooms, bathrooms, square_footage, sale_date, distance_miles, "
    "source_id";
inline constexpr std::string_view kMarketColumns =
    "zip_code, month, average_price, average_price_per_sqft, average_days_on_market, "
    "total_listings, old_month, old_average_price, old_average_price_per_sqft, "
    "old_average_days_on_market, old_total_listings, created_at";

// How a backend writes the campaign listings' SQL: its campaign columns, its n-th parameter
// marker (1-based: "?" or "$n"), and what makes its id comparisons bytewise ("" or
// " COLLATE \"C\"").
struct CampaignSqlDialect {
  std::string_view columns;
  std::string (*placeholder)(int n);
  std::string_view id_collate;
};

// The SELECT of Store::ListCampaigns (all, or one status; by created_at, id). Appends the text
// parameters to bind, in order, to `params`.
std::string CampaignListSql(std::optional<CampaignStatus> status, const CampaignSqlDialect& d,
                            std::vector<std::string>& params);
// The SELECT of Store::ListCampaignsPage. The limit is clamped to 1..kMaxCampaignPage + 1 (a
// caller asks for one row more than a page to learn whether another follows).
std::string CampaignPageSql(const CampaignPageQuery& q, const CampaignSqlDialect& d,
                            std::vector<std::string>& params);

// One line of data/zip_codes.csv.
struct ZipRow {
  std::string zip;
  double lat = 0;
  double lng = 0;
};
// Reads "zip_code,latitude,longitude" then one zip per line. kInvalidArgument naming
// file:line for a bad line; kNotFound when the file is missing.
Result<std::vector<ZipRow>> ReadZipCodeCsv(const std::string& path);

// Timestamps are stored with millisecond precision; stores truncate "now" first so that
// what a transition returns equals what a later read returns.
inline SysTime TruncateToMillis(SysTime t) {
  return std::chrono::floor<std::chrono::milliseconds>(t);
}

// Store::ReserveBudgetSlot's decision on the budget's row: `next_at` is the stored next free
// slot (nullopt: no row yet), every time in microseconds since the Unix epoch. `wait` is
// nullopt when the slot would be more than `max_wait` away, and then `next_at` is unchanged.
struct BudgetSlot {
  std::optional<std::chrono::microseconds> wait;
  int64_t next_at = 0;  // the value to store
};
BudgetSlot DecideBudgetSlot(std::optional<int64_t> next_at, SysTime now,
                            std::chrono::microseconds spacing, std::chrono::microseconds max_wait);
// Store::PauseBudget's new next_at: the later of the stored one and now + pause.
int64_t PausedBudgetNextAt(std::optional<int64_t> next_at, SysTime now,
                           std::chrono::microseconds pause);

// Whether `c` waits for its market data (the campaign and its local_market_data part
// WAITING_FOR_DATA): only then does Store::LoadForMarketOrLease take the zip's lease.
bool WaitsForMarketData(const Campaign& c);

// Taking the lease, then reading the zip's data again (what the previous holder may have
// committed just before): whether the lease is held, and the data read after it (looked at
// only when held).
struct TakenAndRead {
  bool held = false;
  std::optional<MarketData> again;
};
// Store::MarketDataOrLease's decision, given the backend's steps (each on the connection the
// backend chose): `read` the zip's data within the reuse window, `take_then_read` the lease
// and the data after it (one round trip where the backend can: TakeThenRead otherwise),
// `release` the lease.
Result<MarketTurn> RunMarketTurn(bool read_first,
                                 const std::function<Result<std::optional<MarketData>>()>& read,
                                 const std::function<Result<TakenAndRead>()>& take_then_read,
                                 const std::function<Status()>& release);
// `take`, then `read` when the lease is held (`release` it when that read fails):
// RunMarketTurn's second step one call after the other.
Result<TakenAndRead> TakeThenRead(const std::function<Result<bool>()>& take,
                                  const std::function<Result<std::optional<MarketData>>()>& read,
                                  const std::function<Status()>& release);

}  // namespace dripr
