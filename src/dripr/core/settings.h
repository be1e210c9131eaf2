#pragma once
// Reading settings from an Env, recording each one read: its effective value (secrets
// masked), its documented default and where the value came from. The table of dripr's
// settings and the one parser that uses this live in fetcher/config.cc; `dripr config` prints
// what was recorded (docs/decisions/settings.md).

#include <array>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "dripr/core/enum_names.h"
#include "dripr/core/env.h"
#include "dripr/core/error.h"

namespace dripr {

enum class SettingOrigin { kDefault, kEnvironment, kEnvFile };
std::string_view ToString(SettingOrigin origin);

// How a value is shown by `dripr config`.
enum class SettingMask {
  kNone,
  kSecret,       // "****" when set
  kUrlPassword,  // its passwords replaced by "****" (MaskUrlPassword, core/url_password.h)
};

struct SettingRow {
  std::string name;
  std::string value;         // effective value, masked; "" = not set and no default
  std::string default_text;  // as docs/architecture.md lists it
  SettingOrigin origin = SettingOrigin::kDefault;
  bool masked = false;  // the value shown is not the real one
};

class SettingsReader {
 public:
  explicit SettingsReader(const Env& env) : env_(env) {}

  // The value when set and not empty; nullopt means "use the default". Records the row
  // (value: the set value, or `effective_default` when unset).
  std::optional<std::string> Text(std::string_view name, std::string_view default_text,
                                  SettingMask mask = SettingMask::kNone,
                                  std::string_view effective_default = {});
  // The value, or `default_text` when unset.
  std::string TextOr(std::string_view name, std::string_view default_text,
                     SettingMask mask = SettingMask::kNone);
  // Decimal numbers (core/number.h); the default is `default_text` parsed the same way, so
  // it is written once. A bad value is kInvalidArgument "NAME: must be ... got "..."".
  Result<long long> Int(std::string_view name, std::string_view default_text, long long min,
                        long long max);
  // As Int, for a default that depends on other settings (`default_text` only documents it).
  Result<long long> IntWithDefault(std::string_view name, long long effective_default,
                                   std::string_view default_text, long long min, long long max);
  Result<double> Double(std::string_view name, std::string_view default_text, double min,
                        double max);
  // One of `allowed`; kInvalidArgument "NAME must be one of a, b, c, got "..."" otherwise
  // ("NAME must be a or b, got ..." for two).
  Result<std::string> Choice(std::string_view name, std::string_view default_text,
                             const std::vector<std::string_view>& allowed);
  // As Choice, for an enum: the value named in `names` (core/enum_names.h).
  template <class E, size_t N>
  Result<E> Choice(std::string_view name, std::string_view default_text,
                   const std::array<EnumName<E>, N>& names) {
    std::vector<std::string_view> allowed;
    for (const auto& entry : names) allowed.push_back(entry.name);
    DRIPR_ASSIGN_OR_RETURN(std::string v, Choice(name, default_text, allowed));
    return *ValueOf(names, v);
  }

  // Replaces the shown value of a recorded row (a default computed later, e.g. a file found).
  void SetShownValue(std::string_view name, std::string value);
  SettingOrigin Origin(std::string_view name) const;
  const std::vector<SettingRow>& rows() const { return rows_; }

 private:
  SettingRow& Record(std::string_view name, std::string_view default_text, SettingMask mask,
                     const std::optional<std::string>& value, std::string_view effective_default);

  const Env& env_;
  std::vector<SettingRow> rows_;
};

}  // namespace dripr
