// Views of bytes: the span types every interface uses, and the casts between bytes and text.
#ifndef TIERSYNC_BASE_BYTES_H_
#define TIERSYNC_BASE_BYTES_H_

#include <cstdint>
#include <span>
#include <string_view>

namespace tiersync {

using ByteSpan = std::span<const uint8_t>;
using MutableByteSpan = std::span<uint8_t>;

// The bytes of a string (no copy).
inline ByteSpan AsBytes(std::string_view s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}

// Bytes read as text (no copy, no validation).
inline std::string_view AsChars(ByteSpan b) {
  return {reinterpret_cast<const char*>(b.data()), b.size()};
}

}  // namespace tiersync

#endif  // TIERSYNC_BASE_BYTES_H_
