#pragma once
// Logging: spdlog to stderr, one line per record, in one of two formats (DRIPR_LOG_FORMAT):
//   text: `2026-11-30T13:40:00.123Z info message`
//   json: {"ts":"2026-11-30T13:40:00.123456Z","level":"info","msg":"…", …fields}
// Structured records (LogStructured) add the fields that apply — campaign_id, event_id,
// message_id, queue, part, attempt, duration_ms, error, outcome — as JSON keys.
// Never log secrets: credentials and API keys stay out of every message.

#include <spdlog/spdlog.h>

#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "dripr/core/error.h"

namespace dripr {

enum class LogFormat { kText, kJson };

// DRIPR_LOG_FORMAT: "json" or "text"; unset or empty: text when stderr is a terminal, else
// json. kInvalidArgument naming the variable for anything else.
Result<LogFormat> ParseLogFormat(const std::optional<std::string>& value, bool stderr_is_terminal);

// Sets up the default logger (once per process; later calls change level and format);
// level from DRIPR_LOG_LEVEL (trace, debug, info, warn, error, off; default info).
void InitLogging(std::string_view level, LogFormat format = LogFormat::kText);
LogFormat CurrentLogFormat();

// The structured fields of a record; empty strings / nullopt are left out.
struct LogFields {
  std::string campaign_id;
  std::string event_id;
  std::string message_id;
  std::string queue;
  std::string part;
  std::optional<int> attempt;
  std::optional<double> duration_ms;
  std::string outcome;
  std::string error;
};

// Logs `msg` with `fields`. JSON lines carry the fields as keys; text lines are `text` when
// given (a human-oriented rendering that already includes the fields), else `msg` followed
// by the fields as key=value.
void LogStructured(spdlog::level::level_enum level, const LogFields& fields, std::string_view msg,
                   std::string_view text = {});

// The JSON formatter itself (for tests that log into their own sink). Structured fields
// are those of the LogStructured call running on the formatting thread.
std::unique_ptr<spdlog::formatter> MakeJsonLogFormatter();

}  // namespace dripr

#define DRIPR_LOG_TRACE(...) SPDLOG_TRACE(__VA_ARGS__)
#define DRIPR_LOG_DEBUG(...) ::spdlog::debug(__VA_ARGS__)
#define DRIPR_LOG_INFO(...) ::spdlog::info(__VA_ARGS__)
#define DRIPR_LOG_WARN(...) ::spdlog::warn(__VA_ARGS__)
#define DRIPR_LOG_ERROR(...) ::spdlog::error(__VA_ARGS__)
