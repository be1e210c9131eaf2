// Routes spdlog's default logger into a string for a test's duration (the message only in the
// text format, so tests can compare lines exactly; dripr's JSON formatter in kJson), at trace
// level; the process's logging is set back to info/text after.
#pragma once

#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>

#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "dripr/core/log.h"

namespace dripr::testing {

class CapturedLog {
 public:
  explicit CapturedLog(LogFormat format = LogFormat::kText) : previous_(spdlog::default_logger()) {
    InitLogging("trace", format);
    auto sink = std::make_shared<spdlog::sinks::ostream_sink_mt>(out_);
    auto logger = std::make_shared<spdlog::logger>("capture", sink);
    if (format == LogFormat::kJson) {
      logger->set_formatter(MakeJsonLogFormatter());
    } else {
      logger->set_pattern("%v");
    }
    logger->set_level(spdlog::level::trace);
    spdlog::set_default_logger(logger);
  }
  ~CapturedLog() {
    spdlog::set_default_logger(previous_);
    InitLogging("info", LogFormat::kText);
  }
  CapturedLog(const CapturedLog&) = delete;
  CapturedLog& operator=(const CapturedLog&) = delete;

  std::string Text() const { return out_.str(); }
  std::vector<std::string> Lines() const {
    std::vector<std::string> lines;
    std::istringstream in(out_.str());
    for (std::string l; std::getline(in, l);) lines.push_back(l);
    return lines;
  }

 private:
  std::shared_ptr<spdlog::logger> previous_;
  std::ostringstream out_;
};

}  // namespace dripr::testing
