// Enrollment requests: a standard PKCS#10 certificate request (PEM, "BEGIN CERTIFICATE
// REQUEST") whose subject DN carries the identity the new node asks for (O=tiersync,
// OU=<tier>, L=<region>, CN=<name>; node_identity.h) and whose signature, by the node's own
// key, proves it holds that key. What `openssl req -new -key k.pem -subj
// "/O=tiersync/OU=school/L=330106/CN=school-a"` writes for an ed25519 or P-256 key; an SM2
// request is signed SM2-with-SM3 with the distinguishing ID kSm2DistinguishingId (`openssl req
// ... -sm3 -sigopt distid:1234567812345678`). Attributes and extensions in the request are
// ignored: the issuer decides the profile.
//
// Thread safety: pure functions, safe from any thread.
#ifndef TIERSYNC_IDENTITY_ENROLLMENT_REQUEST_H_
#define TIERSYNC_IDENTITY_ENROLLMENT_REQUEST_H_

#include <string>
#include <string_view>

#include "base/crypto.h"
#include "base/status.h"
#include "identity/node_identity.h"

namespace tiersync::identity {

inline constexpr size_t kMaxRequestPemBytes = 64 << 10;

struct EnrollmentRequest {
  NodeIdentity identity;  // as requested (well-formed, not yet checked against any scope)
  PublicKey key;          // the key whose possession the signature proved
  std::string der;        // the request's DER bytes (what a key rotation signs)
};

// A request for `id` signed with `key` (ed25519, ecdsa P-256 or sm2), as PEM.
// Errors: kInvalidArgument for a malformed identity; kNotSupported for another key scheme.
Result<std::string> MakeEnrollmentRequest(const PrivateKey& key, const NodeIdentity& id);

// Parses and checks a request. Errors: kInvalidArgument if it is not one PEM request, too
// large, or its subject is not a well-formed node identity (naming the problem);
// kNotSupported for a key that is not a node key; kVerificationFailed if its signature does not
// verify under its own key (no proof of possession).
Result<EnrollmentRequest> ParseEnrollmentRequest(std::string_view pem);

}  // namespace tiersync::identity

#endif  // TIERSYNC_IDENTITY_ENROLLMENT_REQUEST_H_
