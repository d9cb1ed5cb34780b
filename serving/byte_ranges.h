// HTTP byte ranges (RFC 9110 section 14) for a representation of known size, and the layout of
// a multipart/byteranges body. Pure: no I/O.
//
// ParseRange() reads a Range header value against `size`:
//   - no header, a unit other than "bytes", or a malformed header: kIgnore (send the whole
//     representation, 200), as RFC 9110 says a server may;
//   - "bytes=" with one or more ranges: first-last, first- (open) and -N (suffix); each range
//     is clamped to the representation; a range whose first byte is past the end, or any
//     number that does not fit 64 bits, is unsatisfiable and dropped; the rest are sorted and
//     overlapping or adjacent ones merged. None left: kUnsatisfiable (416). Left after
//     merging more than kMaxRanges: kIgnore (a whole answer is cheaper and safe against
//     range-amplification attacks). Otherwise kRanges.
// Every computation is overflow-safe: "bytes=0-18446744073709551615" is the whole file.
#ifndef TIERSYNC_SERVING_BYTE_RANGES_H_
#define TIERSYNC_SERVING_BYTE_RANGES_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace tiersync::serving {

inline constexpr size_t kMaxRanges = 16;
inline constexpr size_t kMaxRangeHeaderBytes = 1024;

struct ByteRange {
  uint64_t first = 0;  // inclusive
  uint64_t last = 0;   // inclusive; first <= last < size
  uint64_t length() const { return last - first + 1; }
  bool operator==(const ByteRange&) const = default;
};

struct RangeRequest {
  enum Kind { kIgnore, kRanges, kUnsatisfiable } kind = kIgnore;
  std::vector<ByteRange> ranges;  // kRanges: sorted, disjoint, not adjacent, non-empty
};

RangeRequest ParseRange(std::string_view header, uint64_t size);

// "bytes 0-499/1234"
std::string ContentRange(const ByteRange& r, uint64_t size);
// "bytes */1234" (with a 416)
std::string UnsatisfiedContentRange(uint64_t size);

// A multipart/byteranges body: literal text (boundaries and part headers) between file
// ranges, in order. `total` is the body length (the response's Content-Length).
struct MultipartPiece {
  std::string literal;  // written first
  bool has_range = false;
  ByteRange range;  // then these bytes of the file, if has_range
};
struct MultipartBody {
  std::string content_type;  // "multipart/byteranges; boundary=..."
  std::vector<MultipartPiece> pieces;
  uint64_t total = 0;
};
// REQUIRES: ranges non-empty, each within size. `boundary` is 1-70 characters of [0-9A-Za-z].
MultipartBody BuildMultipart(const std::vector<ByteRange>& ranges, uint64_t size,
                             std::string_view part_content_type, std::string_view boundary);

}  // namespace tiersync::serving

#endif  // TIERSYNC_SERVING_BYTE_RANGES_H_
