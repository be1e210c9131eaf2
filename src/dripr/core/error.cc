#include "dripr/core/error.h"

#include "dripr/core/enum_names.h"

namespace dripr {

namespace {

constexpr auto kErrorCodeNames = EnumNames<ErrorCode>({
    {ErrorCode::kInvalidArgument, "INVALID_ARGUMENT"},
    {ErrorCode::kNotFound, "NOT_FOUND"},
    {ErrorCode::kAlreadyExists, "ALREADY_EXISTS"},
    {ErrorCode::kFailedPrecondition, "FAILED_PRECONDITION"},
    {ErrorCode::kUnavailable, "UNAVAILABLE"},
    {ErrorCode::kAborted, "ABORTED"},
    {ErrorCode::kDeadlineExceeded, "DEADLINE_EXCEEDED"},
    {ErrorCode::kPermissionDenied, "PERMISSION_DENIED"},
    {ErrorCode::kResourceExhausted, "RESOURCE_EXHAUSTED"},
    {ErrorCode::kDataLoss, "DATA_LOSS"},
    {ErrorCode::kInternal, "INTERNAL"},
});

}  // namespace

std::string_view ToString(ErrorCode code) { return NameOf(kErrorCodeNames, code, "UNKNOWN"); }

std::string Error::ToString() const { return std::string(dripr::ToString(code)) + ": " + message; }

Error Error::Wrap(std::string_view context) const {
  return Error{code, std::string(context) + ": " + message};
}

}  // namespace dripr
