#pragma once
// StatusHistory: the overview chart's memory (docs/decisions/dashboard.md "Chart history").
// A fixed ring of campaign counts by status, one sample per `interval` (10 s) for `window`
// (30 min) — 180 samples of 9 counts, whatever the uptime — so a page opened now draws the
// last half hour at once and then extends it with its own polls. Every fetcher keeps its own
// (the counts are the database's, so any fetcher's history is the cluster's).
//
// The sampler (ReadinessProbe) calls Record with the counts behind dripr_campaigns{status};
// time comes from the caller, so tests drive it with a ManualClock. Thread-safe.

#include <array>
#include <chrono>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "dripr/core/clock.h"
#include "dripr/domain/status.h"

namespace dripr {

// Every campaign status, in the contract's order (the overview's and the gauge's).
inline constexpr std::array<CampaignStatus, 9> kAllCampaignStatuses = {
    CampaignStatus::kDormant,
    CampaignStatus::kWaitingForData,
    CampaignStatus::kWaitingForHomeAnalysis,
    CampaignStatus::kReadyToCreateEmail,
    CampaignStatus::kFetching,
    CampaignStatus::kWaitingForManualApproval,
    CampaignStatus::kReadyToSendEmail,
    CampaignStatus::kUnsubscribed,
    CampaignStatus::kError};

using StatusCounts = std::array<int64_t, kAllCampaignStatuses.size()>;

// Counts in kAllCampaignStatuses order from Store::SampleGauges' map (absent = 0).
StatusCounts CountsByStatus(const std::map<std::string, int64_t>& by_name);

struct StatusSample {
  SysTime at;
  StatusCounts counts{};
};

class StatusHistory {
 public:
  // interval > 0 and window >= interval; capacity = window / interval samples.
  explicit StatusHistory(std::chrono::seconds interval = std::chrono::seconds(10),
                         std::chrono::seconds window = std::chrono::minutes(30));

  // Adds a sample taken at `at`. One that comes less than half an interval after the last
  // replaces it (the spacing stays `interval` however often it is called); one older than
  // the last (a clock stepped back) starts the history again. The oldest falls off when full.
  void Record(SysTime at, const StatusCounts& counts);

  // The samples no older than `window` before `now`, oldest first.
  std::vector<StatusSample> Samples(SysTime now) const;

  std::chrono::seconds interval() const { return interval_; }
  std::chrono::seconds window() const { return window_; }
  size_t capacity() const { return ring_.size(); }

 private:
  const std::chrono::seconds interval_;
  const std::chrono::seconds window_;
  mutable std::mutex mu_;
  std::vector<StatusSample> ring_;  // fixed size; guarded by mu_
  size_t next_ = 0;                 // where the next sample goes; guarded by mu_
  size_t size_ = 0;                 // samples held; guarded by mu_
};

}  // namespace dripr
