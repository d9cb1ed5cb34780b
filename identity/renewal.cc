#include "identity/renewal.h"

#include "base/bytes.h"
#include "identity/chain_verify.h"
#include "identity/enrollment_request.h"

namespace tiersync::identity {

bool ShouldRenew(const NodeCertificate& cert, int64_t now) {
  const int64_t lifetime = cert.not_after() - cert.not_before();
  return now >= cert.not_after() - lifetime / kRenewWhenLeftDivisor;
}

namespace {

// The request must come from the holder of the current key.
Status CheckPossession(const NodeCertificate& leaf, const EnrollmentRequest& req,
                       std::span<const uint8_t> rotation_signature) {
  if (req.key.canonical_der() == leaf.public_key().canonical_der()) return Status::Ok();
  if (rotation_signature.empty()) {
    return VerificationError("the request has a new key but no signature by the current key");
  }
  if (!leaf.public_key().Verify(AsBytes(req.der), rotation_signature).ok()) {
    return VerificationError("the current key's signature over the request does not verify");
  }
  return Status::Ok();
}

}  // namespace

Result<NodeCertificate> Renew(const NodeCertificate& issuer, const PrivateKey& issuer_key,
                              const RenewalInput& input, std::span<const NodeCertificate> trusted,
                              const RevocationSet& revocations, int64_t now, int64_t lifetime) {
  if (input.current_chain.empty()) return InvalidArgumentError("no current certificate");
  const NodeCertificate& leaf = input.current_chain.front();
  Result<VerifiedChain> verified =
      VerifyNodeChain(leaf, input.current_chain.subspan(1), trusted, now, revocations);
  if (!verified.ok()) return verified.status().WithContext("current certificate");
  if (verified->chain.size() < 2 || verified->chain[1].fingerprint() != issuer.fingerprint()) {
    return FailedPreconditionError("the current certificate of " + Describe(leaf.identity()) +
                                   " was not issued by " + Describe(issuer.identity()));
  }
  TS_ASSIGN_OR_RETURN(EnrollmentRequest req, ParseEnrollmentRequest(input.request_pem));
  if (req.identity != leaf.identity()) {
    return InvalidArgumentError("the request asks for " + Describe(req.identity) +
                                ", the current certificate is " + Describe(leaf.identity()));
  }
  TS_RETURN_IF_ERROR(CheckPossession(leaf, req, input.rotation_signature));
  return Issue(issuer, issuer_key, req.identity, req.key, now - kNotBeforeBackdateSeconds,
               now + lifetime);
}

}  // namespace tiersync::identity
