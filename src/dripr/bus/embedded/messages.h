#pragma once
// Row-level helpers shared by EmbeddedQueue and EmbeddedTopic (internal to bus/embedded/).

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "dripr/bus/bus.h"
#include "dripr/sqlite/db.h"

namespace dripr::embedded {

// {"name":"value",...}; never throws (invalid UTF-8 is replaced).
std::string EncodeAttributes(const MessageAttributes& attributes);
// The inverse; a malformed column yields an empty map.
MessageAttributes DecodeAttributes(std::string_view json_text);

// SQS/SNS limits, checked so nothing works here that would fail on AWS: a body of 1 to
// 262,144 bytes of valid UTF-8, attribute names 1-256 characters, values valid UTF-8, a
// delay of 0-900 s.
// kInvalidArgument naming the problem.
Status ValidateMessage(const OutgoingMessage& m);

// Inserts a message (receive_count 0), visible at once or, delayed, `delay_ms` later,
// inside the caller's broker transaction.
Status InsertMessage(sqlite::Connection& conn, const std::string& queue,
                     const std::string& message_id, std::string_view body,
                     const std::string& attributes_json, int64_t now_ms, int64_t delay_ms = 0);

// One row of bus_subscriptions. `filter_scope` is the stored text: what an unknown one means
// is the caller's choice.
struct SubscriptionRow {
  std::string queue;
  std::string filter_policy;
  std::string filter_scope;
  bool raw_delivery = false;
};
// The subscriptions of `topic`, by queue name.
Result<std::vector<SubscriptionRow>> ReadSubscriptions(sqlite::Connection& conn,
                                                       const std::string& topic);

}  // namespace dripr::embedded
