#include "base/xxh3.h"

#include <xxhash.h>

namespace tiersync {

uint64_t Xxh3_64(std::span<const uint8_t> data) { return XXH3_64bits(data.data(), data.size()); }

}  // namespace tiersync
