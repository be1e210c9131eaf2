#pragma once
// ISO-8601 timestamps as they appear on the wire and in the database.

#include <cstdint>
#include <string>
#include <string_view>

#include "dripr/core/clock.h"
#include "dripr/core/error.h"

namespace dripr {

// "2026-11-29T13:40:22.123Z" (UTC, milliseconds). What this system writes everywhere.
std::string FormatIso8601(SysTime t);

// Parses what Python's datetime.isoformat() writes, and common ISO-8601 variants:
// "2026-11-29T13:40:22", "...22.123456", "...22.123Z", "...22+02:00", "...22.5-05:30",
// a space instead of 'T'. No offset means UTC. Rejects anything else with kInvalidArgument
// naming the problem (bad date, bad offset, trailing text...).
Result<SysTime> ParseIso8601(std::string_view text);

// Milliseconds since the Unix epoch.
int64_t ToUnixMillis(SysTime t);
SysTime FromUnixMillis(int64_t ms);

}  // namespace dripr
