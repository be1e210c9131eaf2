#include "dripr/fetcher/status_history.h"

#include <algorithm>

namespace dripr {

StatusCounts CountsByStatus(const std::map<std::string, int64_t>& by_name) {
  StatusCounts out{};
  for (size_t i = 0; i < kAllCampaignStatuses.size(); ++i) {
    auto it = by_name.find(std::string(ToString(kAllCampaignStatuses[i])));
    if (it != by_name.end()) out[i] = it->second;
  }
  return out;
}

StatusHistory::StatusHistory(std::chrono::seconds interval, std::chrono::seconds window)
    : interval_(std::max(interval, std::chrono::seconds(1))),
      window_(std::max(window, interval_)),
      ring_(static_cast<size_t>(window_ / interval_)) {}

void StatusHistory::Record(SysTime at, const StatusCounts& counts) {
  std::lock_guard lock(mu_);
  if (size_ > 0) {
    const size_t last = (next_ + ring_.size() - 1) % ring_.size();
    if (at < ring_[last].at) {
      size_ = 0;
      next_ = 0;
    } else if (at - ring_[last].at < interval_ / 2) {
      ring_[last] = {at, counts};
      return;
    }
  }
  ring_[next_] = {at, counts};
  next_ = (next_ + 1) % ring_.size();
  size_ = std::min(size_ + 1, ring_.size());
}

std::vector<StatusSample> StatusHistory::Samples(SysTime now) const {
  std::lock_guard lock(mu_);
  std::vector<StatusSample> out;
  out.reserve(size_);
  for (size_t k = 0; k < size_; ++k) {
    const StatusSample& s = ring_[(next_ + ring_.size() - size_ + k) % ring_.size()];
    if (s.at >= now - window_) out.push_back(s);
  }
  return out;
}

}  // namespace dripr
