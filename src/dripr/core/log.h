#pragma once
// Logging: spdlog to stderr. Lines are `time level [component] message`.
// Never log secrets: credentials and API keys stay out of every message.

#include <spdlog/spdlog.h>

#include <string_view>

namespace dripr {

// Sets up the default logger once per process; level from DRIPR_LOG_LEVEL
// (trace, debug, info, warn, error, off; default info).
void InitLogging(std::string_view level);

}  // namespace dripr

#define DRIPR_LOG_TRACE(...) SPDLOG_TRACE(__VA_ARGS__)
#define DRIPR_LOG_DEBUG(...) ::spdlog::debug(__VA_ARGS__)
#define DRIPR_LOG_INFO(...) ::spdlog::info(__VA_ARGS__)
#define DRIPR_LOG_WARN(...) ::spdlog::warn(__VA_ARGS__)
#define DRIPR_LOG_ERROR(...) ::spdlog::error(__VA_ARGS__)
