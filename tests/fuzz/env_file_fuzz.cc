// libFuzzer target: the env-file reader (`--env-file`, docs/decisions/fuzzing.md).
//
// Checked beyond "no crash": failures are never kInternal and carry a bounded, valid UTF-8
// message that never holds a whole line of the file; every parsed name is non-empty, and
// every name and value is valid UTF-8 (the reader refuses anything else).

#include "dripr/core/env.h"
#include "fuzz_support.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace dripr;
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto vars = ParseEnvFile(text, "fuzz.env");
  fuzz::CheckResult(vars);
  if (!vars) return 0;
  for (const auto& [name, value] : *vars) {
    fuzz::Check(!name.empty());
    fuzz::Check(FindInvalidUtf8(name) == std::string::npos);
    fuzz::Check(FindInvalidUtf8(value) == std::string::npos);
    fuzz::Check(name.find('=') == std::string::npos && name.find('\n') == std::string::npos);
  }
  return 0;
}
