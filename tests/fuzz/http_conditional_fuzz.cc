// libFuzzer target: If-None-Match and If-Range headers from clients (serving/conditional.h).
// The first byte splits the input into the header and the representation's opaque tag. Must
// not crash; a header naming exactly the strong ETag matches it; "*" matches any.
#include <cstdlib>
#include <string>
#include <string_view>

#include "serving/conditional.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace tiersync::serving;
  if (size < 1) return 0;
  size_t split = 1 + (size > 1 ? data[0] % (size - 1) : 0);
  std::string_view header(reinterpret_cast<const char*>(data + 1), split - 1);
  std::string opaque;
  for (size_t i = split; i < size; ++i) {
    char c = static_cast<char>(data[i]);
    if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')) opaque += c;  // tiersync's tags
  }
  if (opaque.empty()) opaque = "0";
  std::string etag = StrongEtag(opaque);
  (void)NoneMatchHits(header, etag);
  (void)IfRangeAllows(header, etag);
  if (!NoneMatchHits(etag, etag) || !NoneMatchHits("*", etag) || !IfRangeAllows(etag, etag)) {
    std::abort();
  }
  return 0;
}
