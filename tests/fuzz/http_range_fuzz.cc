// libFuzzer target: Range headers from clients (serving/byte_ranges.h). The first 8 bytes are
// the representation's size, the rest the header. Whatever ParseRange answers must be a valid
// plan: ranges inside the representation, sorted, disjoint and not adjacent, at most
// kMaxRanges, and a multipart layout whose length adds up without overflow.
#include <cstdlib>
#include <cstring>
#include <string_view>

#include "serving/byte_ranges.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace tiersync::serving;
  if (size < 8) return 0;
  uint64_t length;
  std::memcpy(&length, data, 8);
  std::string_view header(reinterpret_cast<const char*>(data + 8), size - 8);
  RangeRequest r = ParseRange(header, length);
  if (r.kind != RangeRequest::kRanges) {
    if (!r.ranges.empty()) std::abort();
    return 0;
  }
  if (r.ranges.empty() || r.ranges.size() > kMaxRanges) std::abort();
  for (size_t i = 0; i < r.ranges.size(); ++i) {
    const ByteRange& b = r.ranges[i];
    if (b.first > b.last || b.last >= length) std::abort();
    if (i > 0 && r.ranges[i - 1].last + 1 >= b.first) std::abort();  // sorted, merged
  }
  if (r.ranges.size() > 1) {
    MultipartBody body = BuildMultipart(r.ranges, length, "video/mp4", "tiersyncBoundary0");
    uint64_t sum = 0;
    for (const auto& piece : body.pieces) {
      sum += piece.literal.size() + (piece.has_range ? piece.range.length() : 0);
    }
    if (sum != body.total) std::abort();
  }
  return 0;
}
