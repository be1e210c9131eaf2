#pragma once
// Error model for the whole project (docs/style.md "Distilled" 1): expected failures travel as
// std::expected<T, Error>; the code says what the caller should do about it.

#include <expected>
#include <string>
#include <string_view>
#include <utility>

namespace dripr {

enum class ErrorCode {
  kInvalidArgument,     // bad input; never retry
  kNotFound,            // the thing does not exist (may appear later: caller decides)
  kAlreadyExists,       // create of something that exists
  kFailedPrecondition,  // state does not allow it (compare-and-set lost); do not retry
  kUnavailable,         // transient: network, 5xx, 429, DB locked/unreachable; retry with backoff
  kAborted,             // transaction conflict; retry the whole transaction
  kDeadlineExceeded,    // timed out; retry with backoff
  kPermissionDenied,    // credentials/key rejected; do not retry
  kResourceExhausted,   // rate limited / quota; retry later
  kDataLoss,            // unrecoverable corruption
  kInternal,            // a bug or an unexpected library failure
};

std::string_view ToString(ErrorCode code);

struct Error {
  ErrorCode code = ErrorCode::kInternal;
  std::string message;

  // True when the same operation may succeed if tried again later.
  bool Retryable() const {
    return code == ErrorCode::kUnavailable || code == ErrorCode::kAborted ||
           code == ErrorCode::kDeadlineExceeded || code == ErrorCode::kResourceExhausted;
  }
  // "UNAVAILABLE: connection refused"
  std::string ToString() const;
  // Returns a copy with "context: " prepended to the message.
  Error Wrap(std::string_view context) const;
};

// Result<T> and Status are std::expected<T, Error> (every member and operator of it works) made
// [[nodiscard]]: a call whose Result/Status is dropped does not compile with -Werror, so an
// error cannot be lost silently (docs/style.md). Where ignoring one is right (best-effort
// clean-up), say so with an explicit, commented `(void)`.
template <class T>
class [[nodiscard]] Result : public std::expected<T, Error> {
 public:
  using Base = std::expected<T, Error>;
  using Base::Base;
  Result() = default;
  // Code spelling std::expected<T, Error> (and the monadic members of newer standard libraries)
  // has the plain base type; it converts back implicitly.
  Result(const Base& other) : Base(other) {}        // NOLINT(google-explicit-constructor)
  Result(Base&& other) : Base(std::move(other)) {}  // NOLINT(google-explicit-constructor)
};

using Status = Result<void>;

inline std::unexpected<Error> Fail(ErrorCode code, std::string message) {
  return std::unexpected(Error{code, std::move(message)});
}
inline std::unexpected<Error> Fail(Error e) { return std::unexpected(std::move(e)); }
// The most common failure: outside input that is not valid (exit 2 at the command line).
inline std::unexpected<Error> FailInvalid(std::string message) {
  return Fail(ErrorCode::kInvalidArgument, std::move(message));
}

inline Status Ok() { return {}; }

}  // namespace dripr

// Propagates an error from an expression returning Result<T>/Status.
#define DRIPR_TRY(expr) DRIPR_TRY_IMPL(DRIPR_CONCAT(dripr_try_r_, __COUNTER__), expr)
#define DRIPR_TRY_IMPL(tmp, expr)                             \
  do {                                                        \
    auto tmp = (expr);                                        \
    if (!tmp) return std::unexpected(std::move(tmp.error())); \
  } while (0)

#define DRIPR_CONCAT_INNER(a, b) a##b
#define DRIPR_CONCAT(a, b) DRIPR_CONCAT_INNER(a, b)
// DRIPR_ASSIGN_OR_RETURN(auto x, F()); assigns the value or returns the error.
#define DRIPR_ASSIGN_OR_RETURN(lhs, expr) \
  DRIPR_ASSIGN_OR_RETURN_IMPL(DRIPR_CONCAT(dripr_r_, __COUNTER__), lhs, expr)
#define DRIPR_ASSIGN_OR_RETURN_IMPL(tmp, lhs, expr)         \
  auto tmp = (expr);                                        \
  if (!tmp) return std::unexpected(std::move(tmp.error())); \
  lhs = std::move(*tmp)
