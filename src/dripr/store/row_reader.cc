#include "dripr/store/row_reader.h"

#include <mutex>
#include <unordered_set>

#include "dripr/core/log.h"

namespace dripr {

namespace {

// Whether this process has not warned yet about `reason` (which names the row). A reconciler
// pass, a dashboard page or `campaign list` reads the same row again and again: one line per
// row and reason, not one per read. Bounded: past kMaxRemembered reasons it starts over.
bool FirstTimeFor(const std::string& reason) {
  constexpr size_t kMaxRemembered = 1024;
  static std::mutex mu;
  static std::unordered_set<std::string> warned;
  std::lock_guard lock(mu);
  if (warned.size() >= kMaxRemembered) warned.clear();
  return warned.insert(reason).second;
}

}  // namespace

Status AppendReadable(Result<Campaign> campaign, std::string_view what,
                      std::vector<Campaign>& out) {
  if (campaign) {
    out.push_back(std::move(*campaign));
    return Ok();
  }
  if (campaign.error().code != ErrorCode::kDataLoss) return Fail(campaign.error());
  if (FirstTimeFor(campaign.error().message)) {
    DRIPR_LOG_WARN("{}: left out a campaign row that does not read: {} (said once per process)",
                   what, campaign.error().message);
  }
  return Ok();
}

std::string CampaignZip(std::string_view stored) {
  // Characters as UTF-8 counts them (LIKE and SUBSTR on the servers): a byte that is not a
  // continuation byte starts one.
  size_t chars = 0;
  size_t sixth_at = 0;
  for (size_t i = 0; i < stored.size(); ++i) {
    if ((static_cast<unsigned char>(stored[i]) & 0xC0) == 0x80) continue;
    if (chars == 5) sixth_at = i;
    ++chars;
  }
  if (chars == 10 && stored[sixth_at] == '-') return std::string(stored.substr(0, sixth_at));
  return std::string(stored);
}

std::string CampaignZipSql(std::string_view column) {
  const std::string c(column);
  return "CASE WHEN " + c + " LIKE '_____-____' THEN SUBSTR(" + c + ", 1, 5) ELSE " + c + " END";
}

Result<Campaign> ReadCampaign(const RowReader& r) {
  Campaign c;
  // Unchecked: the store's own row (domain/campaign_id.h, docs/decisions/domain.md).
  c.id = CampaignId::FromStoredRow(r.Text(0));
  c.user_id = r.Text(1);
  c.zip_code = CampaignZip(r.Text(2));
  c.no_address_newsletter = r.Int(3) != 0;
  auto bad_status = [&](std::string_view column, const std::string& value) {
    return Fail(ErrorCode::kDataLoss, "campaign " + c.id.str() + ": unknown " +
                                          std::string(column) + " \"" + value + "\"");
  };
  std::string status = r.Text(4);
  auto cs = ParseCampaignStatus(status);
  if (!cs) return bad_status("campaign_status", status);
  c.status = *cs;
  for (DataPart p : kAllDataParts) {
    std::string text = r.Text(5 + static_cast<int>(p));
    auto ps = ParsePartStatus(text);
    if (!ps) return bad_status(StatusColumn(p), text);
    c.part(p) = *ps;
  }
  c.data_cycle = r.Int(8);
  c.error_text = r.Text(9);
  // A time that does not parse names the row too (AppendReadable warns once per message).
  auto time = [&](int col, std::string_view what) -> Result<SysTime> {
    auto t = r.Time(col, what);
    if (!t) return Fail(t.error().Wrap("campaign " + c.id.str()));
    return t;
  };
  DRIPR_ASSIGN_OR_RETURN(c.created_at, time(10, "campaigns.created_at"));
  DRIPR_ASSIGN_OR_RETURN(c.updated_at, time(11, "campaigns.updated_at"));
  // Nullable in every schema: a row another producer wrote without it changed status no later
  // than its last update (read as 1970-01-01 before, and written back so by the next
  // transition).
  if (r.IsNull(12)) {
    c.status_changed_at = c.updated_at;
  } else {
    DRIPR_ASSIGN_OR_RETURN(c.status_changed_at, time(12, "campaigns.status_changed_at"));
  }
  if (r.IsNull(13)) {
    c.parts_changed_at = c.status_changed_at;  // a row another producer wrote
  } else {
    DRIPR_ASSIGN_OR_RETURN(c.parts_changed_at, time(13, "campaigns.parts_changed_at"));
  }
  c.republish_count = static_cast<int>(r.Int(14));
  c.restart_count = static_cast<int>(r.Int(15));
  return c;
}

Result<OutboxRow> ReadOutbox(const RowReader& r) {
  OutboxRow o;
  o.id = r.Int(0);
  o.topic = r.Text(1);
  o.campaign_id = CampaignId::FromStoredRow(r.Text(2));
  o.event_type = r.Text(3);
  o.body = r.Text(4);
  // A row another program wrote with attributes or a time that do not parse is returned
  // marked, not failed: a failure here would fail every claim that reads it (the oldest
  // first), and so every publish (docs/decisions/store.md, "Outbox rows set aside").
  if (auto attributes = DecodeOutboxAttributes(r.Text(5))) {
    o.attributes = std::move(*attributes);
  } else {
    o.unreadable = attributes.error().message;
  }
  if (auto created = r.Time(6, "outbox.created_at")) {
    o.created_at = *created;
  } else if (o.unreadable.empty()) {
    o.unreadable = created.error().message;
  }
  o.attempts = static_cast<int>(r.Int(7));
  return o;
}

std::string PartInputsSql(std::string_view campaign_columns) {
  // The centroid as two scalar subqueries (a primary-key lookup each), not a join: zip_codes
  // also has a zip_code column, which would make the unqualified one in `campaign_columns`
  // ambiguous once the join is on an expression.
  const std::string zip = CampaignZipSql("campaigns.zip_code");
  auto centroid = [&](std::string_view column) {
    return "(SELECT z." + std::string(column) + " FROM zip_codes z WHERE z.zip_code = " + zip + ")";
  };
  return "SELECT " + std::string(campaign_columns) +
         ", p.formatted_address, p.latitude, p.longitude, p.current_value, p.campaign_id, " +
         centroid("latitude") + ", " + centroid("longitude") +
         " FROM campaigns LEFT JOIN property_data p ON p.campaign_id = campaigns.id WHERE "
         "campaigns.id = ?";
}

Result<PartInputs> ReadPartInputs(const RowReader& r) {
  constexpr int kProperty = 16;  // after the campaign's columns
  constexpr int kZip = kProperty + 5;
  PartInputs in;
  DRIPR_ASSIGN_OR_RETURN(in.campaign, ReadCampaign(r));
  // A property row without coordinates (another program stored the address before geocoding
  // it; every schema allows NULL there) has no location to search around: read as no
  // property, so the handler searches around the zip's centroid, not around (0, 0).
  if (!r.IsNull(kProperty + 4) && !r.IsNull(kProperty + 1) && !r.IsNull(kProperty + 2)) {
    PropertyData p;
    p.formatted_address = r.Text(kProperty);
    p.location = GeoPoint{r.Real(kProperty + 1), r.Real(kProperty + 2)};
    p.current_value = r.OptInt(kProperty + 3);
    in.property = std::move(p);
  }
  if (!r.IsNull(kZip)) in.zip_centroid = GeoPoint{r.Real(kZip), r.Real(kZip + 1)};
  return in;
}

const RecordTable& RecordTableFor(DataPart part) {
  return part == DataPart::kRecentSales ? kSalesTable : kListingsTable;
}

RankedRecord ReadRecord(const RowReader& r, const RecordTable& t) {
  RankedRecord out;
  PropertyRecord& p = out.record;
  out.rank = static_cast<int>(r.Int(0));
  out.score = r.Real(1);
  p.price = r.OptInt(2);
  p.formatted_address = r.Text(3);
  p.address_line1 = r.Text(4);
  p.city = r.Text(5);
  p.state = r.Text(6);
  p.zip_code = r.Text(7);
  if (!r.IsNull(8) && !r.IsNull(9)) p.location = GeoPoint{r.Real(8), r.Real(9)};
  p.property_type = r.Text(10);
  if (auto v = r.OptInt(11)) p.bedrooms = static_cast<int>(*v);
  p.bathrooms = r.OptReal(12);
  if (auto v = r.OptInt(13)) p.square_footage = static_cast<int>(*v);
  p.event_date = r.Text(14);
  int col = 15;
  if (t.has_days_on_market) {
    if (auto v = r.OptInt(col)) p.days_on_market = static_cast<int>(*v);
    ++col;
  }
  out.distance_miles = r.Real(col++);
  p.source_id = r.Text(col);
  return out;
}

namespace {

MarketMonth ReadMonth(const RowReader& r, int first) {
  MarketMonth m;
  m.month = r.Text(first);
  m.average_price = r.OptReal(first + 1);
  m.average_price_per_sqft = r.OptReal(first + 2);
  m.average_days_on_market = r.OptReal(first + 3);
  m.total_listings = r.OptInt(first + 4);
  return m;
}

}  // namespace

Result<MarketData> ReadMarketData(const RowReader& r) {
  MarketData m;
  m.zip_code = r.Text(0);
  m.current = ReadMonth(r, 1);
  m.previous = ReadMonth(r, 6);
  DRIPR_ASSIGN_OR_RETURN(m.created_at, r.Time(11, "local_market_data.created_at"));
  return m;
}

Result<FetcherInfo> ReadFetcher(const RowReader& r) {
  FetcherInfo f;
  f.instance_id = r.Text(0);
  f.host = r.Text(1);
  f.pid = r.Int(2);
  f.version = r.Text(3);
  DRIPR_ASSIGN_OR_RETURN(f.started_at, r.Time(4, "fetchers.started_at"));
  DRIPR_ASSIGN_OR_RETURN(f.heartbeat_at, r.Time(5, "fetchers.heartbeat_at"));
  return f;
}

}  // namespace dripr
