#include "dripr/bus/bus.h"

namespace dripr {

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

}  // namespace dripr
