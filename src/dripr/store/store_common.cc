#include "dripr/store/store_common.h"

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>

namespace dripr {

OutboxAttributes StatusChangeAttributes(const StatusChangeEvent& e) {
  return {{"event_type", std::string(kStatusChangeEventType)},
          {"to_status", std::string(ToString(e.to_status))}};
}

std::string EncodeOutboxAttributes(const OutboxAttributes& attributes) {
  nlohmann::json a = nlohmann::json::array();
  for (const auto& [name, value] : attributes) a.push_back({name, value});
  return a.dump();
}

Result<OutboxAttributes> DecodeOutboxAttributes(std::string_view json) {
  auto bad = [&] {
    return Fail(ErrorCode::kDataLoss,
                "outbox attributes: expected [[name, value], ...], got " + std::string(json));
  };
  nlohmann::json a = nlohmann::json::parse(json, nullptr, /*allow_exceptions=*/false);
  if (!a.is_array()) return bad();
  OutboxAttributes out;
  for (const auto& pair : a) {
    if (!pair.is_array() || pair.size() != 2 || !pair[0].is_string() || !pair[1].is_string()) {
      return bad();
    }
    out.emplace_back(pair[0].get<std::string>(), pair[1].get<std::string>());
  }
  return out;
}

namespace {

bool ParseDouble(std::string_view text, double min, double max, double* out) {
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), *out);
  return ec == std::errc() && end == text.data() + text.size() && *out >= min && *out <= max;
}

}  // namespace

Result<std::vector<ZipRow>> ReadZipCodeCsv(const std::string& path) {
  std::ifstream in(path);
  if (!in) {
    int err = errno;
    return Fail(err == ENOENT ? ErrorCode::kNotFound : ErrorCode::kUnavailable,
                "zip code file " + path + ": " + std::strerror(err));
  }
  std::vector<ZipRow> rows;
  rows.reserve(40000);
  std::string line;
  int line_no = 0;
  auto bad = [&](const std::string& why) {
    return Fail(ErrorCode::kInvalidArgument, path + ":" + std::to_string(line_no) + ": " + why);
  };
  while (std::getline(in, line)) {
    ++line_no;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line_no == 1) {
      if (line != "zip_code,latitude,longitude") {
        return bad("expected header \"zip_code,latitude,longitude\"");
      }
      continue;
    }
    if (line.empty()) continue;
    size_t c1 = line.find(',');
    size_t c2 = c1 == std::string::npos ? c1 : line.find(',', c1 + 1);
    if (c2 == std::string::npos || line.find(',', c2 + 1) != std::string::npos) {
      return bad("expected zip_code,latitude,longitude");
    }
    ZipRow r;
    r.zip = line.substr(0, c1);
    if (r.zip.size() != 5 || r.zip.find_first_not_of("0123456789") != std::string::npos) {
      return bad("zip code must be 5 digits");
    }
    std::string_view sv(line);
    if (!ParseDouble(sv.substr(c1 + 1, c2 - c1 - 1), -90, 90, &r.lat)) {
      return bad("latitude must be a number between -90 and 90");
    }
    if (!ParseDouble(sv.substr(c2 + 1), -180, 180, &r.lng)) {
      return bad("longitude must be a number between -180 and 180");
    }
    rows.push_back(std::move(r));
  }
  if (in.bad()) return Fail(ErrorCode::kUnavailable, "zip code file " + path + ": read error");
  if (line_no == 0) return bad("empty file");
  return rows;
}

namespace {
int64_t EpochMicros(SysTime t) {
  return std::chrono::duration_cast<std::chrono::microseconds>(t.time_since_epoch()).count();
}
}  // namespace

BudgetSlot DecideBudgetSlot(std::optional<int64_t> next_at, SysTime now,
                            std::chrono::microseconds spacing, std::chrono::microseconds max_wait) {
  const int64_t now_us = EpochMicros(now);
  const int64_t slot = std::max(now_us, next_at.value_or(now_us));
  const std::chrono::microseconds wait(slot - now_us);
  if (wait > max_wait) return {std::nullopt, next_at.value_or(now_us)};
  return {wait, slot + std::max<int64_t>(spacing.count(), 0)};
}

int64_t PausedBudgetNextAt(std::optional<int64_t> next_at, SysTime now,
                           std::chrono::microseconds pause) {
  const int64_t until = EpochMicros(now) + std::max<int64_t>(pause.count(), 0);
  return std::max(until, next_at.value_or(until));
}

}  // namespace dripr

namespace dripr {

std::string CampaignListSql(std::optional<CampaignStatus> status, const CampaignSqlDialect& d,
                            std::vector<std::string>& params) {
  std::string sql = "SELECT " + std::string(d.columns) + " FROM campaigns";
  if (status) {
    params.emplace_back(ToString(*status));
    sql += " WHERE campaign_status = " + d.placeholder(static_cast<int>(params.size()));
  }
  return sql + " ORDER BY created_at, id";
}

std::string CampaignPageSql(const CampaignPageQuery& q, const CampaignSqlDialect& d,
                            std::vector<std::string>& params) {
  const auto& placeholder = d.placeholder;
  const std::string_view id_collate = d.id_collate;
  std::string sql = "SELECT " + std::string(d.columns) + " FROM campaigns WHERE 1 = 1";
  auto bind = [&](std::string value) {
    params.push_back(std::move(value));
    return placeholder(static_cast<int>(params.size()));
  };
  if (q.status) sql += " AND campaign_status = " + bind(std::string(ToString(*q.status)));
  if (!q.search.empty()) {
    // An id prefix is a range of the primary key (ids are printable ASCII and compared
    // bytewise; `id_collate` makes PostgreSQL compare so too) plus the exact check; a zip also
    // matches through campaigns_by_zip_id.
    const bool printable =
        std::all_of(q.search.begin(), q.search.end(), [](char c) { return c > ' ' && c < '\x7f'; });
    const bool zip =
        q.search.size() == 5 &&
        std::all_of(q.search.begin(), q.search.end(), [](char c) { return c >= '0' && c <= '9'; });
    std::string term = "1 = 0";
    if (printable) {
      std::string upper = q.search;
      upper.back() = static_cast<char>(upper.back() + 1);
      term = "(id" + std::string(id_collate) + " >= " + bind(q.search) + " AND id" +
             std::string(id_collate) + " < " + bind(upper) + " AND substr(id, 1, " +
             std::to_string(q.search.size()) + ") = " + bind(q.search) + ")";
    }
    if (zip) term = "zip_code = " + bind(q.search) + " OR " + term;
    sql += " AND (" + term + ")";
  }
  if (!q.after_id.empty()) sql += " AND id > " + bind(q.after_id.str());
  const int limit = std::clamp(q.limit, 1, kMaxCampaignPage + 1);
  sql += " ORDER BY id LIMIT " + std::to_string(limit);
  return sql;
}

bool WaitsForMarketData(const Campaign& c) {
  return c.status == CampaignStatus::kWaitingForData &&
         c.part(DataPart::kLocalMarketData) == PartStatus::kWaitingForData;
}

Result<MarketTurn> RunMarketTurn(bool read_first,
                                 const std::function<Result<std::optional<MarketData>>()>& read,
                                 const std::function<Result<TakenAndRead>()>& take_then_read,
                                 const std::function<Status()>& release) {
  MarketTurn turn;
  if (read_first) {
    DRIPR_ASSIGN_OR_RETURN(turn.stored, read());
    if (turn.stored) return turn;
  }
  DRIPR_ASSIGN_OR_RETURN(TakenAndRead taken, take_then_read());
  turn.held = taken.held;
  if (!turn.held) return turn;
  // The previous holder may have committed between the first read and our lease.
  if (taken.again) {
    // Best effort: a lease not released expires after its ttl.
    (void)release();
    return MarketTurn{std::move(taken.again), false};
  }
  return turn;
}

Result<TakenAndRead> TakeThenRead(const std::function<Result<bool>()>& take,
                                  const std::function<Result<std::optional<MarketData>>()>& read,
                                  const std::function<Status()>& release) {
  TakenAndRead out;
  DRIPR_ASSIGN_OR_RETURN(out.held, take());
  if (!out.held) return out;
  auto again = read();
  if (!again) {
    (void)release();  // best effort, as RunMarketTurn's
    return Fail(again.error());
  }
  out.again = std::move(*again);
  return out;
}

}  // namespace dripr
