// SHA-512 through OpenSSL's EVP interface. tiersync names content by SHA-256 (base/sha256.h);
// SHA-512 exists only to check TUF target entries whose "hashes" list it
// (protocol/tuf_verify.h).
#ifndef TIERSYNC_BASE_SHA512_H_
#define TIERSYNC_BASE_SHA512_H_

#include <array>
#include <cstdint>
#include <span>

namespace tiersync {

using Sha512Digest = std::array<uint8_t, 64>;

// SHA-512 of `data` in one call.
Sha512Digest Sha512(std::span<const uint8_t> data);

}  // namespace tiersync

#endif  // TIERSYNC_BASE_SHA512_H_
