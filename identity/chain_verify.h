// VerifyNodeChain: is this certificate a node of the federation, and which one? (threats.md
// A16; docs/formats/node-identity.md "Verification").
//
// The checks, in order; the first that fails is the answer:
//   1. OpenSSL's X509_verify_cert builds the path leaf -> intermediates -> a trusted national
//      CA and checks every signature (SM2-with-SM3 under the standard distinguishing ID
//      included, the national CA's self-signature too), the validity at `now`,
//      basicConstraints, pathlen and keyUsage, in X.509 strict mode.
//   2. Our scope rule on every issuer -> subject pair of that path (CheckScope): the subject's
//      tier is strictly below the issuer's and its region lies inside the issuer's. So a
//      province's key can never vouch for another province's county, even with a
//      cryptographically valid certificate.
//   3. Revocation: for every certificate of the path, the lists in `revocations` of each
//      certificate above it (its issuer, its issuer's issuer, ..., the national CA).
//
// Errors, all kVerificationFailed, name the certificate by its identity:
//   "certificate of school 'a' (330106) expired on 2026-01-31T00:00:00Z"
//   "certificate of school 'a' (330106) is not valid before 2026-02-01T00:00:00Z"
//   "certificate of county 'x' (330106): signature does not verify"
//   "certificate of county 'x' (330106) is not issued under the national identity CA (unable
//    to get local issuer certificate)"
//   "certificate of county 'x' (330106) is not inside its issuer province 'y' (320000)"
//   "certificate of school 'a' (330106) revoked by county 'x' (330106) at <time>: <reason>"
// kInvalidArgument if a trusted certificate is not a self-issued national CA or there is none.
//
// Thread safety: safe to call concurrently (with the same or different arguments).
#ifndef TIERSYNC_IDENTITY_CHAIN_VERIFY_H_
#define TIERSYNC_IDENTITY_CHAIN_VERIFY_H_

#include <cstdint>
#include <span>
#include <vector>

#include "base/status.h"
#include "identity/node_certificate.h"
#include "identity/node_identity.h"
#include "identity/revocation.h"

namespace tiersync::identity {

struct VerifiedChain {
  NodeIdentity identity;               // the leaf's
  std::vector<NodeCertificate> chain;  // the verified path: leaf first, the national CA last
};

// `intermediates` may hold more certificates than the path needs, in any order.
Result<VerifiedChain> VerifyNodeChain(const NodeCertificate& leaf,
                                      std::span<const NodeCertificate> intermediates,
                                      std::span<const NodeCertificate> trusted, int64_t now,
                                      const RevocationSet& revocations);

}  // namespace tiersync::identity

#endif  // TIERSYNC_IDENTITY_CHAIN_VERIFY_H_
