// XXH3-64 (libxxhash): a fast checksum for bytes at rest and for hash tables. Never an
// identity and never a security check: chunk identity is SHA-256.
#ifndef TIERSYNC_BASE_XXH3_H_
#define TIERSYNC_BASE_XXH3_H_

#include <cstdint>
#include <span>

namespace tiersync {

// XXH3 64-bit hash of `data` with seed 0. Uses the scalar/SSE2/AVX2 path chosen at build
// time, not the *_dispatch AVX-512 entry points (which would need vzeroupper before SHA-NI).
uint64_t Xxh3_64(std::span<const uint8_t> data);

}  // namespace tiersync

#endif  // TIERSYNC_BASE_XXH3_H_
