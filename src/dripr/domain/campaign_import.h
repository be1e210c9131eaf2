#pragma once
// `dripr campaign create`'s fields as text, and the files `dripr campaign import` reads: CSV
// with a header row, or JSON lines, whose columns/keys are create's flag names (id, zip,
// user-id, address, lat, lng, current-value). See docs/decisions/cli.md "campaign import".

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "dripr/core/error.h"
#include "dripr/domain/types.h"

namespace dripr {

// One campaign as typed: absent and empty optional fields mean "not given".
struct CampaignFields {
  std::string id;
  std::string zip;
  std::string user_id;
  std::optional<std::string> address;
  std::optional<std::string> lat;
  std::optional<std::string> lng;
  std::optional<std::string> current_value;
};

// Parses the numbers (core/number.h: decimal only, range-checked) and checks the campaign
// (domain/campaign_rules.h). A campaign with a property (any of address, lat, lng,
// current-value) needs lat and lng. Messages name the field as `<flag_prefix><flag>`, e.g.
// "--lat: must be a number from -90 to 90, got "x"" with flag_prefix "--".
Result<NewCampaign> CampaignFromFields(const CampaignFields& f, std::string_view flag_prefix);

struct ImportRow {
  int line = 0;  // 1-based line of the file the row came from
  NewCampaign campaign;
};
struct ImportProblem {
  int line = 0;  // 0: the file as a whole
  std::string message;
};
struct ImportFile {
  std::vector<ImportRow> rows;          // the valid rows, in file order
  std::vector<ImportProblem> problems;  // every invalid row (the import writes nothing then)
};

// Parses a whole import file: JSON lines when the first non-blank line starts with '{',
// else CSV (RFC 4180 quoting) with a header row. Every row is checked with
// CampaignFromFields; ids repeated within the file are problems too. Never throws.
ImportFile ParseCampaignImport(std::string_view text);

}  // namespace dripr
