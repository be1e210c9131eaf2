#pragma once
// Row <-> struct conversions every backend shares (no database code). A backend wraps one row
// of its result set in a RowReader; the readers below map columns to fields in the order of
// the column lists (kCampaignColumns of the backend, kOutboxColumns, store_common.h's lists),
// so a column is mapped once for SQLite, PostgreSQL and MySQL.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "dripr/core/clock.h"
#include "dripr/core/error.h"
#include "dripr/domain/types.h"
#include "dripr/store/store.h"
#include "dripr/store/store_common.h"

namespace dripr {

// One row of a result; columns are 0-based. NULL reads as "" / 0 from Text/Int/Real.
class RowReader {
 public:
  virtual bool IsNull(int col) const = 0;
  virtual std::string Text(int col) const = 0;
  virtual int64_t Int(int col) const = 0;
  virtual double Real(int col) const = 0;
  // A timestamp column; NULL reads as the epoch. kDataLoss naming `what` when unreadable.
  virtual Result<SysTime> Time(int col, std::string_view what) const = 0;

  std::optional<int64_t> OptInt(int col) const {
    return IsNull(col) ? std::nullopt : std::optional<int64_t>(Int(col));
  }
  std::optional<double> OptReal(int col) const {
    return IsNull(col) ? std::nullopt : std::optional<double>(Real(col));
  }

 protected:
  ~RowReader() = default;
};

// Row `row` of a networked backend's Rows (pg::Rows, my::Rows), whose timestamps are selected
// as epoch milliseconds.
template <class Rows>
class EpochMsRow final : public RowReader {
 public:
  EpochMsRow(const Rows& rows, int row) : rows_(rows), row_(row) {}
  bool IsNull(int col) const override { return rows_.IsNull(row_, col); }
  std::string Text(int col) const override { return rows_.Text(row_, col); }
  int64_t Int(int col) const override { return rows_.Int(row_, col); }
  double Real(int col) const override { return rows_.Real(row_, col); }
  Result<SysTime> Time(int col, std::string_view /*what*/) const override {
    return SysTime{} + std::chrono::milliseconds(rows_.Int(row_, col));
  }

 private:
  const Rows& rows_;
  const int row_;
};

// The zip a campaign row stands for. dripr stores 5 digits (NormalizeZip); a ZIP+4 another
// program stored ("02139-4301": ten characters, '-' the sixth) stands for its first five, as
// CampaignZipSql reads it in SQL, so the row finds its zip's centroid, market data and market
// lease. Anything else reads as stored (a zip that is not one fails where it is used, named).
std::string CampaignZip(std::string_view stored);
// CampaignZip of the text column `column`, as an SQL expression every backend runs (characters,
// not bytes, on each: LIKE's `_` and SUBSTR count characters).
std::string CampaignZipSql(std::string_view column);
// The campaigns columns in kCampaignColumns order; the zip as CampaignZip reads it.
Result<Campaign> ReadCampaign(const RowReader& r);
// A list read's campaign (ListCampaigns, ListCampaignsPage, FindReconcileCandidates): appended
// to `out` when it reads; a row another program wrote so that it does not (kDataLoss: a status
// text no version knows, a time that does not parse) is left out with a warning naming it, so
// that one such row fails neither the dashboard's pages nor `campaign list` nor every
// reconciler pass for every campaign; the warning once per row and reason per process, not at
// every read of it. Other errors are returned.
Status AppendReadable(Result<Campaign> campaign, std::string_view what, std::vector<Campaign>& out);
// The outbox columns in kOutboxColumns order.
Result<OutboxRow> ReadOutbox(const RowReader& r);

// Store::LoadForPart's one statement: `campaign_columns` (the backend's campaigns columns in
// kCampaignColumns order), then the property's address, latitude, longitude, current value and
// campaign_id (NULL when it has none), then its zip's (CampaignZipSql) centroid latitude and
// longitude (NULL when not in zip_codes); one `?` for the id. No row: no campaign. Every lookup
// is a primary key.
std::string PartInputsSql(std::string_view campaign_columns);
// A row of PartInputsSql.
Result<PartInputs> ReadPartInputs(const RowReader& r);

// A part table: active_listings (kListingColumns) or recent_sales (kSaleColumns). Both have
// the same shape; sales have sale_price/sale_date and no days_on_market.
struct RecordTable {
  std::string_view name;
  std::string_view columns;  // without campaign_id
  int column_count;          // including campaign_id
  bool has_days_on_market;
};
inline constexpr RecordTable kListingsTable = {"active_listings", kListingColumns, 19, true};
inline constexpr RecordTable kSalesTable = {"recent_sales", kSaleColumns, 18, false};
// kSalesTable for kRecentSales, kListingsTable otherwise.
const RecordTable& RecordTableFor(DataPart part);
// The columns of `t.columns`, in order.
RankedRecord ReadRecord(const RowReader& r, const RecordTable& t);

// A part row's values in `t.columns` order, campaign_id first, the way the networked stores
// write them (empty text is NULL). `out` has Text/TextOrNull/Int/OptInt/Real/OptReal/Null
// (pg::Params, pg::CopyText, my::Params).
template <class Out>
void AddRecordValues(Out& out, const CampaignId& campaign_id, const RankedRecord& r,
                     const RecordTable& t) {
  const PropertyRecord& p = r.record;
  out.Text(campaign_id.str()).Int(r.rank).Real(r.score).OptInt(p.price);
  out.TextOrNull(p.formatted_address).TextOrNull(p.address_line1).TextOrNull(p.city);
  out.TextOrNull(p.state).TextOrNull(p.zip_code);
  if (p.location) {
    out.Real(p.location->lat).Real(p.location->lng);
  } else {
    out.Null().Null();
  }
  out.TextOrNull(p.property_type).OptInt(p.bedrooms).OptReal(p.bathrooms);
  out.OptInt(p.square_footage).TextOrNull(p.event_date);
  if (t.has_days_on_market) out.OptInt(p.days_on_market);
  out.Real(r.distance_miles).TextOrNull(p.source_id);
}

// The columns of kMarketColumns.
Result<MarketData> ReadMarketData(const RowReader& r);

// instance_id, host, pid, version, started_at, heartbeat_at.
inline constexpr std::string_view kFetcherColumns =
    "instance_id, host, pid, version, started_at, heartbeat_at";
Result<FetcherInfo> ReadFetcher(const RowReader& r);

}  // namespace dripr
