// The OpenSSL plumbing shared by identity/'s certificate, request and chain code (internal to
// this folder): keys between base/crypto and EVP_PKEY, signing with each node key type
// (SM2 with its distinguishing ID), the subject DN of a NodeIdentity, and random bytes.
//
// Node keys are of three schemes (base/crypto.h):
//   ed25519               pure Ed25519 signatures (no digest)
//   ecdsa-sha2-nistp256   ECDSA on P-256 with SHA-256
//   sm2-sm3               SM2 with SM3, distinguishing ID kSm2DistinguishingId
// Thread safety: every function is safe to call from any thread on distinct objects.
#ifndef TIERSYNC_IDENTITY_X509_SUPPORT_H_
#define TIERSYNC_IDENTITY_X509_SUPPORT_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "base/crypto.h"
#include "base/status.h"
#include "identity/node_identity.h"
#include "identity/openssl_handles.h"

namespace tiersync::identity::internal {

// True if `scheme` can be a node key ("ed25519", "ecdsa-sha2-nistp256", "sm2-sm3").
bool IsNodeKeyScheme(std::string_view scheme);

// The EVP_PKEY of a base/crypto key (the private one is parsed from its PKCS#8 PEM, which is
// cleared afterwards). kNotSupported for a scheme that is not a node key scheme.
Result<EvpPkeyPtr> PrivateEvp(const PrivateKey& key);
Result<EvpPkeyPtr> PublicEvp(const PublicKey& key);
// The base/crypto PublicKey of `key` (a certificate's or request's). kNotSupported for a key
// that is not of a node key scheme.
Result<PublicKey> ToPublicKey(EVP_PKEY* key);

// Signs a certificate / request with `key`: Ed25519, ECDSA-with-SHA256 or SM2-with-SM3 (with
// the standard distinguishing ID), chosen by the key's type.
Status SignCertificate(X509* cert, EVP_PKEY* key);
Status SignRequest(X509_REQ* req, EVP_PKEY* key);

// For a certificate / request whose signature algorithm is SM2-with-SM3, attaches the standard
// distinguishing ID so that X509_verify / X509_verify_cert / X509_REQ_verify check it under
// the same Z as it was signed with; no effect on other algorithms (OpenSSL would refuse an ID
// for them). Call once, before the object is shared between threads.
Status AttachSm2Id(X509* cert);
Status AttachSm2Id(X509_REQ* req);

// The subject DN of `id`: O=tiersync, OU=<tier>, L=<region>, CN=<name> (UTF8String).
Result<X509NamePtr> IdentityName(const NodeIdentity& id);
// Reads a DN written as above: exactly these four attributes, each once, O = "tiersync", and a
// well-formed identity (CheckIdentity). kInvalidArgument otherwise.
Result<NodeIdentity> NameIdentity(const X509_NAME* name);

// `n` bytes from OpenSSL's CSPRNG (never Env's seeded Random: these are serials and secrets).
std::vector<uint8_t> SecureRandomBytes(size_t n);

// ": <reason>" of the first error on this thread's OpenSSL queue (emptied), or "".
std::string TakeOpensslError();

// DER of a certificate; empty on failure (memory exhaustion).
std::string CertificateDer(X509* cert);
// "2026-01-31T12:00:00Z" for an ASN1_TIME; unix seconds of one (0 if unreadable).
std::string TimeText(int64_t unix_seconds);
int64_t UnixSeconds(const ASN1_TIME* t);

}  // namespace tiersync::identity::internal

#endif  // TIERSYNC_IDENTITY_X509_SUPPORT_H_
