#include "dripr/core/time.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <limits>

#include "dripr/core/text.h"

namespace dripr {
namespace {

using std::chrono::days;
using std::chrono::floor;
using std::chrono::milliseconds;
using std::chrono::nanoseconds;
using std::chrono::seconds;

// A cursor over the text; every Read* returns false (and leaves an error) on mismatch.
class Cursor {
 public:
  explicit Cursor(std::string_view text) : text_(text) {}

  bool AtEnd() const { return pos_ == text_.size(); }
  char Peek() const { return AtEnd() ? '\0' : text_[pos_]; }
  size_t pos() const { return pos_; }

  // Exactly `width` ASCII digits.
  bool ReadDigits(int width, int* out) {
    int v = 0;
    for (int i = 0; i < width; ++i) {
      if (pos_ >= text_.size() || text_[pos_] < '0' || text_[pos_] > '9') return false;
      v = v * 10 + (text_[pos_++] - '0');
    }
    *out = v;
    return true;
  }
  bool ReadChar(char c) {
    if (Peek() != c || AtEnd()) return false;
    ++pos_;
    return true;
  }
  // One to nine fraction digits after a '.' (or ','), as nanoseconds. Python writes 6,
  // JavaScript 3; more than 9 is rejected rather than silently rounded.
  bool ReadFraction(int64_t* nanos, int* ndigits) {
    int64_t v = 0;
    int n = 0;
    while (!AtEnd() && text_[pos_] >= '0' && text_[pos_] <= '9') {
      if (n == 9) {
        *ndigits = 10;
        return false;
      }
      v = v * 10 + (text_[pos_++] - '0');
      ++n;
    }
    *ndigits = n;
    if (n == 0) return false;
    for (int i = n; i < 9; ++i) v *= 10;
    *nanos = v;
    return true;
  }

 private:
  std::string_view text_;
  size_t pos_ = 0;
};

std::unexpected<Error> Bad(std::string_view text, std::string_view what) {
  return Fail(ErrorCode::kInvalidArgument,
              "invalid ISO-8601 timestamp " + QuotedEcho(text) + ": " + std::string(what));
}

std::string Range(std::string_view field, int value, int lo, int hi) {
  return std::string(field) + " " + std::to_string(value) + " is out of range " +
         std::to_string(lo) + "-" + std::to_string(hi);
}

constexpr int kMinYear = 1678;
constexpr int kMaxYear = 2261;

}  // namespace

std::string FormatIso8601(SysTime t) {
  auto ms = floor<milliseconds>(t);
  auto day = floor<days>(ms);
  std::chrono::year_month_day ymd{day};
  std::chrono::hh_mm_ss hms{ms - day};
  char buf[40];
  std::snprintf(buf, sizeof buf, "%04d-%02u-%02uT%02d:%02d:%02d.%03dZ", int(ymd.year()),
                unsigned(ymd.month()), unsigned(ymd.day()), int(hms.hours().count()),
                int(hms.minutes().count()), int(hms.seconds().count()),
                int(hms.subseconds().count()));
  return buf;
}

Result<SysTime> ParseIso8601(std::string_view text) {
  if (text.empty()) return Bad(text, "empty");
  if (text.size() > 64) return Bad(text, "too long");
  Cursor c(text);
  int year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0;
  if (!c.ReadDigits(4, &year) || !c.ReadChar('-') || !c.ReadDigits(2, &month) || !c.ReadChar('-') ||
      !c.ReadDigits(2, &day)) {
    return Bad(text, "expected a date YYYY-MM-DD");
  }
  if (c.AtEnd()) return Bad(text, "missing time (expected YYYY-MM-DDTHH:MM:SS)");
  if (!c.ReadChar('T') && !c.ReadChar(' ')) {
    return Bad(text, "expected 'T' or ' ' between date and time");
  }
  if (!c.ReadDigits(2, &hour) || !c.ReadChar(':') || !c.ReadDigits(2, &minute) ||
      !c.ReadChar(':') || !c.ReadDigits(2, &second)) {
    return Bad(text, "expected a time HH:MM:SS");
  }
  int64_t nanos = 0;
  if (c.Peek() == '.' || c.Peek() == ',') {
    c.ReadChar(c.Peek());
    int ndigits = 0;
    if (!c.ReadFraction(&nanos, &ndigits)) {
      return Bad(text, ndigits > 9 ? "fraction of a second has more than 9 digits"
                                   : "expected digits after the decimal point");
    }
  }
  int offset_seconds = 0;
  if (c.ReadChar('Z') || c.ReadChar('z')) {
    // UTC
  } else if (c.Peek() == '+' || c.Peek() == '-') {
    int sign = c.Peek() == '+' ? 1 : -1;
    c.ReadChar(c.Peek());
    int oh = 0, om = 0, os = 0;
    // +HH:MM (Python), +HHMM (ISO basic), +HH:MM:SS (Python, sub-minute zones).
    if (!c.ReadDigits(2, &oh)) return Bad(text, "bad UTC offset, expected +HH:MM");
    bool colon = c.ReadChar(':');
    if (!c.ReadDigits(2, &om)) return Bad(text, "bad UTC offset, expected +HH:MM");
    if (colon && c.ReadChar(':') && !c.ReadDigits(2, &os)) {
      return Bad(text, "bad UTC offset, expected +HH:MM:SS");
    }
    if (oh > 23) return Bad(text, Range("offset hour", oh, 0, 23));
    if (om > 59) return Bad(text, Range("offset minute", om, 0, 59));
    if (os > 59) return Bad(text, Range("offset second", os, 0, 59));
    offset_seconds = sign * (oh * 3600 + om * 60 + os);
  }
  if (!c.AtEnd()) return Bad(text, "unexpected text after the time");

  // SysTime counts nanoseconds in 64 bits: 1677-09-21 .. 2262-04-11. Whole years inside it.
  if (year < kMinYear || year > kMaxYear) return Bad(text, Range("year", year, kMinYear, kMaxYear));
  if (month < 1 || month > 12) return Bad(text, Range("month", month, 1, 12));
  std::chrono::year_month_day ymd{std::chrono::year{year}, std::chrono::month(unsigned(month)),
                                  std::chrono::day(unsigned(day))};
  if (!ymd.ok()) {
    unsigned last = unsigned(
        std::chrono::year_month_day_last(ymd.year(), std::chrono::month_day_last(ymd.month()))
            .day());
    return Bad(text, Range("day", day, 1, int(last)) + " for " + std::to_string(year) + "-" +
                         (month < 10 ? "0" : "") + std::to_string(month));
  }
  if (hour > 23) return Bad(text, Range("hour", hour, 0, 23));
  if (minute > 59) return Bad(text, Range("minute", minute, 0, 59));
  if (second > 59) return Bad(text, Range("second", second, 0, 59));

  SysTime t = std::chrono::sys_days(ymd);
  t += std::chrono::duration_cast<SysTime::duration>(
      std::chrono::hours(hour) + std::chrono::minutes(minute) + seconds(second) -
      seconds(offset_seconds) + nanoseconds(nanos));
  // The offset may carry the instant across a year boundary: keep the UTC year in range too,
  // so that whatever parses also formats to text that parses (found by iso8601_fuzz).
  const int utc_year = int(std::chrono::year_month_day(floor<std::chrono::days>(t)).year());
  if (utc_year < kMinYear || utc_year > kMaxYear) {
    return Bad(text, "the UTC " + Range("year", utc_year, kMinYear, kMaxYear));
  }
  return t;
}

int64_t ToUnixMillis(SysTime t) { return floor<milliseconds>(t.time_since_epoch()).count(); }

SysTime FromUnixMillis(int64_t ms) {
  // Clamp to what SysTime (64-bit nanoseconds) can hold instead of overflowing.
  constexpr int64_t kLimit = std::numeric_limits<int64_t>::max() / 1'000'000;
  ms = std::clamp(ms, -kLimit, kLimit);
  return SysTime(std::chrono::duration_cast<SysTime::duration>(milliseconds(ms)));
}

}  // namespace dripr
