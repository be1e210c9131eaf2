#include "dripr/store/store_common.h"

#include <cmath>
#include <nlohmann/json.hpp>

namespace dripr {

Result<NewCampaign> ValidateNewCampaign(const NewCampaign& c) {
  NewCampaign out = c;
  if (c.id.empty()) return Fail(ErrorCode::kInvalidArgument, "campaign id: must not be empty");
  if (c.id.size() > 64) {
    return Fail(ErrorCode::kInvalidArgument,
                "campaign id: at most 64 characters, got " + std::to_string(c.id.size()));
  }
  for (unsigned char ch : c.id) {
    if (ch <= 0x20 || ch >= 0x7F) {
      return Fail(ErrorCode::kInvalidArgument,
                  "campaign id: only printable ASCII characters without spaces are allowed");
    }
  }
  auto zip = NormalizeZip(c.zip_code);
  if (!zip) return Fail(zip.error().Wrap("zip_code"));
  out.zip_code = *zip;
  if (c.property) {
    const GeoPoint& p = c.property->location;
    if (!std::isfinite(p.lat) || p.lat < -90 || p.lat > 90) {
      return Fail(ErrorCode::kInvalidArgument, "latitude: must be between -90 and 90");
    }
    if (!std::isfinite(p.lng) || p.lng < -180 || p.lng > 180) {
      return Fail(ErrorCode::kInvalidArgument, "longitude: must be between -180 and 180");
    }
    if (c.property->current_value && *c.property->current_value < 0) {
      return Fail(ErrorCode::kInvalidArgument, "current value: must not be negative");
    }
  }
  return out;
}

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

}  // namespace dripr
