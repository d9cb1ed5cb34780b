#include "base/sha512.h"

#include <openssl/evp.h>

#include <cstdlib>

namespace tiersync {

Sha512Digest Sha512(std::span<const uint8_t> data) {
  Sha512Digest out;
  unsigned int len = 0;
  // A failure here means a broken OpenSSL or no memory; a wrong digest would be a security bug.
  if (EVP_Digest(data.data(), data.size(), out.data(), &len, EVP_sha512(), nullptr) != 1 ||
      len != out.size()) {
    std::abort();
  }
  return out;
}

}  // namespace tiersync
