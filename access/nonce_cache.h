// NonceCache: the request nonces a node has accepted recently, so that a signed admin request
// (access/request_signature.h) is accepted once only.
//
// A nonce is remembered until the end of its request's validity window (its signed time plus
// the allowed skew): after that the request is refused for its age, and the nonce may go.
// Bounded: at most `capacity` nonces. When full, expired nonces are dropped first; if none
// has expired the new request is refused (kUnavailable) rather than an unexpired nonce
// forgotten, which would let its request be replayed. Memory only: after a restart a request
// signed before it could be replayed within its window — the window is short (±300 s) and
// every accepted request is in the audit log.
//
// Thread safety: all methods may be called from several threads.
#ifndef TIERSYNC_ACCESS_NONCE_CACHE_H_
#define TIERSYNC_ACCESS_NONCE_CACHE_H_

#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <unordered_set>

#include "base/mutex.h"
#include "base/status.h"

namespace tiersync::access {

inline constexpr size_t kDefaultNonceCapacity = 100'000;

class NonceCache {
 public:
  explicit NonceCache(size_t capacity = kDefaultNonceCapacity) : capacity_(capacity) {}
  NonceCache(const NonceCache&) = delete;
  NonceCache& operator=(const NonceCache&) = delete;

  // Records `nonce` as used until unix second `expires_at`, at time `now`.
  // Errors: kAlreadyExists if it is remembered already (a replay); kUnavailable if the cache
  // is full of unexpired nonces.
  Status Insert(std::string_view nonce, int64_t expires_at, int64_t now) EXCLUDES(mu_);

  size_t size() const EXCLUDES(mu_);

 private:
  void DropExpired(int64_t now) REQUIRES(mu_);

  const size_t capacity_;
  mutable Mutex mu_;
  std::unordered_set<std::string> nonces_ GUARDED_BY(mu_);
  std::multimap<int64_t, std::string> by_expiry_ GUARDED_BY(mu_);
};

}  // namespace tiersync::access

#endif  // TIERSYNC_ACCESS_NONCE_CACHE_H_
