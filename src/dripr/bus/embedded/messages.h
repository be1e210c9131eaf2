#pragma once
// Row-level helpers shared by EmbeddedQueue and EmbeddedTopic (internal to bus/embedded/).

#include <cstdint>
#include <string>
#include <string_view>

#include "dripr/bus/bus.h"
#include "dripr/sqlite/db.h"

namespace dripr::embedded {

// {"name":"value",...}; never throws (invalid UTF-8 is replaced).
std::string EncodeAttributes(const MessageAttributes& attributes);
// The inverse; a malformed column yields an empty map.
MessageAttributes DecodeAttributes(std::string_view json_text);

// SQS/SNS limits, checked so nothing works here that would fail on AWS: a body of 1 to
// 262,144 bytes of valid UTF-8, attribute names 1-256 characters, values valid UTF-8.
// kInvalidArgument naming the problem.
Status ValidateMessage(const OutgoingMessage& m);

// Inserts a visible message (receive_count 0), inside the caller's broker transaction.
Status InsertMessage(sqlite::Connection& conn, const std::string& queue,
                     const std::string& message_id, std::string_view body,
                     const std::string& attributes_json, int64_t now_ms);

}  // namespace dripr::embedded
