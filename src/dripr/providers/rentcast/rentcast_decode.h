#pragma once
// Tolerant decoding of RentCast JSON (docs/reference/rentcast-api.md) into the domain model.
//
// Any field may be null, missing or of the wrong type: such a field is left unset (and
// counted); a record that is not an object or has neither an id nor an address is skipped
// (and counted). Nothing here throws.

#include <nlohmann/json_fwd.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "dripr/core/error.h"
#include "dripr/domain/types.h"

namespace dripr {

struct DecodeStats {
  int records = 0;          // records decoded
  int skipped_records = 0;  // array elements dropped (not an object, no id and no address)
  int skipped_fields = 0;   // fields present but unusable (wrong type, out of range, bad date)
};

enum class RentCastRecordKind {
  kListing,  // /listings/sale: price, listedDate, daysOnMarket
  kSale,     // /properties:    lastSalePrice, lastSaleDate
};

// Decodes one element of a search response. nullopt when the record is skipped.
std::optional<PropertyRecord> DecodePropertyRecord(const nlohmann::json& j, RentCastRecordKind kind,
                                                   DecodeStats& stats);

// Decodes a whole search response (a JSON array). kUnavailable for a body that is not
// valid JSON or not an array (a truncated or garbled response is most likely transient).
Result<std::vector<PropertyRecord>> DecodePropertyRecords(std::string_view body,
                                                          RentCastRecordKind kind,
                                                          DecodeStats& stats);

// Decodes a /markets response object for `zip`: current = the newest month of
// saleData.history (or, without history, the top-level saleData statistics dated by
// lastUpdatedDate); previous = SelectPreviousMonth. kNotFound when there are no usable sale
// statistics. created_at is left for the caller.
Result<MarketData> DecodeMarket(const nlohmann::json& j, const std::string& zip,
                                DecodeStats& stats);

// The comparison month for `newest` ("YYYY-MM"): the month three months earlier when
// `months` has it, otherwise the month before `newest` closest to that target (ties go to
// the older one). "" when `months` has nothing before `newest`.
std::string SelectPreviousMonth(const std::vector<std::string>& months, const std::string& newest);

// "2024-06-24T00:00:00.000Z" → "2024-06-24"; "" unless the text starts with a valid date.
std::string DatePart(std::string_view iso);

}  // namespace dripr
