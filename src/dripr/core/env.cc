#include "dripr/core/env.h"

#include <fstream>
#include <sstream>

#include "dripr/core/number.h"
#include "dripr/core/text.h"

extern char** environ;

namespace dripr {
namespace {

std::string_view TrimEnvBlank(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t' || s.front() == '\r'))
    s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r'))
    s.remove_suffix(1);
  return s;
}

bool ValidName(std::string_view n) {
  if (n.empty() || (n[0] >= '0' && n[0] <= '9')) return false;
  for (char c : n) {
    if (!(c == '_' || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')))
      return false;
  }
  return true;
}

}  // namespace

Result<std::map<std::string, std::string>> ParseEnvFile(std::string_view text,
                                                        std::string_view origin) {
  std::map<std::string, std::string> out;
  LineReader lines(text);
  for (std::string_view raw; lines.Next(raw);) {
    const int line_no = lines.number();
    std::string_view line = TrimEnvBlank(raw);
    if (line.empty() || line[0] == '#') continue;
    if (line.starts_with("export ")) line = TrimEnvBlank(line.substr(7));
    size_t eq = line.find('=');
    std::string_view name = eq == std::string_view::npos ? line : TrimEnvBlank(line.substr(0, eq));
    if (eq == std::string_view::npos || !ValidName(name)) {
      return Fail(ErrorCode::kInvalidArgument,
                  std::string(origin) + ":" + std::to_string(line_no) + ": expected NAME=value");
    }
    std::string_view value = TrimEnvBlank(line.substr(eq + 1));
    if (FindInvalidUtf8(value) != std::string_view::npos) {
      return Fail(ErrorCode::kInvalidArgument, std::string(origin) + ":" + std::to_string(line_no) +
                                                   ": " + std::string(name) +
                                                   " is not valid UTF-8");
    }
    if (value.size() >= 2 && (value.front() == '\'' || value.front() == '"')) {
      if (value.back() != value.front()) {
        return Fail(ErrorCode::kInvalidArgument,
                    std::string(origin) + ":" + std::to_string(line_no) + ": unterminated quote");
      }
      value = value.substr(1, value.size() - 2);
    } else if (size_t hash = value.find(" #"); hash != std::string_view::npos) {
      value = TrimEnvBlank(value.substr(0, hash));
    }
    out[std::string(name)] = std::string(value);
  }
  return out;
}

Env Env::FromProcess() {
  std::map<std::string, std::string> vars;
  for (char** e = environ; e && *e; ++e) {
    std::string_view kv(*e);
    size_t eq = kv.find('=');
    if (eq == std::string_view::npos) continue;
    vars.emplace(std::string(kv.substr(0, eq)), std::string(kv.substr(eq + 1)));
  }
  return Env(vars);
}

Result<Env> Env::FromProcessAndFile(const std::string& path) {
  std::ifstream in(path);
  if (!in) return Fail(ErrorCode::kInvalidArgument, "cannot read env file " + QuotedEcho(path));
  // An env file is a few KB of settings: one past 1 MiB (or endless, /dev/zero) is refused
  // unread.
  constexpr size_t kMaxEnvFileBytes = 1u << 20;
  auto text = ReadAtMost(in, kMaxEnvFileBytes);
  if (!text) {
    return Fail(ErrorCode::kInvalidArgument,
                "env file " + QuotedEcho(path) + " is larger than 1 MiB: not an env file");
  }
  DRIPR_ASSIGN_OR_RETURN(auto file_vars, ParseEnvFile(*text, path));
  Env env = FromProcess();
  for (auto& [k, v] : file_vars) {
    if (env.vars_.try_emplace(k, v).second) env.from_file_.insert(k);  // process env wins
  }
  return env;
}

std::optional<std::string> Env::Get(std::string_view name) const {
  auto it = vars_.find(name);
  if (it == vars_.end()) return std::nullopt;
  return it->second;
}

std::string Env::GetOr(std::string_view name, std::string_view fallback) const {
  auto v = Get(name);
  return v && !v->empty() ? *v : std::string(fallback);
}

Result<long long> Env::GetInt(std::string_view name, long long fallback, long long min,
                              long long max) const {
  auto v = Get(name);
  if (!v || v->empty()) return fallback;
  auto n = ParseInt(*v, min, max);
  if (!n) return Fail(n.error().Wrap(name));
  return *n;
}

Result<double> Env::GetDouble(std::string_view name, double fallback, double min,
                              double max) const {
  auto v = Get(name);
  if (!v || v->empty()) return fallback;
  auto n = ParseDouble(*v, min, max);
  if (!n) return Fail(n.error().Wrap(name));
  return *n;
}

Result<bool> Env::GetBool(std::string_view name, bool fallback) const {
  auto v = Get(name);
  if (!v || v->empty()) return fallback;
  if (*v == "1" || *v == "true" || *v == "yes" || *v == "on") return true;
  if (*v == "0" || *v == "false" || *v == "no" || *v == "off") return false;
  return Fail(ErrorCode::kInvalidArgument,
              std::string(name) + ": must be true or false, got " + QuotedEcho(*v));
}

Status Env::CheckUtf8() const {
  for (const auto& [name, value] : vars_) {
    if (!IsDriprVariable(name)) continue;
    // The value is not echoed: this check runs before the settings know which values are
    // secret (API keys, AWS secrets, a password in DATABASE_URL), and the name and the byte
    // are enough to find the bad one.
    if (size_t bad = FindInvalidUtf8(value); bad != std::string_view::npos) {
      return Fail(ErrorCode::kInvalidArgument,
                  name + ": not valid UTF-8 at byte " + std::to_string(bad) + " (value not shown)");
    }
  }
  return Ok();
}

bool IsDriprVariable(std::string_view name) {
  static constexpr std::string_view kPrefixes[] = {"DRIPR_", "RENTCAST_", "AWS_", "SQS_", "SNS_"};
  static constexpr std::string_view kNames[] = {"DATABASE_URL", "EVENT_BUS", "EMBEDDED_BUS_PATH",
                                                "DATA_PROVIDER"};
  for (auto p : kPrefixes) {
    if (name.starts_with(p)) return true;
  }
  for (auto n : kNames) {
    if (name == n) return true;
  }
  return false;
}

}  // namespace dripr
