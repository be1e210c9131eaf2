#pragma once
// CampaignId: a campaign's identifier as a type, so that an id that reaches the store, the
// handlers or the event codec has passed the one campaign-id rule (domain/campaign_rules.h:
// 1 to 64 bytes of 0x21..0x7e) and cannot be mixed up with a zip code, a user id or a fetcher's
// instance id. See docs/decisions/domain.md "CampaignId".
//
// Two ways in:
//  - Parse(text): every boundary that receives an id from outside (the CLI, `campaign import`,
//    the event decoder, the dashboard API) validates it here, once.
//  - FromStoredRow(text): the store's own rows (campaigns.id, outbox.campaign_id) are read back
//    unchecked. Every writer in this repository inserts only ids that passed Parse (the
//    store validates each NewCampaign), so the check would only repeat itself; a row written by
//    another program is shown as it is rather than turned into an error that would hide every
//    other row of a listing (the decision explains why).
// A default-constructed CampaignId is empty: the placeholder of a record not yet filled in
// (`Campaign c;`). Parse never returns one.

#include <fmt/format.h>

#include <compare>
#include <cstddef>
#include <functional>
#include <iosfwd>
#include <string>
#include <string_view>
#include <utility>

#include "dripr/core/error.h"

namespace dripr {

class CampaignId {
 public:
  CampaignId() = default;

  // The checks and messages of CheckCampaignId: "must not be empty", "at most 64 characters,
  // got N", "only printable ASCII characters without spaces are allowed, got "a b"" (kInvalid
  // Argument, without a field name: each caller prefixes the name its user knows).
  static Result<CampaignId> Parse(std::string_view text);

  // Unchecked: only for ids read back from the store's own tables (see the file comment).
  static CampaignId FromStoredRow(std::string text) { return CampaignId(std::move(text)); }

  const std::string& str() const { return id_; }
  std::string_view view() const { return id_; }
  bool empty() const { return id_.empty(); }

  friend bool operator==(const CampaignId&, const CampaignId&) = default;
  friend std::strong_ordering operator<=>(const CampaignId&, const CampaignId&) = default;
  // Compares the text, so `id == "c1"` reads as it should (tests, rows, JSON).
  friend bool operator==(const CampaignId& a, std::string_view b) { return a.id_ == b; }

 private:
  explicit CampaignId(std::string id) : id_(std::move(id)) {}

  std::string id_;
};

// Writes the id as it is (for logs and tests; terminal output still goes through TerminalSafe,
// as ids read from rows were not checked).
std::ostream& operator<<(std::ostream& os, const CampaignId& id);

}  // namespace dripr

template <>
struct std::hash<dripr::CampaignId> {
  size_t operator()(const dripr::CampaignId& id) const noexcept {
    return std::hash<std::string_view>{}(id.view());
  }
};

template <>
struct fmt::formatter<dripr::CampaignId> : fmt::formatter<std::string_view> {
  template <class FormatContext>
  auto format(const dripr::CampaignId& id, FormatContext& ctx) const {
    return fmt::formatter<std::string_view>::format(id.view(), ctx);
  }
};
