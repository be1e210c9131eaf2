#include "dripr/bus/bus.h"

namespace dripr {

std::vector<Result<std::string>> Topic::PublishBatch(const std::vector<OutgoingMessage>& ms) {
  std::vector<Result<std::string>> out;
  out.reserve(ms.size());
  for (const auto& m : ms) {
    if (!out.empty() && !out.back()) {
      out.push_back(Fail(ErrorCode::kAborted, "not published: an earlier message failed"));
    } else {
      out.push_back(Publish(m));
    }
  }
  return out;
}

Status Queue::Delete(const std::string& receipt) {
  DRIPR_ASSIGN_OR_RETURN(auto results, DeleteBatch({receipt}));
  if (results.empty()) return Fail(ErrorCode::kInternal, "delete returned no result");
  return results.front();
}

Status Queue::ChangeVisibility(const std::string& receipt, std::chrono::seconds timeout) {
  DRIPR_ASSIGN_OR_RETURN(auto results, ChangeVisibilityBatch({{receipt, timeout}}));
  if (results.empty()) return Fail(ErrorCode::kInternal, "change visibility returned no result");
  return results.front();
}

const std::string& BusNames::WorkQueue(DataPart part) const {
  switch (part) {
    case DataPart::kLocalMarketData:
      return local_market_updates_queue;
    case DataPart::kActiveListings:
      return active_listings_queue;
    case DataPart::kRecentSales:
      return recent_sales_queue;
  }
  return local_market_updates_queue;  // unreachable: every DataPart is handled above
}

}  // namespace dripr
