// Revocation lists: an issuing node's signed statement that certificates in its subtree are no
// longer valid, and the RevocationSet that VerifyNodeChain consults (docs/formats/
// node-identity.md, "Revocation").
//
//   {"signed": {"_type": "tiersync-revocations",
//               "issuer": "<SHA-256 fingerprint of the issuer's certificate, hex>",
//               "version": 3,                       // >= 1, grows with every new list
//               "issued_at": 1767225600,            // unix seconds
//               "revoked": [{"serial": "<hex>", "subject": {"tier": "school", "region":
//                            "330106", "name": "xihu-no1"}, "at": 1767225000,
//                            "reason": "key compromise"}]},
//    "signatures": [{"keyid": "<SHA-256 of the issuer key's SPKI DER, hex>",
//                    "sig": "<hex signature of the canonical JSON of signed>"}]}
//
// The signature is base/crypto's scheme of the issuer's key over protocol/json.h's
// EncodeCanonical("signed"), as TUF metadata is signed. "at" and "reason" are for people: a
// listed certificate is revoked from the moment the list is known, whatever "at" says.
// An entry revokes the certificate with that serial AND that subject. Every subject must lie in
// the issuer's scope (CheckScope): an issuer revokes only in its subtree, and the set is
// consulted only for certificates whose verified chain passes through the issuer.
#ifndef TIERSYNC_IDENTITY_REVOCATION_H_
#define TIERSYNC_IDENTITY_REVOCATION_H_

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/crypto.h"
#include "base/mutex.h"
#include "base/status.h"
#include "base/thread_annotations.h"
#include "identity/node_certificate.h"
#include "identity/node_identity.h"

namespace tiersync::identity {

inline constexpr size_t kMaxRevocationListBytes = 4 << 20;
inline constexpr size_t kMaxRevokedEntries = 20000;
inline constexpr size_t kMaxRevocationReasonBytes = 256;
inline constexpr std::string_view kRevocationListType = "tiersync-revocations";

struct RevokedCertificate {
  std::string serial;  // lower-case hex, as NodeCertificate::serial()
  NodeIdentity subject;
  int64_t at = 0;  // unix seconds
  std::string reason;
  bool operator==(const RevokedCertificate&) const = default;
};

struct RevocationList {
  std::string issuer;  // fingerprint of the issuer's certificate
  uint64_t version = 0;
  int64_t issued_at = 0;
  std::vector<RevokedCertificate> revoked;
  bool operator==(const RevocationList&) const = default;
};

// The signed envelope of `list`, signed with `issuer_key`. Errors (kInvalidArgument): the list
// does not name `issuer` (fingerprint), the key is not the issuer's, version 0, an entry is
// malformed or outside the issuer's scope, too many entries.
Result<std::string> SignRevocationList(const RevocationList& list, const NodeCertificate& issuer,
                                       const PrivateKey& issuer_key);

// Parses an envelope and checks it was signed by `issuer` and is well-formed (the rules
// above). kVerificationFailed if no signature of the issuer's key verifies; kCorruption for
// malformed JSON or members (naming the member); kResourceExhausted if too large.
Result<RevocationList> VerifyRevocationList(std::string_view text, const NodeCertificate& issuer);

// The newest revocation list of each issuer. Thread-safe: Add and the lookups may be called
// from several threads at once.
class RevocationSet {
 public:
  // Verifies `text` as a list of `issuer` and keeps it in place of an older one.
  // Errors: VerifyRevocationList's; kFailedPrecondition "replayed" if a list of this issuer
  // with a higher version is held, or one with the same version but other content. Adding the
  // list already held is OK (nothing changes).
  Status Add(std::string_view text, const NodeCertificate& issuer);

  // The entry of the list of the issuer with fingerprint `issuer_fingerprint` that revokes the
  // certificate (serial, subject), if any.
  std::optional<RevokedCertificate> Find(std::string_view issuer_fingerprint,
                                         std::string_view serial,
                                         const NodeIdentity& subject) const;

  // The version held for an issuer; nullopt if none.
  std::optional<uint64_t> Version(std::string_view issuer_fingerprint) const;

 private:
  mutable Mutex mu_;
  std::map<std::string, RevocationList, std::less<>> lists_ GUARDED_BY(mu_);
};

}  // namespace tiersync::identity

#endif  // TIERSYNC_IDENTITY_REVOCATION_H_
