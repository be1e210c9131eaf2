#include "dripr/core/log.h"

#include <fmt/chrono.h>
#include <fmt/format.h>
#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/stdout_color_sinks.h>

#include <atomic>
#include <cmath>
#include <mutex>
#include <nlohmann/json.hpp>

#include "dripr/core/enum_names.h"
namespace dripr {
namespace {

constexpr const char* kTextPattern = "%Y-%m-%dT%H:%M:%S.%eZ %^%l%$ %v";

std::atomic<LogFormat> g_format{LogFormat::kText};

// The fields of the LogStructured call on this thread. spdlog's synchronous logger formats
// in the calling thread, so the formatter sees them while that call runs.
thread_local const LogFields* t_fields = nullptr;

// Every spdlog level by its JSON name ("err" is written "error").
constexpr auto kLevelNames = EnumNames<spdlog::level::level_enum>(
    {
        {spdlog::level::trace, "trace"},
        {spdlog::level::debug, "debug"},
        {spdlog::level::info, "info"},
        {spdlog::level::warn, "warn"},
        {spdlog::level::err, "error"},
        {spdlog::level::critical, "critical"},
        {spdlog::level::off, "off"},
    },
    spdlog::level::n_levels);

// RFC 3339 in UTC with microseconds: 2026-11-30T13:40:00.123456Z. (Microseconds, so that
// records of different processes order within a millisecond and intervals between them read
// true: B1's pickup latency is measured from two processes' lines, bench/run_bench.py.)
std::string Rfc3339(spdlog::log_clock::time_point t) {
  auto secs = std::chrono::time_point_cast<std::chrono::seconds>(t);
  auto us = std::chrono::duration_cast<std::chrono::microseconds>(t - secs).count();
  return fmt::format("{:%Y-%m-%dT%H:%M:%S}.{:06d}Z", secs, us);
}

class JsonFormatter final : public spdlog::formatter {
 public:
  void format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) override {
    nlohmann::ordered_json j;
    j["ts"] = Rfc3339(msg.time);
    j["level"] = NameOf(kLevelNames, msg.level, "off");
    j["msg"] = std::string_view(msg.payload.data(), msg.payload.size());
    if (const LogFields* f = t_fields) {
      auto put = [&](const char* key, const std::string& v) {
        if (!v.empty()) j[key] = v;
      };
      put("campaign_id", f->campaign_id);
      put("event_id", f->event_id);
      put("message_id", f->message_id);
      put("queue", f->queue);
      put("part", f->part);
      if (f->attempt) j["attempt"] = *f->attempt;
      if (f->duration_ms) j["duration_ms"] = std::round(*f->duration_ms * 10) / 10;
      put("outcome", f->outcome);
      put("error", f->error);
    }
    // Text from outside (error bodies) may be invalid UTF-8: replaced, never thrown on.
    const std::string line = j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    dest.append(line.data(), line.data() + line.size());
    dest.push_back('\n');
  }
  std::unique_ptr<spdlog::formatter> clone() const override {
    return std::make_unique<JsonFormatter>();
  }
};

// key=value pairs for text lines; values with spaces or quotes are quoted.
std::string TextFields(const LogFields& f) {
  std::string out;
  auto put = [&](std::string_view key, const std::string& v) {
    if (v.empty()) return;
    if (v.find_first_of(" \"=") != std::string::npos) {
      out += fmt::format(" {}=\"{}\"", key, v);
    } else {
      out += fmt::format(" {}={}", key, v);
    }
  };
  put("campaign_id", f.campaign_id);
  put("event_id", f.event_id);
  put("message_id", f.message_id);
  put("queue", f.queue);
  put("part", f.part);
  if (f.attempt) out += fmt::format(" attempt={}", *f.attempt);
  if (f.duration_ms) out += fmt::format(" duration_ms={:.1f}", *f.duration_ms);
  put("outcome", f.outcome);
  put("error", f.error);
  return out;
}

}  // namespace

Result<LogFormat> ParseLogFormat(const std::optional<std::string>& value, bool stderr_is_terminal) {
  if (!value || value->empty()) return stderr_is_terminal ? LogFormat::kText : LogFormat::kJson;
  if (*value == "json") return LogFormat::kJson;
  if (*value == "text") return LogFormat::kText;
  return Fail(ErrorCode::kInvalidArgument,
              "DRIPR_LOG_FORMAT must be json or text, got '" + *value + "'");
}

void InitLogging(std::string_view level, LogFormat format) {
  static std::once_flag once;
  std::call_once(once, [] {
    auto logger = spdlog::stderr_color_mt("dripr");
    spdlog::set_default_logger(logger);
  });
  g_format = format;
  if (format == LogFormat::kJson) {
    spdlog::set_formatter(MakeJsonLogFormatter());
  } else {
    spdlog::set_pattern(kTextPattern, spdlog::pattern_time_type::utc);
  }
  auto lvl = spdlog::level::from_str(std::string(level));
  if (lvl == spdlog::level::off && level != "off") lvl = spdlog::level::info;
  spdlog::set_level(lvl);
}

LogFormat CurrentLogFormat() { return g_format; }

void LogStructured(spdlog::level::level_enum level, const LogFields& fields, std::string_view msg,
                   std::string_view text) {
  if (!spdlog::should_log(level)) return;
  if (g_format == LogFormat::kText) {
    if (!text.empty()) {
      spdlog::log(level, "{}", text);
    } else {
      spdlog::log(level, "{}{}", msg, TextFields(fields));
    }
    return;
  }
  t_fields = &fields;
  spdlog::log(level, "{}", msg);
  t_fields = nullptr;
}

std::unique_ptr<spdlog::formatter> MakeJsonLogFormatter() {
  return std::make_unique<JsonFormatter>();
}

}  // namespace dripr
