#include "dripr/core/time.h"

#include <gtest/gtest.h>

#include <chrono>
#include <limits>

namespace dripr {
namespace {

using namespace std::chrono;

SysTime At(int y, unsigned mo, unsigned d, int h, int mi, int s, int64_t ns = 0) {
  return sys_days(year{y} / month{mo} / day{d}) + hours(h) + minutes(mi) + seconds(s) +
         duration_cast<SysTime::duration>(nanoseconds(ns));
}

std::string ParseError(std::string_view text) {
  auto r = ParseIso8601(text);
  if (r) return "parsed OK";
  EXPECT_EQ(r.error().code, ErrorCode::kInvalidArgument);
  return r.error().message;
}

TEST(FormatIso8601, WritesUtcWithMilliseconds) {
  EXPECT_EQ(FormatIso8601(At(2026, 11, 29, 13, 40, 22, 123'456'789)), "2026-11-29T13:40:22.123Z");
  EXPECT_EQ(FormatIso8601(At(2024, 2, 29, 0, 0, 0)), "2024-02-29T00:00:00.000Z");
  EXPECT_EQ(FormatIso8601(SysTime{}), "1970-01-01T00:00:00.000Z");
}

TEST(FormatIso8601, FloorsBeforeTheEpoch) {
  // One millisecond before the epoch is 23:59:59.999 on the previous day, not .000.
  EXPECT_EQ(FormatIso8601(FromUnixMillis(-1)), "1969-12-31T23:59:59.999Z");
}

TEST(ParseIso8601, AcceptsWhatPythonIsoformatWrites) {
  // datetime.isoformat(): naive, with microseconds, with an offset, and combinations.
  EXPECT_EQ(*ParseIso8601("2026-11-29T13:40:22"), At(2026, 11, 29, 13, 40, 22));
  EXPECT_EQ(*ParseIso8601("2026-11-29T13:40:22.123456"), At(2026, 11, 29, 13, 40, 22, 123'456'000));
  EXPECT_EQ(*ParseIso8601("2026-11-29T13:40:22.123456+00:00"),
            At(2026, 11, 29, 13, 40, 22, 123'456'000));
  EXPECT_EQ(*ParseIso8601("2026-11-29T13:40:22+00:00"), At(2026, 11, 29, 13, 40, 22));
  EXPECT_EQ(*ParseIso8601("2026-11-29 13:40:22.5"), At(2026, 11, 29, 13, 40, 22, 500'000'000));
}

TEST(ParseIso8601, AppliesOffsets) {
  EXPECT_EQ(*ParseIso8601("2026-11-29T13:40:22.123Z"), At(2026, 11, 29, 13, 40, 22, 123'000'000));
  EXPECT_EQ(*ParseIso8601("2026-11-29T08:10:22-05:30"), At(2026, 11, 29, 13, 40, 22));
  EXPECT_EQ(*ParseIso8601("2026-11-29T15:40:22+02:00"), At(2026, 11, 29, 13, 40, 22));
  EXPECT_EQ(*ParseIso8601("2026-11-29T15:40:22+0200"), At(2026, 11, 29, 13, 40, 22));
  EXPECT_EQ(*ParseIso8601("2026-11-29T13:40:52+00:00:30"), At(2026, 11, 29, 13, 40, 22));
  // Crossing midnight and a year boundary.
  EXPECT_EQ(*ParseIso8601("2026-12-31T23:30:00-01:00"), At(2027, 1, 1, 0, 30, 0));
}

TEST(ParseIso8601, KeepsNanosecondFractions) {
  EXPECT_EQ(*ParseIso8601("2026-11-29T13:40:22.000000001Z"), At(2026, 11, 29, 13, 40, 22, 1));
  EXPECT_EQ(ParseError("2026-11-29T13:40:22.0000000001Z"),
            "invalid ISO-8601 timestamp \"2026-11-29T13:40:22.0000000001Z\": fraction of a "
            "second has more than 9 digits");
}

TEST(ParseIso8601, AcceptsLeapDayOnlyInLeapYears) {
  EXPECT_TRUE(ParseIso8601("2024-02-29T00:00:00"));
  EXPECT_TRUE(ParseIso8601("2000-02-29T00:00:00"));
  EXPECT_EQ(ParseError("2026-02-29T00:00:00"),
            "invalid ISO-8601 timestamp \"2026-02-29T00:00:00\": day 29 is out of range 1-28 "
            "for 2026-02");
  EXPECT_EQ(ParseError("1900-02-29T00:00:00"),
            "invalid ISO-8601 timestamp \"1900-02-29T00:00:00\": day 29 is out of range 1-28 "
            "for 1900-02");
  EXPECT_EQ(ParseError("2026-04-31T00:00:00"),
            "invalid ISO-8601 timestamp \"2026-04-31T00:00:00\": day 31 is out of range 1-30 "
            "for 2026-04");
}

TEST(ParseIso8601, RejectsOutOfRangeFieldsNamingThem) {
  const std::string p = "invalid ISO-8601 timestamp ";
  EXPECT_EQ(ParseError("2026-13-01T00:00:00"),
            p + "\"2026-13-01T00:00:00\": month 13 is out of range 1-12");
  EXPECT_EQ(ParseError("2026-00-01T00:00:00"),
            p + "\"2026-00-01T00:00:00\": month 0 is out of range 1-12");
  EXPECT_EQ(ParseError("2026-01-00T00:00:00"),
            p + "\"2026-01-00T00:00:00\": day 0 is out of range 1-31 for 2026-01");
  EXPECT_EQ(ParseError("0001-01-01T00:00:00"),
            p + "\"0001-01-01T00:00:00\": year 1 is out of range 1678-2261");
  EXPECT_EQ(ParseError("9999-12-31T23:59:59"),
            p + "\"9999-12-31T23:59:59\": year 9999 is out of range 1678-2261");
  // Found by iso8601_fuzz: an offset that moves the instant out of the range in UTC.
  EXPECT_EQ(ParseError("2261-12-31T23:59:59.999-05:30"),
            p + "\"2261-12-31T23:59:59.999-05:30\": the UTC year 2262 is out of range 1678-2261");
  EXPECT_EQ(ParseError("1678-01-01T00:30:00+01:00"),
            p + "\"1678-01-01T00:30:00+01:00\": the UTC year 1677 is out of range 1678-2261");
  EXPECT_TRUE(ParseIso8601("2261-12-31T18:00:00-05:00"));
  EXPECT_EQ(ParseError("2026-01-01T24:00:00"),
            p + "\"2026-01-01T24:00:00\": hour 24 is out of range 0-23");
  EXPECT_EQ(ParseError("2026-01-01T23:60:00"),
            p + "\"2026-01-01T23:60:00\": minute 60 is out of range 0-59");
  EXPECT_EQ(ParseError("2026-01-01T23:59:60"),
            p + "\"2026-01-01T23:59:60\": second 60 is out of range 0-59");
  EXPECT_EQ(ParseError("2026-01-01T00:00:00+24:00"),
            p + "\"2026-01-01T00:00:00+24:00\": offset hour 24 is out of range 0-23");
  EXPECT_EQ(ParseError("2026-01-01T00:00:00+05:60"),
            p + "\"2026-01-01T00:00:00+05:60\": offset minute 60 is out of range 0-59");
}

TEST(ParseIso8601, RejectsMalformedTextNamingTheProblem) {
  const std::string p = "invalid ISO-8601 timestamp ";
  EXPECT_EQ(ParseError(""), p + "\"\": empty");
  EXPECT_EQ(ParseError("2026-11-29"), p + "\"2026-11-29\": missing time (expected "
                                          "YYYY-MM-DDTHH:MM:SS)");
  EXPECT_EQ(ParseError("29/11/2026 13:40"), p + "\"29/11/2026 13:40\": expected a date YYYY-MM-DD");
  EXPECT_EQ(ParseError("2026-1-29T13:40:22"),
            p + "\"2026-1-29T13:40:22\": expected a date YYYY-MM-DD");
  EXPECT_EQ(ParseError("2026-11-29X13:40:22"),
            p + "\"2026-11-29X13:40:22\": expected 'T' or ' ' between date and time");
  EXPECT_EQ(ParseError("2026-11-29T13:40"), p + "\"2026-11-29T13:40\": expected a time HH:MM:SS");
  EXPECT_EQ(ParseError("2026-11-29T13:40:22."),
            p + "\"2026-11-29T13:40:22.\": expected digits after the decimal point");
  EXPECT_EQ(ParseError("2026-11-29T13:40:22+5"),
            p + "\"2026-11-29T13:40:22+5\": bad UTC offset, expected +HH:MM");
  EXPECT_EQ(ParseError("2026-11-29T13:40:22Z junk"),
            p + "\"2026-11-29T13:40:22Z junk\": unexpected text after the time");
  EXPECT_EQ(ParseError("2026-11-29T13:40:22 "),
            p + "\"2026-11-29T13:40:22 \": unexpected text after the time");
  EXPECT_EQ(ParseError(" 2026-11-29T13:40:22"),
            p + "\" 2026-11-29T13:40:22\": expected a date YYYY-MM-DD");
  EXPECT_EQ(ParseError("\xff\x01"), p + "\"\\xff\\x01\": expected a date YYYY-MM-DD");
}

TEST(ParseIso8601, BoundsWhatItEchoes) {
  std::string huge(100000, '9');
  EXPECT_EQ(ParseError(huge),
            "invalid ISO-8601 timestamp \"" + std::string(40, '9') + "...\": too long");
}

TEST(ParseIso8601, RoundTripsFormat) {
  for (int64_t ms : {int64_t{0}, int64_t{1}, int64_t{1'700'000'000'123}, int64_t{-86'400'001},
                     int64_t{9'214'646'399'999}}) {
    SysTime t = FromUnixMillis(ms);
    auto back = ParseIso8601(FormatIso8601(t));
    ASSERT_TRUE(back) << back.error().message;
    EXPECT_EQ(*back, t) << FormatIso8601(t);
  }
}

TEST(UnixMillis, ClampsInsteadOfOverflowing) {
  EXPECT_GT(FromUnixMillis(std::numeric_limits<int64_t>::max()),
            *ParseIso8601("2262-01-01T00:00:00"));
  EXPECT_LT(FromUnixMillis(std::numeric_limits<int64_t>::min()),
            *ParseIso8601("1678-01-01T00:00:00"));
}

TEST(UnixMillis, RoundTripsAndFloors) {
  EXPECT_EQ(ToUnixMillis(FromUnixMillis(1'795'959'622'123)), 1'795'959'622'123);
  EXPECT_EQ(ToUnixMillis(At(1970, 1, 1, 0, 0, 1, 999'999)), 1000);
  EXPECT_EQ(ToUnixMillis(SysTime{} - nanoseconds(1)), -1);
  EXPECT_EQ(ToUnixMillis(*ParseIso8601("2026-11-29T13:40:22.123Z")), 1'795'959'622'123);
}

}  // namespace
}  // namespace dripr
