// Renewal: a node whose certificate still verifies gets a new one for the same identity from
// its issuer, without an invitation (docs/formats/node-identity.md "Renewal").
//
// The node sends its current chain (leaf first) and an enrollment request for the same
// identity. Renew issues when:
//   * the current chain verifies now (VerifyNodeChain: not expired, not revoked, in scope),
//   * the issuer of the current leaf is this issuer (a node renews with its own parent),
//   * the request names exactly the leaf's identity, and
//   * the request proves possession of the current key: either it is signed by the current
//     key (same key), or, for a new key, `rotation_signature` is the current key's signature
//     (base/crypto's scheme of that key) over the request's DER bytes.
// A chain is public; the last rule is what keeps someone holding a copy of it from renewing it
// for their own key.
//
// Thread safety: pure functions (the RevocationSet is thread-safe).
#ifndef TIERSYNC_IDENTITY_RENEWAL_H_
#define TIERSYNC_IDENTITY_RENEWAL_H_

#include <cstdint>
#include <span>
#include <string_view>

#include "base/crypto.h"
#include "base/status.h"
#include "identity/node_certificate.h"
#include "identity/revocation.h"

namespace tiersync::identity {

// Renew once less than this fraction (1/3) of the certificate's lifetime is left: day 20 of a
// 30-day certificate.
inline constexpr int64_t kRenewWhenLeftDivisor = 3;

// True from the moment less than a third of `cert`'s validity is left (and after it expired).
bool ShouldRenew(const NodeCertificate& cert, int64_t now);

struct RenewalInput {
  std::span<const NodeCertificate> current_chain;  // leaf first, then its intermediates
  std::string_view request_pem;                    // enrollment request, same identity
  std::span<const uint8_t> rotation_signature;     // empty unless the key changes
};

// Issues the renewed certificate, valid from `now` - kNotBeforeBackdateSeconds until `now` +
// `lifetime` (cut to the issuer's).
// Errors: the current chain's VerifyNodeChain error (kVerificationFailed, with context
// "current certificate"); kFailedPrecondition if the leaf was issued by another node;
// ParseEnrollmentRequest's errors; kInvalidArgument if the request names another identity;
// kVerificationFailed if a new key comes without a valid rotation signature.
Result<NodeCertificate> Renew(const NodeCertificate& issuer, const PrivateKey& issuer_key,
                              const RenewalInput& input, std::span<const NodeCertificate> trusted,
                              const RevocationSet& revocations, int64_t now,
                              int64_t lifetime = kNodeCertificateLifetimeSeconds);

}  // namespace tiersync::identity

#endif  // TIERSYNC_IDENTITY_RENEWAL_H_
