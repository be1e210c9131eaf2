#include "dripr/core/settings.h"

#include <fmt/format.h>

#include <algorithm>

#include "dripr/core/enum_names.h"
#include "dripr/core/number.h"
#include "dripr/core/text.h"
#include "dripr/core/url_password.h"

namespace dripr {

constexpr auto kOriginNames = EnumNames<SettingOrigin>({
    {SettingOrigin::kDefault, "default"},
    {SettingOrigin::kEnvironment, "environment"},
    {SettingOrigin::kEnvFile, "env-file"},
});

std::string_view ToString(SettingOrigin origin) { return NameOf(kOriginNames, origin, "default"); }

SettingRow& SettingsReader::Record(std::string_view name, std::string_view default_text,
                                   SettingMask mask, const std::optional<std::string>& value,
                                   std::string_view effective_default) {
  SettingRow row;
  row.name = std::string(name);
  row.default_text = std::string(default_text);
  if (value) {
    row.origin = env_.FromFile(name) ? SettingOrigin::kEnvFile : SettingOrigin::kEnvironment;
    switch (mask) {
      case SettingMask::kNone:
        row.value = *value;
        break;
      case SettingMask::kSecret:
        row.value = "****";
        row.masked = true;
        break;
      case SettingMask::kUrlPassword:
        row.value = MaskUrlPassword(*value);
        row.masked = row.value != *value;
        break;
    }
  } else {
    row.value = std::string(effective_default);
  }
  auto it =
      std::find_if(rows_.begin(), rows_.end(), [&](const SettingRow& r) { return r.name == name; });
  if (it != rows_.end()) {
    *it = std::move(row);
    return *it;
  }
  rows_.push_back(std::move(row));
  return rows_.back();
}

std::optional<std::string> SettingsReader::Text(std::string_view name,
                                                std::string_view default_text, SettingMask mask,
                                                std::string_view effective_default) {
  std::optional<std::string> v = env_.Get(name);
  if (v && v->empty()) v.reset();
  Record(name, default_text, mask, v, effective_default);
  return v;
}

std::string SettingsReader::TextOr(std::string_view name, std::string_view default_text,
                                   SettingMask mask) {
  auto v = Text(name, default_text, mask, default_text);
  return v ? *v : std::string(default_text);
}

Result<long long> SettingsReader::IntWithDefault(std::string_view name, long long effective_default,
                                                 std::string_view default_text, long long min,
                                                 long long max) {
  auto v = Text(name, default_text, SettingMask::kNone, std::to_string(effective_default));
  if (!v) return effective_default;
  auto n = ParseInt(*v, min, max);
  if (!n) return Fail(n.error().Wrap(name));
  return *n;
}

Result<long long> SettingsReader::Int(std::string_view name, std::string_view default_text,
                                      long long min, long long max) {
  auto d = ParseInt(default_text, min, max);
  if (!d)
    return Fail(ErrorCode::kInternal, fmt::format("default of {}: {}", name, d.error().message));
  return IntWithDefault(name, *d, default_text, min, max);
}

Result<double> SettingsReader::Double(std::string_view name, std::string_view default_text,
                                      double min, double max) {
  auto v = Text(name, default_text, SettingMask::kNone, default_text);
  auto n = ParseDouble(v ? *v : default_text, min, max);
  if (!n) {
    if (!v)
      return Fail(ErrorCode::kInternal, fmt::format("default of {}: {}", name, n.error().message));
    return Fail(n.error().Wrap(name));
  }
  return *n;
}

Result<std::string> SettingsReader::Choice(std::string_view name, std::string_view default_text,
                                           const std::vector<std::string_view>& allowed) {
  std::string v = TextOr(name, default_text);
  if (std::find(allowed.begin(), allowed.end(), v) != allowed.end()) return v;
  std::string list;
  if (allowed.size() == 2) {
    list = fmt::format("{} or {}", allowed[0], allowed[1]);
  } else {
    list = "one of ";
    for (size_t i = 0; i < allowed.size(); ++i) list += (i ? ", " : "") + std::string(allowed[i]);
  }
  return Fail(ErrorCode::kInvalidArgument,
              fmt::format("{} must be {}, got {}", name, list, QuotedEcho(v)));
}

void SettingsReader::SetShownValue(std::string_view name, std::string value) {
  for (auto& r : rows_) {
    if (r.name == name) r.value = std::move(value);
  }
}

SettingOrigin SettingsReader::Origin(std::string_view name) const {
  for (const auto& r : rows_) {
    if (r.name == name) return r.origin;
  }
  return SettingOrigin::kDefault;
}

}  // namespace dripr
