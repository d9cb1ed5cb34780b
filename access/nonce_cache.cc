#include "access/nonce_cache.h"

namespace tiersync::access {

void NonceCache::DropExpired(int64_t now) {
  // A nonce is needed while a request carrying it could still be accepted (now <= expiry).
  auto end = by_expiry_.lower_bound(now);
  for (auto it = by_expiry_.begin(); it != end; ++it) nonces_.erase(it->second);
  by_expiry_.erase(by_expiry_.begin(), end);
}

Status NonceCache::Insert(std::string_view nonce, int64_t expires_at, int64_t now) {
  MutexLock l(&mu_);
  std::string key(nonce);
  if (nonces_.contains(key)) return AlreadyExistsError("nonce replayed");
  if (nonces_.size() >= capacity_) DropExpired(now);
  if (nonces_.size() >= capacity_) {
    return UnavailableError("too many signed requests in the last minutes; try again later");
  }
  nonces_.insert(key);
  by_expiry_.emplace(expires_at, std::move(key));
  return Status::Ok();
}

size_t NonceCache::size() const {
  MutexLock l(&mu_);
  return nonces_.size();
}

}  // namespace tiersync::access
