// SM3 (GM/T 0004-2012, GB/T 32905) through OpenSSL's EVP interface. tiersync names content by
// SHA-256 (base/sha256.h); SM3 checks TUF target and metadata entries whose "hashes" list
// "sm3" (protocol/tuf_verify.h), the GM/T suite's hash beside SHA-256 (docs/security.md).
// SM3 inside SM2 signatures is OpenSSL's business (base/crypto.h), not this function's.
#ifndef TIERSYNC_BASE_SM3_H_
#define TIERSYNC_BASE_SM3_H_

#include <array>
#include <cstdint>
#include <span>

namespace tiersync {

using Sm3Digest = std::array<uint8_t, 32>;

// SM3 of `data` in one call. Aborts if OpenSSL cannot compute it (a build of OpenSSL without
// SM3, or no memory): a missing digest must never pass for a wrong one.
Sm3Digest Sm3(std::span<const uint8_t> data);

}  // namespace tiersync

#endif  // TIERSYNC_BASE_SM3_H_
