// libFuzzer target: request targets from clients (serving/request_path.h). Whatever SplitPath
// accepts must be safe to hand to a file system or the catalog: no "." or ".." segment, no
// empty segment, no '/', '\\' or control character inside a segment, valid UTF-8. Decoded
// query values must be valid UTF-8 too.
#include <cstdlib>
#include <string_view>

#include "serving/request_path.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace tiersync::serving;
  std::string_view target(reinterpret_cast<const char*>(data), size);
  auto segments = SplitPath(target);
  if (segments.ok()) {
    for (const std::string& s : *segments) {
      if (s.empty() || s == "." || s == "..") std::abort();
      for (unsigned char c : s) {
        if (c == '/' || c == '\\' || c < 0x20 || c == 0x7f) std::abort();
      }
      if (!ValidUtf8(s)) std::abort();
    }
  }
  for (const auto& [name, value] : QueryParameters(target)) {
    if (!ValidUtf8(name) || !ValidUtf8(value)) std::abort();
  }
  return 0;
}
