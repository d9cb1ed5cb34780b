// A node's own identity on disk (docs/operators/node.md "Enrolling a node";
// docs/formats/node-identity.md): its key, its certificate chain, the invitations it issued and
// the audit log of both, in <dir>/identity/:
//
//   node.key          PKCS#8 PEM (mode 0600), made on first use; ed25519 unless asked otherwise
//                     (its scheme is recognised from the key itself)
//   node.crt          PEM chain, leaf first, up to but excluding the national identity CA
//   invitations.json  identity/invitation.h's store (tiers that enroll others)
//   audit.log         access/audit_log.h (mode 0600, made so): every invitation, enrollment
//                     (issued or refused, with the client's address) and installed certificate
//   LOCK              held while any of the above is changed or read for a change
//
// The national identity CAs a node trusts are exactly those of its trusted root (the TUF
// client's trusted/root.json, the pinned root.json before the first sync): root field
// x-tiersync-identity-ca (protocol/tuf_metadata.h). A chain is accepted only if it verifies
// under them now (identity/chain_verify.h), names this node's identity (node.toml's tier,
// region and name) and holds this node's key.
//
// Processes: the running node (`node serve`, its enrollment endpoint) and the CLI commands
// (`node invite`, `node enroll`, `node identity install`) share these files. Every change, and
// every redemption of an invitation, happens under LOCK (IdentityLock), with the invitation
// store and the audit log opened afresh inside it and closed before it is released: what one
// process wrote, the next one reads; no invitation can be used twice across processes.
//
// Thread safety: functions are safe to call concurrently; IdentityLock serialises the callers
// of one node, in one process and across processes.
#ifndef TIERSYNC_NODE_OWN_IDENTITY_H_
#define TIERSYNC_NODE_OWN_IDENTITY_H_

#include <memory>
#include <nlohmann/json_fwd.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "access/audit_entry.h"
#include "base/crypto.h"
#include "base/env.h"
#include "identity/chain_verify.h"
#include "identity/node_certificate.h"
#include "identity/node_identity.h"
#include "node/node_config.h"
#include "node/node_dir.h"

namespace tiersync::node {

// The scheme of a key made on first use when none is asked for.
inline constexpr std::string_view kDefaultNodeKeyScheme = "ed25519";
// A lock held by another process is waited for this long before kUnavailable.
inline constexpr int kIdentityLockWaitMs = 5000;

struct IdentityPaths {
  explicit IdentityPaths(const NodePaths& node);
  std::string dir, key, chain, invitations, audit, lock;
};

// {tier, region, name} of node.toml.
identity::NodeIdentity IdentityOf(const NodeConfig& config);

// The national identity CAs of the node's trusted root. kFailedPrecondition if that root
// carries none ("the national root carries no identity CA (x-tiersync-identity-ca)");
// kCorruption if one is not a national identity CA certificate.
Result<std::vector<identity::NodeCertificate>> TrustedIdentityCas(Env* env, const NodePaths& paths);

// Holds the node's identity lock (the LOCK file: across processes and within one).
class IdentityLock {
 public:
  // Waits up to kIdentityLockWaitMs for it (kUnavailable then): for commands.
  static Result<std::unique_ptr<IdentityLock>> Take(Env* env, const IdentityPaths& paths);
  // Takes it or fails at once with kUnavailable "...: busy ...": for the running node's
  // workers, which never wait for it.
  static Result<std::unique_ptr<IdentityLock>> TryTake(Env* env, const IdentityPaths& paths);
  ~IdentityLock();

 private:
  explicit IdentityLock(std::unique_ptr<FileLock> lock) : lock_(std::move(lock)) {}
  std::unique_ptr<FileLock> lock_;
};

// node.key if it exists (kNotFound otherwise; kCorruption if it is not a PKCS#8 key of a node
// key scheme).
Result<PrivateKey> LoadNodeKey(Env* env, const IdentityPaths& paths);
// node.key, made with `scheme` ("" for kDefaultNodeKeyScheme) if there is none; *created says
// which. A key that exists is kept whatever `scheme` says (kInvalidArgument if `scheme` is given
// and differs: the operator asked for something else). Call under IdentityLock.
Result<PrivateKey> LoadOrCreateNodeKey(Env* env, const IdentityPaths& paths,
                                       std::string_view scheme, bool* created);

// The node's own certificate and key, verified now under the trusted CAs.
struct OwnIdentity {
  PrivateKey key;
  std::vector<identity::NodeCertificate> chain;  // node.crt: leaf first, no national CA
  identity::VerifiedChain verified;
};

// Checks a chain (PEM, leaf first; a national CA in it is ignored) for this node: it verifies
// under the trusted CAs at `now`, its leaf names IdentityOf(config) and holds `key`. Returns the
// verified chain. Errors name what is wrong: kVerificationFailed from VerifyNodeChain;
// kInvalidArgument "the certificate is for school 'x' (330106), this node is ..." or "...
// certifies another key than this node's (identity/node.key)".
Result<identity::VerifiedChain> CheckOwnChain(Env* env, const NodePaths& paths,
                                              const NodeConfig& config, const PrivateKey& key,
                                              std::string_view chain_pem, int64_t now);

// CheckOwnChain, then node.crt replaced (atomically) by the verified chain without its national
// CA. Call under IdentityLock.
Result<identity::VerifiedChain> InstallOwnChain(Env* env, const NodePaths& paths,
                                                const NodeConfig& config, const PrivateKey& key,
                                                std::string_view chain_pem, int64_t now);

// The node's key and node.crt, checked as CheckOwnChain does. kFailedPrecondition "this node is
// not enrolled (no identity/node.crt)" when there is none; CheckOwnChain's errors otherwise
// (an expired certificate among them).
Result<OwnIdentity> LoadOwnIdentity(Env* env, const NodePaths& paths, const NodeConfig& config,
                                    int64_t now);

// What `node status` and /v1/status show: {"enrolled": false} or {"enrolled": true, "tier",
// "region", "name", "issuer", "expires_at" (TUF time), "serial", "fingerprint", "key"}, with
// "error" when node.crt is there but does not verify now.
nlohmann::json IdentityStatusJson(Env* env, const NodePaths& paths, const NodeConfig& config,
                                  int64_t now);

// Opens <dir>/identity/audit.log (created mode 0600 if missing), appends `entry`, closes it.
// Call under IdentityLock.
Status AppendAudit(Env* env, const IdentityPaths& paths, access::AuditEntry entry);

}  // namespace tiersync::node

#endif  // TIERSYNC_NODE_OWN_IDENTITY_H_
