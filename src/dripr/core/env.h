#pragma once
// Environment lookup: the real process environment, optionally layered over an env file
// (`--env-file`). The real environment wins over the file (docs/contracts.md §6).

#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>

#include "dripr/core/error.h"

namespace dripr {

class Env {
 public:
  // Snapshot of the process environment only.
  static Env FromProcess();
  // The process environment over the variables of `path`. Lines are `NAME=value`,
  // `export NAME=value`, blank or `#` comments; values may be single- or double-quoted.
  // A missing file or a malformed line is kInvalidArgument naming the file and line.
  static Result<Env> FromProcessAndFile(const std::string& path);
  // For tests.
  static Env FromMap(const std::map<std::string, std::string>& vars) { return Env(vars); }

  std::optional<std::string> Get(std::string_view name) const;
  std::string GetOr(std::string_view name, std::string_view fallback) const;
  // Integers/doubles/bools; a present but malformed value is kInvalidArgument.
  Result<long long> GetInt(std::string_view name, long long fallback, long long min,
                           long long max) const;
  Result<double> GetDouble(std::string_view name, double fallback, double min, double max) const;
  // Numbers go through core/number.h (decimal only, range-checked): "NAME: must be a whole
  // number from MIN to MAX, got "0x10"".
  Result<bool> GetBool(std::string_view name, bool fallback) const;
  // kInvalidArgument naming the first of dripr's variables (IsDriprVariable) whose value is
  // not valid UTF-8. Other programs' variables are not ours to judge.
  Status CheckUtf8() const;
  // True when `name`'s value came from the env file (the process environment did not set it).
  bool FromFile(std::string_view name) const { return from_file_.contains(name); }
  // For tests that build an environment step by step (the product never writes one).
  void Set(std::string name, std::string value) { vars_[std::move(name)] = std::move(value); }

 private:
  explicit Env(const std::map<std::string, std::string>& vars) : vars_(vars.begin(), vars.end()) {}
  std::map<std::string, std::string, std::less<>> vars_;
  std::set<std::string, std::less<>> from_file_;
};

// True for the variables dripr reads: DATABASE_URL, EVENT_BUS, EMBEDDED_BUS_PATH,
// DATA_PROVIDER and the DRIPR_*, RENTCAST_*, AWS_*, SQS_*, SNS_* families.
bool IsDriprVariable(std::string_view name);

// Parses an env file's text (see FromProcessAndFile). `origin` names it in errors.
Result<std::map<std::string, std::string>> ParseEnvFile(std::string_view text,
                                                        std::string_view origin);

}  // namespace dripr
