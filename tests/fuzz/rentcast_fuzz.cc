// libFuzzer target: RentCast JSON (docs/reference/rentcast-api.md) through the tolerant
// decoders (docs/decisions/fuzzing.md). Input: one byte choosing listings, sales or a market
// object, then the body.
//
// Checked beyond "no crash": failures are never kInternal and carry a bounded, valid UTF-8
// message; the counts add up (records decoded = records returned); every decoded record has
// an id (or an address as its id), a valid date or none, a positive price, a
// coordinate in range; market statistics are for the asked zip.

#include <cmath>
#include <nlohmann/json.hpp>

#include "dripr/providers/rentcast/rentcast_decode.h"
#include "fuzz_support.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace dripr;
  if (size < 1) return 0;
  std::string_view body(reinterpret_cast<const char*>(data) + 1, size - 1);
  DecodeStats stats;
  switch (data[0] % 3) {
    case 0:
    case 1: {
      auto kind = data[0] % 3 == 0 ? RentCastRecordKind::kListing : RentCastRecordKind::kSale;
      auto records = DecodePropertyRecords(body, kind, stats);
      fuzz::CheckResult(records);
      if (records) {
        fuzz::Check(static_cast<int>(records->size()) == stats.records);
        for (const auto& r : *records) {
          fuzz::Check(!r.source_id.empty());
          fuzz::Check(r.event_date.empty() ||
                      (r.event_date.size() == 10 && r.event_date[4] == '-'));
          if (r.price) fuzz::Check(*r.price >= 1);
          if (r.location)
            fuzz::Check(std::abs(r.location->lat) <= 90 && std::abs(r.location->lng) <= 180);
          if (r.bedrooms) fuzz::Check(*r.bedrooms >= 0);
        }
      }
      break;
    }
    default: {
      auto j = nlohmann::json::parse(body, nullptr, false);
      if (j.is_discarded()) return 0;
      auto market = DecodeMarket(j, "10001", stats);
      fuzz::CheckResult(market);
      if (market) fuzz::Check(market->zip_code == "10001");
      break;
    }
  }
  return 0;
}
