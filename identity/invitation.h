// Invitations: how an operator of one tier lets a new node of the tier below enroll
// (threats.md A15; docs/formats/node-identity.md "Invitations").
//
// The operator creates an invitation bound to {tier, region, optional name, expires_at} and
// hands the token to the new node's operator out of band:
//
//   tsinv1.<id>.<secret>     id: 16 random bytes, 32 lower-case hex digits
//                            secret: 32 random bytes, base64url without padding (43 chars)
//
// The new node sends the token with an enrollment request (enrollment_request.h) and gets its
// certificate. The store keeps SHA-256 of the secret's ASCII text, never the secret.
//
// Redeem refuses, each with its own Status and nothing changed unless said:
//   malformed token                        kInvalidArgument  "malformed invitation token"
//   unknown id                             kNotFound         "unknown invitation <id>"
//   burned (kMaxSecretFailures wrong)      kFailedPrecondition "invitation <id> is burned ..."
//   wrong secret (counted; the last burns) kVerificationFailed "wrong secret for invitation ..."
//   already used                           kAlreadyExists    "invitation <id> was already used ..."
//   expired (now >= expires_at)            kFailedPrecondition "invitation <id> expired at ..."
//   request malformed / no possession      ParseEnrollmentRequest's errors
//   requested identity != invitation's     kInvalidArgument  "the request asks for ..."
//   outside the issuer's scope             kInvalidArgument  (CheckScope's message)
// The secret is checked before anything else about the invitation is revealed. A bad request
// does not use the invitation up (the operator may send a corrected one).
//
// Store: one JSON file (EncodePretty), written whole and atomically through Env
// (WriteFileAtomically, mode 0600) on every change:
//   {"format": 1, "invitations": [{"id", "secret_sha256", "tier", "region", "name",
//     "created_at", "expires_at", "used_at", "serial", "failures"}]}
// "name" "" means any name; "serial" is the certificate issued ("" and "used_at" 0: unused).
//
// Thread safety: every method may be called from several threads at once; Redeem holds the
// store's lock from the secret check to the durable "used" mark, so an invitation is used by
// exactly one redemption however many run concurrently. One store per file: two processes must
// not open the same file (the caller's node lock covers it).
#ifndef TIERSYNC_IDENTITY_INVITATION_H_
#define TIERSYNC_IDENTITY_INVITATION_H_

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "base/crypto.h"
#include "base/env.h"
#include "base/mutex.h"
#include "base/status.h"
#include "base/thread_annotations.h"
#include "identity/node_certificate.h"
#include "identity/node_identity.h"

namespace tiersync::identity {

inline constexpr std::string_view kInvitationTokenPrefix = "tsinv1";
inline constexpr uint32_t kMaxSecretFailures = 5;
inline constexpr size_t kMaxInvitationFileBytes = 16 << 20;

struct Invitation {
  std::string id;             // 32 hex digits
  std::string secret_sha256;  // hex
  NodeIdentity identity;      // name "" binds no name
  int64_t created_at = 0, expires_at = 0;
  int64_t used_at = 0;    // when it was used
  std::string serial;     // of the certificate issued; "" while unused
  uint32_t failures = 0;  // wrong secrets so far
  bool burned() const { return failures >= kMaxSecretFailures; }
  bool operator==(const Invitation&) const = default;
};

class InvitationStore {
 public:
  struct Options {
    Env* env = nullptr;
    std::string path;  // the JSON file; created on the first change
    // The issuing node. Both must outlive the store.
    const NodeCertificate* issuer = nullptr;
    const PrivateKey* issuer_key = nullptr;
    int64_t certificate_lifetime = kNodeCertificateLifetimeSeconds;
  };

  // Reads the file if it exists. Errors: kInvalidArgument if the issuer is not a CA or the key
  // is not its key; kCorruption if the file is malformed; Env's errors.
  static Result<std::unique_ptr<InvitationStore>> Open(Options options);

  // Creates an invitation for `bound` (name "" for any name) valid until `expires_at`; returns
  // the token (the only time the secret exists). kInvalidArgument if expires_at <= now or the
  // identity is outside the issuer's scope (CheckScope; a placeholder name is checked when
  // none is bound); Env's errors if it cannot be stored (then there is no invitation).
  Result<std::string> Create(const NodeIdentity& bound, int64_t now, int64_t expires_at);

  // Checks `token` and the enrollment request `csr_pem` as the file comment says, issues the
  // certificate (valid from now - kNotBeforeBackdateSeconds to now + certificate_lifetime) and
  // durably marks the invitation used before returning it.
  Result<NodeCertificate> Redeem(std::string_view token, std::string_view csr_pem, int64_t now);

  // Every invitation, by id.
  std::vector<Invitation> List() const;

 private:
  explicit InvitationStore(Options options) : options_(std::move(options)) {}
  // Writes `all` to the file; on success it becomes the store's state.
  Status Commit(std::map<std::string, Invitation> all) REQUIRES(mu_);
  // A wrong secret for invitation `id`: counts it (durably) and says so.
  Status CountWrongSecret(const std::string& id) REQUIRES(mu_);

  const Options options_;
  mutable Mutex mu_;
  std::map<std::string, Invitation> invitations_ GUARDED_BY(mu_);
};

}  // namespace tiersync::identity

#endif  // TIERSYNC_IDENTITY_INVITATION_H_
