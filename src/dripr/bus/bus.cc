#include "dripr/bus/bus.h"

#include "dripr/bus/sqs_limits.h"
#include "dripr/core/text.h"

namespace dripr {

namespace {

bool ValidUtf8(std::string_view s) { return FindInvalidUtf8(s) == std::string_view::npos; }

}  // namespace

Status ValidateOutgoingMessage(const OutgoingMessage& m) {
  if (m.body.empty()) return Fail(ErrorCode::kInvalidArgument, "message body must not be empty");
  if (m.body.size() > sqs::kMaxBodyBytes) {
    return Fail(ErrorCode::kInvalidArgument, "message body is " + std::to_string(m.body.size()) +
                                                 " bytes, more than " +
                                                 std::to_string(sqs::kMaxBodyBytes));
  }
  if (!ValidUtf8(m.body)) {
    return Fail(ErrorCode::kInvalidArgument, "message body is not valid UTF-8");
  }
  if (m.delay.count() < 0 || m.delay.count() > sqs::kMaxDelaySeconds) {
    return Fail(ErrorCode::kInvalidArgument, "message delay must be 0-900 seconds");
  }
  for (const auto& [name, value] : m.attributes) {
    if (name.empty() || name.size() > 256 || !ValidUtf8(name)) {
      return Fail(ErrorCode::kInvalidArgument, "message attribute name must be 1-256 characters");
    }
    if (!ValidUtf8(value)) {
      return Fail(ErrorCode::kInvalidArgument,
                  "message attribute \"" + name + "\" is not valid UTF-8");
    }
  }
  return Ok();
}

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
