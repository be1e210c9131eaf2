// libFuzzer target: the STATUS_CHANGE decoder, raw or in an SNS envelope (docs/contracts.md §8:
// fuzz everything that parses outside input; docs/decisions/fuzzing.md). scripts/fuzz.sh runs it.
//
// Properties checked beyond "no crash, no sanitizer report":
// - every failure is kInvalidArgument (never kInternal: nothing may throw inside);
// - whatever decodes re-encodes to something that decodes to the same event (timestamps
//   compared at the millisecond precision the encoder writes).

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "dripr/domain/event.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace dripr;
  std::string_view body(reinterpret_cast<const char*>(data), size);
  auto event = DecodeStatusChange(body);
  if (!event) {
    if (event.error().code != ErrorCode::kInvalidArgument) __builtin_trap();
    return 0;
  }
  event->timestamp = std::chrono::floor<std::chrono::milliseconds>(event->timestamp);
  auto again = DecodeStatusChange(EncodeStatusChange(*event));
  if (!again || !(*again == *event)) __builtin_trap();
  return 0;
}
