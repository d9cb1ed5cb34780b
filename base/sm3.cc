#include "base/sm3.h"

#include <openssl/evp.h>

#include <cstdlib>

namespace tiersync {

Sm3Digest Sm3(std::span<const uint8_t> data) {
  Sm3Digest out;
  unsigned int len = 0;
  static const unsigned char kEmpty = 0;  // OpenSSL and a null pointer with length 0 disagree
  const unsigned char* bytes = data.empty() ? &kEmpty : data.data();
  // A failure here means a broken OpenSSL or no memory; a wrong digest would be a security bug.
  if (EVP_Digest(bytes, data.size(), out.data(), &len, EVP_sm3(), nullptr) != 1 ||
      len != out.size()) {
    std::abort();
  }
  return out;
}

}  // namespace tiersync
