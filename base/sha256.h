// SHA-256 through OpenSSL's EVP interface (uses SHA-NI where the CPU has it). SHA-256 is the
// identity of every chunk, chunk index and file in tiersync.
#ifndef TIERSYNC_BASE_SHA256_H_
#define TIERSYNC_BASE_SHA256_H_

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "base/hex.h"

namespace tiersync {

using Sha256Digest = std::array<uint8_t, 32>;

// SHA-256 of `data` in one call.
Sha256Digest Sha256(std::span<const uint8_t> data);

// Incremental SHA-256. Not thread-safe; one object per stream.
class Sha256Hasher {
 public:
  Sha256Hasher();
  ~Sha256Hasher();
  Sha256Hasher(const Sha256Hasher&) = delete;
  Sha256Hasher& operator=(const Sha256Hasher&) = delete;

  void Update(std::span<const uint8_t> data);
  // Returns the digest and resets the hasher for a new stream.
  Sha256Digest Finish();

 private:
  struct Ctx;
  std::unique_ptr<Ctx> ctx_;
};

// Parses 64 hexadecimal characters (either case); nullopt on any other input.
std::optional<Sha256Digest> Sha256FromHex(std::string_view hex);

}  // namespace tiersync

#endif  // TIERSYNC_BASE_SHA256_H_
