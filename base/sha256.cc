#include "base/sha256.h"

#include <openssl/evp.h>

#include <algorithm>
#include <cstdlib>

namespace tiersync {

struct Sha256Hasher::Ctx {
  EVP_MD_CTX* md = EVP_MD_CTX_new();
  ~Ctx() { EVP_MD_CTX_free(md); }
};

namespace {
// EVP failures on SHA-256 mean a broken OpenSSL installation or out of memory: there is no
// meaningful way to continue hashing, and returning a wrong digest would be a security bug.
void CheckEvp(int ok) {
  if (ok != 1) std::abort();
}
}  // namespace

Sha256Hasher::Sha256Hasher() : ctx_(std::make_unique<Ctx>()) {
  if (ctx_->md == nullptr) std::abort();
  CheckEvp(EVP_DigestInit_ex(ctx_->md, EVP_sha256(), nullptr));
}

Sha256Hasher::~Sha256Hasher() = default;

void Sha256Hasher::Update(std::span<const uint8_t> data) {
  CheckEvp(EVP_DigestUpdate(ctx_->md, data.data(), data.size()));
}

Sha256Digest Sha256Hasher::Finish() {
  Sha256Digest out;
  unsigned int len = 0;
  CheckEvp(EVP_DigestFinal_ex(ctx_->md, out.data(), &len));
  CheckEvp(EVP_DigestInit_ex(ctx_->md, EVP_sha256(), nullptr));
  return out;
}

Sha256Digest Sha256(std::span<const uint8_t> data) {
  Sha256Digest out;
  unsigned int len = 0;
  CheckEvp(EVP_Digest(data.data(), data.size(), out.data(), &len, EVP_sha256(), nullptr));
  return out;
}

std::optional<Sha256Digest> Sha256FromHex(std::string_view hex) {
  Sha256Digest out;
  auto bytes = HexDecode(hex);
  if (!bytes || bytes->size() != out.size()) return std::nullopt;
  std::copy(bytes->begin(), bytes->end(), out.begin());
  return out;
}

}  // namespace tiersync
