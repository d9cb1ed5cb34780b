// Little-endian fixed-width integer encoding for tiersync's binary formats.
#ifndef TIERSYNC_PROTOCOL_LITTLE_ENDIAN_H_
#define TIERSYNC_PROTOCOL_LITTLE_ENDIAN_H_

#include <cstdint>
#include <vector>

namespace tiersync::protocol {

template <class T>
void PutLe(std::vector<uint8_t>* out, T v) {
  for (size_t i = 0; i < sizeof(T); ++i) out->push_back(static_cast<uint8_t>(v >> (8 * i)));
}

// REQUIRES: p points at sizeof(T) readable bytes.
template <class T>
T GetLe(const uint8_t* p) {
  T v = 0;
  for (size_t i = 0; i < sizeof(T); ++i) v |= static_cast<T>(p[i]) << (8 * i);
  return v;
}

}  // namespace tiersync::protocol

#endif  // TIERSYNC_PROTOCOL_LITTLE_ENDIAN_H_
