// Tolerant decoding of RentCast bodies (no network).

#include "dripr/providers/rentcast/rentcast_decode.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

namespace dripr {
namespace {

using nlohmann::json;

TEST(RentCastDatePart, AcceptsIsoDatesAndRejectsGarbage) {
  EXPECT_EQ(DatePart("2024-06-24T00:00:00.000Z"), "2024-06-24");
  EXPECT_EQ(DatePart("2024-06-24"), "2024-06-24");
  EXPECT_EQ(DatePart("2024-13-01T00:00:00Z"), "");
  EXPECT_EQ(DatePart("2024-06-00"), "");
  EXPECT_EQ(DatePart("2024/06/24"), "");
  EXPECT_EQ(DatePart("2024-06-24x"), "");
  EXPECT_EQ(DatePart("24-06-24"), "");
}

TEST(RentCastDecode, ListingWithAllFields) {
  json j = json::parse(R"({"id":"3821-Hargis-St,-Austin,-TX-78723",
    "formattedAddress":"3821 Hargis St, Austin, TX 78723","addressLine1":"3821 Hargis St",
    "addressLine2":null,"city":"Austin","state":"TX","zipCode":"78723","latitude":30.290643,
    "longitude":-97.701547,"propertyType":"Single Family","bedrooms":4,"bathrooms":2.5,
    "squareFootage":2345,"status":"Active","price":899000,
    "listedDate":"2024-06-24T00:00:00.000Z","daysOnMarket":99})");
  DecodeStats stats;
  auto r = DecodePropertyRecord(j, RentCastRecordKind::kListing, stats);
  ASSERT_TRUE(r);
  PropertyRecord want;
  want.source_id = "3821-Hargis-St,-Austin,-TX-78723";
  want.formatted_address = "3821 Hargis St, Austin, TX 78723";
  want.address_line1 = "3821 Hargis St";
  want.city = "Austin";
  want.state = "TX";
  want.zip_code = "78723";
  want.location = GeoPoint{30.290643, -97.701547};
  want.property_type = "Single Family";
  want.bedrooms = 4;
  want.bathrooms = 2.5;
  want.square_footage = 2345;
  want.price = 899000;
  want.event_date = "2024-06-24";
  want.days_on_market = 99;
  EXPECT_EQ(*r, want);
  EXPECT_EQ(stats.records, 1);
  EXPECT_EQ(stats.skipped_fields, 0);
  EXPECT_EQ(stats.skipped_records, 0);
}

TEST(RentCastDecode, SaleWithoutPriceKeepsPriceUnset) {
  DecodeStats stats;
  for (const char* body : {R"({"id":"a","lastSaleDate":"2024-11-18T00:00:00.000Z"})",
                           R"({"id":"a","lastSaleDate":"2024-11-18T00:00:00.000Z",
                               "lastSalePrice":null})",
                           R"({"id":"a","lastSaleDate":"2024-11-18T00:00:00.000Z",
                               "lastSalePrice":0})"}) {
    auto r = DecodePropertyRecord(json::parse(body), RentCastRecordKind::kSale, stats);
    ASSERT_TRUE(r) << body;
    EXPECT_EQ(r->price, std::nullopt) << body;
    EXPECT_EQ(r->event_date, "2024-11-18");
    EXPECT_EQ(r->days_on_market, std::nullopt);
  }
  EXPECT_EQ(stats.records, 3);
  EXPECT_EQ(stats.skipped_fields, 1);  // the 0 price
}

TEST(RentCastDecode, SaleUsesLastSalePriceNotListPrice) {
  DecodeStats stats;
  auto r = DecodePropertyRecord(json::parse(R"({"id":"a","price":1,"lastSalePrice":270000.4})"),
                                RentCastRecordKind::kSale, stats);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->price, 270000);
}

TEST(RentCastDecode, WrongTypesSkipTheFieldNotTheRecord) {
  DecodeStats stats;
  auto r = DecodePropertyRecord(
      json::parse(R"({"id":"x","formattedAddress":7,"price":"899000","bedrooms":"3",
        "bathrooms":-1,"squareFootage":[2000],"latitude":30.1,"longitude":null,
        "listedDate":12345,"daysOnMarket":-4,"city":{"name":"Austin"}})"),
      RentCastRecordKind::kListing, stats);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->source_id, "x");
  EXPECT_EQ(r->formatted_address, "");
  EXPECT_EQ(r->price, std::nullopt);
  EXPECT_EQ(r->bedrooms, std::nullopt);
  EXPECT_EQ(r->bathrooms, std::nullopt);
  EXPECT_EQ(r->square_footage, std::nullopt);
  EXPECT_EQ(r->location, std::nullopt);
  EXPECT_EQ(r->event_date, "");
  EXPECT_EQ(r->days_on_market, std::nullopt);
  EXPECT_EQ(r->city, "");
  // formattedAddress, price, bedrooms, bathrooms, squareFootage, half a location,
  // listedDate, daysOnMarket, city.
  EXPECT_EQ(stats.skipped_fields, 9);
  EXPECT_EQ(stats.skipped_records, 0);
}

TEST(RentCastDecode, RecordWithoutIdUsesTheAddressAndWithoutEitherIsSkipped) {
  DecodeStats stats;
  auto by_address =
      DecodePropertyRecord(json::parse(R"({"formattedAddress":"1 Main St, Salem, OR 97301"})"),
                           RentCastRecordKind::kListing, stats);
  ASSERT_TRUE(by_address);
  EXPECT_EQ(by_address->source_id, "1 Main St, Salem, OR 97301");

  auto by_parts = DecodePropertyRecord(
      json::parse(R"({"id":null,"addressLine1":"1 Main St","city":"Salem","state":"OR",
                      "zipCode":"97301"})"),
      RentCastRecordKind::kListing, stats);
  ASSERT_TRUE(by_parts);
  EXPECT_EQ(by_parts->formatted_address, "1 Main St, Salem, OR 97301");
  EXPECT_EQ(by_parts->source_id, "1 Main St, Salem, OR 97301");

  EXPECT_FALSE(DecodePropertyRecord(json::parse(R"({"price":5,"city":"Salem"})"),
                                    RentCastRecordKind::kListing, stats));
  EXPECT_FALSE(DecodePropertyRecord(json(nullptr), RentCastRecordKind::kListing, stats));
  EXPECT_FALSE(DecodePropertyRecord(json(42), RentCastRecordKind::kListing, stats));
  EXPECT_EQ(stats.records, 2);
  EXPECT_EQ(stats.skipped_records, 3);
}

TEST(RentCastDecode, OutOfRangeCoordinatesAreDropped) {
  DecodeStats stats;
  auto r = DecodePropertyRecord(json::parse(R"({"id":"x","latitude":95,"longitude":10})"),
                                RentCastRecordKind::kListing, stats);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->location, std::nullopt);
  EXPECT_EQ(stats.skipped_fields, 1);
}

TEST(RentCastDecode, WholeBodies) {
  DecodeStats stats;
  auto ok = DecodePropertyRecords(R"([{"id":"a"},null,{"id":"b","price":"x"}])",
                                  RentCastRecordKind::kListing, stats);
  ASSERT_TRUE(ok);
  ASSERT_EQ(ok->size(), 2u);
  EXPECT_EQ((*ok)[1].source_id, "b");
  EXPECT_EQ(stats.skipped_records, 1);
  EXPECT_EQ(stats.skipped_fields, 1);

  auto empty = DecodePropertyRecords("[]", RentCastRecordKind::kSale, stats);
  ASSERT_TRUE(empty);
  EXPECT_TRUE(empty->empty());

  auto truncated = DecodePropertyRecords(R"([{"id":"a"},{"id":)", RentCastRecordKind::kSale, stats);
  ASSERT_FALSE(truncated);
  EXPECT_EQ(truncated.error().code, ErrorCode::kUnavailable);
  EXPECT_EQ(truncated.error().message, "RentCast returned malformed JSON (18 bytes)");

  auto object = DecodePropertyRecords(R"({"id":"a"})", RentCastRecordKind::kSale, stats);
  ASSERT_FALSE(object);
  EXPECT_EQ(object.error().code, ErrorCode::kUnavailable);
  EXPECT_EQ(object.error().message, "RentCast returned a JSON object where an array was expected");
}

TEST(RentCastMonths, PreviousIsThreeMonthsBackOrTheClosestEarlierMonth) {
  EXPECT_EQ(SelectPreviousMonth({"2025-03", "2025-04", "2025-05", "2025-06"}, "2025-06"),
            "2025-03");
  // Across a year boundary.
  EXPECT_EQ(SelectPreviousMonth({"2024-10", "2024-11", "2024-12", "2025-01"}, "2025-01"),
            "2024-10");
  // 2025-03 missing: 2025-02 and 2025-04 are equally close; the older one wins.
  EXPECT_EQ(SelectPreviousMonth({"2025-01", "2025-02", "2025-04", "2025-05", "2025-06"}, "2025-06"),
            "2025-02");
  // Only recent months: the earliest of them is closest to the target.
  EXPECT_EQ(SelectPreviousMonth({"2025-05", "2025-06"}, "2025-06"), "2025-05");
  // Only old months.
  EXPECT_EQ(SelectPreviousMonth({"2024-01", "2024-09", "2025-06"}, "2025-06"), "2024-09");
  EXPECT_EQ(SelectPreviousMonth({"2025-06"}, "2025-06"), "");
  EXPECT_EQ(SelectPreviousMonth({"2025-03", "bogus"}, "2025-13"), "");
}

TEST(RentCastMarket, NewestMonthAgainstThreeMonthsEarlier) {
  json j = json::parse(R"({"id":"29611","zipCode":"29611","saleData":{
    "lastUpdatedDate":"2025-08-26T00:00:00.000Z","averagePrice":356598,
    "history":{
      "2025-08":{"averagePrice":356598,"averagePricePerSquareFoot":203.45,
                 "averageDaysOnMarket":77,"totalListings":248},
      "2025-07":{"averagePrice":350000,"averagePricePerSquareFoot":201,
                 "averageDaysOnMarket":75,"totalListings":245},
      "2025-05":{"averagePrice":348402,"averagePricePerSquareFoot":199.1,
                 "averageDaysOnMarket":70,"totalListings":240},
      "2025-04":{"averagePrice":null,"averagePricePerSquareFoot":"n/a"},
      "bogus":{"averagePrice":1},
      "2025-06":"not an object"}}})");
  DecodeStats stats;
  auto m = DecodeMarket(j, "29611", stats);
  ASSERT_TRUE(m) << m.error().ToString();
  EXPECT_EQ(m->zip_code, "29611");
  EXPECT_EQ(m->current, (MarketMonth{"2025-08", 356598, 203.45, 77, 248}));
  EXPECT_EQ(m->previous, (MarketMonth{"2025-05", 348402, 199.1, 70, 240}));
  EXPECT_EQ(stats.records, 3);
  EXPECT_EQ(stats.skipped_records, 3);  // 2025-04 (nothing usable), bogus, 2025-06
}

TEST(RentCastMarket, WithoutHistoryUsesTheTopLevelStatistics) {
  DecodeStats stats;
  auto m = DecodeMarket(json::parse(R"({"saleData":{"lastUpdatedDate":"2025-08-26T00:00:00Z",
      "averagePrice":300000,"averageDaysOnMarket":40,"history":{}}})"),
                        "12345", stats);
  ASSERT_TRUE(m) << m.error().ToString();
  EXPECT_EQ(m->current, (MarketMonth{"2025-08", 300000, std::nullopt, 40, std::nullopt}));
  EXPECT_EQ(m->previous, MarketMonth{});
}

TEST(RentCastMarket, NoSaleDataIsNotFound) {
  DecodeStats stats;
  for (const char* body : {R"({"id":"1"})", R"({"saleData":null,"rentalData":{}})",
                           R"({"saleData":{"history":{}}})", R"([])"}) {
    auto m = DecodeMarket(json::parse(body), "12345", stats);
    ASSERT_FALSE(m) << body;
    EXPECT_EQ(m.error().code, ErrorCode::kNotFound) << body;
  }
  auto m = DecodeMarket(json::parse(R"({"id":"1"})"), "12345", stats);
  EXPECT_EQ(m.error().message, "RentCast has no sale market data for zip 12345 (no saleData)");
}

}  // namespace
}  // namespace dripr
