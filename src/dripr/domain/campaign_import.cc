#include "dripr/domain/campaign_import.h"

#include <functional>
#include <nlohmann/json.hpp>
#include <set>

#include "dripr/core/number.h"
#include "dripr/core/text.h"
#include "dripr/domain/campaign_rules.h"
#include "dripr/domain/event.h"

namespace dripr {
namespace {

using nlohmann::json;

constexpr std::string_view kColumns[] = {"id",  "zip", "user-id",      "address",
                                         "lat", "lng", "current-value"};

bool KnownColumn(std::string_view name) {
  for (auto c : kColumns) {
    if (c == name) return true;
  }
  return false;
}

std::string ColumnList() {
  std::string out;
  for (auto c : kColumns) out += (out.empty() ? "" : ",") + std::string(c);
  return out;
}

// Fills `f` from name → value; empty values are "not given".
void Assign(CampaignFields& f, const std::string& name, std::string value) {
  if (name == "id") {
    f.id = std::move(value);
  } else if (name == "zip") {
    f.zip = std::move(value);
  } else if (name == "user-id") {
    f.user_id = std::move(value);
  } else {
    std::optional<std::string> v;
    if (!value.empty()) v = std::move(value);
    if (name == "address") f.address = v;
    if (name == "lat") f.lat = v;
    if (name == "lng") f.lng = v;
    if (name == "current-value") f.current_value = v;
  }
}

// One CSV record starting at `pos` (quotes may span lines). Advances `pos` and `line`.
Result<std::vector<std::string>> NextCsvRecord(std::string_view text, size_t& pos, int& line) {
  std::vector<std::string> fields(1);
  bool quoted = false;
  const int start_line = line;
  while (pos < text.size()) {
    char c = text[pos++];
    if (quoted) {
      if (c == '"') {
        if (pos < text.size() && text[pos] == '"') {
          fields.back() += '"';
          ++pos;
        } else {
          quoted = false;
        }
      } else {
        if (c == '\n') ++line;
        fields.back() += c;
      }
    } else if (c == '"' && fields.back().empty()) {
      quoted = true;
    } else if (c == ',') {
      fields.emplace_back();
    } else if (c == '\n') {
      ++line;
      break;
    } else if (c != '\r') {
      fields.back() += c;
    }
  }
  if (quoted) {
    return Fail(ErrorCode::kInvalidArgument,
                "unterminated quote starting on line " + std::to_string(start_line));
  }
  return fields;
}

bool Blank(const std::vector<std::string>& r) { return r.size() == 1 && r[0].empty(); }

void ParseCsv(std::string_view text, ImportFile& out,
              const std::function<void(int, const CampaignFields&)>& add) {
  size_t pos = 0;
  int line = 1;
  std::vector<std::string> header;
  while (pos < text.size() && header.empty()) {
    auto r = NextCsvRecord(text, pos, line);
    if (!r) return out.problems.push_back({line, r.error().message});
    if (!Blank(*r)) header = std::move(*r);
  }
  if (header.empty()) return out.problems.push_back({0, "no header row (" + ColumnList() + ")"});
  std::set<std::string> seen;
  for (auto& h : header) {
    // Trim spaces around column names; they are a common spreadsheet artifact.
    while (!h.empty() && h.back() == ' ') h.pop_back();
    while (!h.empty() && h.front() == ' ') h.erase(0, 1);
    if (!KnownColumn(h)) {
      return out.problems.push_back(
          {line - 1, "unknown column " + QuotedEcho(h) + " (columns: " + ColumnList() + ")"});
    }
    if (!seen.insert(h).second) {
      return out.problems.push_back({line - 1, "column " + QuotedEcho(h) + " appears twice"});
    }
  }
  if (!seen.contains("id") || !seen.contains("zip")) {
    return out.problems.push_back({line - 1, "the header needs the columns id and zip"});
  }
  while (pos < text.size()) {
    int row_line = line;
    auto r = NextCsvRecord(text, pos, line);
    if (!r) return out.problems.push_back({row_line, r.error().message});
    if (Blank(*r)) continue;
    if (r->size() != header.size()) {
      out.problems.push_back({row_line, "expected " + std::to_string(header.size()) +
                                            " fields, got " + std::to_string(r->size())});
      continue;
    }
    CampaignFields f;
    for (size_t i = 0; i < header.size(); ++i) Assign(f, header[i], std::move((*r)[i]));
    add(row_line, f);
  }
}

void ParseJsonLines(std::string_view text, ImportFile& out,
                    const std::function<void(int, const CampaignFields&)>& add) {
  LineReader lines(text);
  for (std::string_view l; lines.Next(l);) {
    const int line = lines.number();
    while (!l.empty() && (l.back() == '\r' || l.back() == ' ' || l.back() == '\t')) {
      l.remove_suffix(1);
    }
    if (l.empty()) continue;
    json doc = json::parse(l, nullptr, /*allow_exceptions=*/false);
    if (doc.is_discarded() || !doc.is_object()) {
      out.problems.push_back({line, "not a JSON object: " + QuotedEcho(l)});
      continue;
    }
    CampaignFields f;
    bool ok = true;
    for (const auto& [key, value] : doc.items()) {
      if (!KnownColumn(key)) {
        out.problems.push_back(
            {line, "unknown key " + QuotedEcho(key) + " (keys: " + ColumnList() + ")"});
        ok = false;
        break;
      }
      std::string text_value;
      if (value.is_null()) continue;
      if (value.is_string()) {
        text_value = value.get<std::string>();
      } else if (value.is_number() && key != "id" && key != "zip" && key != "user-id" &&
                 key != "address") {
        text_value = value.dump();
      } else {
        out.problems.push_back(
            {line, key + ": must be a string, got " + std::string(value.type_name())});
        ok = false;
        break;
      }
      Assign(f, key, std::move(text_value));
    }
    if (ok) add(line, f);
  }
}

}  // namespace

Result<NewCampaign> CampaignFromFields(const CampaignFields& f, std::string_view flag_prefix) {
  const std::string p(flag_prefix);
  auto named = [&](const char* flag, const Error& e) { return Fail(e.Wrap(p + flag)); };
  NewCampaign c;
  if (auto st = CheckCampaignId(f.id); !st) return named("id", st.error());
  c.id = f.id;
  auto zip = NormalizeZip(f.zip);
  if (!zip) return named("zip", zip.error());
  c.zip_code = *zip;
  if (auto st = CheckFreeText(f.user_id, kMaxUserIdChars); !st) {
    return named("user-id", st.error());
  }
  c.user_id = f.user_id;
  bool has_property = f.address || f.lat || f.lng || f.current_value;
  if (!has_property) return c;
  if (!f.lat || !f.lng) {
    return Fail(ErrorCode::kInvalidArgument, "a campaign with a property needs both " + p +
                                                 "lat and " + p + "lng (omit " + p + "address/" +
                                                 p + "lat/" + p + "lng/" + p +
                                                 "current-value for a no-address newsletter)");
  }
  PropertyData prop;
  if (f.address) {
    if (auto st = CheckFreeText(*f.address, kMaxAddressChars); !st) {
      return named("address", st.error());
    }
    prop.formatted_address = *f.address;
  }
  auto lat = ParseDouble(*f.lat, -90, 90);
  if (!lat) return named("lat", lat.error());
  auto lng = ParseDouble(*f.lng, -180, 180);
  if (!lng) return named("lng", lng.error());
  prop.location = {*lat, *lng};
  if (f.current_value) {
    auto v = ParseInt(*f.current_value, 1, 1'000'000'000'000);
    if (!v) return named("current-value", v.error());
    prop.current_value = *v;
  }
  c.property = std::move(prop);
  // The store checks the same rules again (campaign_rules.h); this cannot fail here.
  return ValidateNewCampaign(c);
}

ImportFile ParseCampaignImport(std::string_view text) {
  ImportFile out;
  if (auto st = CheckUtf8("file", text); !st) {
    // Name the line of the first bad byte.
    size_t bad = FindInvalidUtf8(text);
    int line = 1;
    for (size_t i = 0; i < bad; ++i) line += text[i] == '\n';
    out.problems.push_back({line, "not valid UTF-8"});
    return out;
  }
  std::set<std::string> ids;
  auto add = [&](int line, const CampaignFields& f) {
    auto c = CampaignFromFields(f, "");
    if (!c) return out.problems.push_back({line, c.error().message});
    if (!ids.insert(c->id).second) {
      return out.problems.push_back(
          {line, "id " + QuotedEcho(c->id) + " appears twice in the file"});
    }
    out.rows.push_back({line, std::move(*c)});
  };
  size_t first = text.find_first_not_of(" \t\r\n");
  if (first != std::string_view::npos && text[first] == '{') {
    ParseJsonLines(text, out, add);
  } else {
    ParseCsv(text, out, add);
  }
  if (out.problems.empty() && out.rows.empty())
    out.problems.push_back({0, "no campaigns in the file"});
  return out;
}

}  // namespace dripr
