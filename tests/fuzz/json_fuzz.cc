// libFuzzer target for ParseJson() and the encoders.
//
// For every input the parser accepts it checks:
//   * ParseJson(EncodePretty(v)) == v (pretty files read back exactly), and
//   * canonical JSON is a fixed point: EncodeCanonical(ParseJson(EncodeCanonical(v))) ==
//     EncodeCanonical(v). Canonical JSON emits control characters raw, which strict JSON
//     forbids, so when a string in v holds a byte < 0x20 the re-parse must instead fail with
//     kCorruption.
// Any violation calls abort().
//
// Build (from the repository root):
//   clang++ -std=c++20 -fsanitize=fuzzer,address -I. protocol/json_fuzz.cc protocol/json.cc
//       base/status.cc -o json_fuzz
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "base/status.h"
#include "protocol/json.h"

namespace tiersync::protocol {
namespace {

bool HasControlByte(std::string_view s) {
  for (char c : s) {
    if (static_cast<unsigned char>(c) < 0x20) return true;
  }
  return false;
}

// True if any string or key in `v` holds a byte < 0x20.
bool HasControlCharacter(const Json& v) {
  if (v.is_string()) return HasControlByte(v.as_string());
  if (v.is_array()) {
    for (const Json& e : v.as_array()) {
      if (HasControlCharacter(e)) return true;
    }
  }
  if (v.is_object()) {
    for (const auto& [key, value] : v.as_object()) {
      if (HasControlByte(key) || HasControlCharacter(value)) return true;
    }
  }
  return false;
}

void Check(bool condition) {
  if (!condition) std::abort();
}

void CheckPrettyRoundTrip(const Json& v) {
  Result<Json> reparsed = ParseJson(EncodePretty(v));
  Check(reparsed.ok() && *reparsed == v);
}

void CheckCanonicalFixedPoint(const Json& v) {
  const std::string canonical = EncodeCanonical(v);
  Result<Json> reparsed = ParseJson(canonical);
  if (HasControlCharacter(v)) {
    Check(!reparsed.ok() && reparsed.status().code() == StatusCode::kCorruption);
    return;
  }
  Check(reparsed.ok() && *reparsed == v);
  Check(EncodeCanonical(*reparsed) == canonical);
}

// Parse failures must be kCorruption or kResourceExhausted; successes must round-trip.
void FuzzOne(std::string_view text) {
  Result<Json> parsed = ParseJson(text);
  if (!parsed.ok()) {
    const StatusCode code = parsed.status().code();
    Check(code == StatusCode::kCorruption || code == StatusCode::kResourceExhausted);
    return;
  }
  CheckPrettyRoundTrip(*parsed);
  CheckCanonicalFixedPoint(*parsed);
}

}  // namespace
}  // namespace tiersync::protocol

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  tiersync::protocol::FuzzOne(std::string_view(reinterpret_cast<const char*>(data), size));
  return 0;
}
