// TufRepository: the writing side of TUF, used by the hub for the national repository and by
// regional nodes for their delegated namespaces. It keeps a consistent-snapshot repository on
// disk (through the Env):
//   <dir>/metadata/N.root.json        every root version (clients walk them one by one;
//                                     a relayed copy may start above 1)
//   <dir>/metadata/V.snapshot.json, V.targets.json, V.<role>.json
//   <dir>/metadata/timestamp.json     the only file rewritten in place (atomically)
//   <dir>/targets/<dir>/<sha256>.<name>
// Hashes it writes (snapshot and targets entries in snapshot/timestamp, whole-file targets) are
// SHA-256, plus SM3 (GM/T 0004) when the root lists an sm2-sm3 key (docs/security.md).
// Open() reads the latest published state back from those files, so the repository has no
// other state to lose. Changes are staged in memory and become visible with Publish(), which
// writes new versions of every changed role, then a new snapshot, then the timestamp last (so
// a client never sees a timestamp naming files that are not there yet).
//
// Signing keys are passed in for each operation (base/crypto.h PrivateKey); the repository
// never stores private keys. Not thread-safe.
#ifndef TIERSYNC_REPLICATION_TUF_REPOSITORY_H_
#define TIERSYNC_REPLICATION_TUF_REPOSITORY_H_

#include <map>
#include <set>
#include <string>
#include <vector>

#include "base/crypto.h"
#include "base/env.h"
#include "protocol/tuf_metadata.h"

namespace tiersync::replication {

// The private keys available to an operation. Each role is signed with those of them its
// metadata authorises (by keyid); the others are ignored. Not owned.
using KeyRing = std::vector<const PrivateKey*>;

// How long each role's metadata stays valid after it is signed.
struct ExpiryPolicy {
  int64_t root_seconds = 365 * 86400;
  int64_t targets_seconds = 90 * 86400;
  int64_t snapshot_seconds = 7 * 86400;
  int64_t timestamp_seconds = 1 * 86400;
};

// The hash-bin role that holds target `path` when bins use `digits` hex digits:
// "bin-" + the first `digits` hex digits of SHA-256(path).
std::string HashBinRole(std::string_view path, int digits);

class TufRepository {
 public:
  // Creates a repository in `dir` with root version 1 (keys and thresholds from `root`;
  // version/expiry are set here), empty top-level targets, snapshot and timestamp, all signed.
  // kAlreadyExists if `dir` has metadata.
  static Status Create(Env* env, const std::string& dir, protocol::tuf::Root root,
                       const KeyRing& keys, int64_t now, const ExpiryPolicy& expiry = {});

  // Loads the latest published state of the repository in `dir`.
  static Result<TufRepository> Open(Env* env, const std::string& dir);

  const protocol::tuf::Root& root() const { return root_; }
  // The lowest root version in metadata/: 1 for a repository this class created; a node's
  // release directory (node/release_dir.h) holds the chain from the version the node was set
  // up with. Root versions below it are not here (a client must walk them elsewhere).
  uint64_t first_root_version() const { return first_root_version_; }
  // The latest targets metadata of `role`; kNotFound if the snapshot does not list it.
  Result<const protocol::tuf::Targets*> targets(const std::string& role) const;

  // Staged changes (visible after Publish).
  // Stores `content` as target `path` of `role` (a consistent-snapshot file named by its
  // SHA-256) with optional custom fields; replaces an existing entry.
  Status AddTarget(const std::string& role, const std::string& path, ByteSpan content,
                   std::optional<protocol::Json> custom = std::nullopt);
  // Adds an entry for a target whose bytes are served by other means (e.g. from chunks).
  Status AddTargetEntry(const std::string& role, const std::string& path,
                        protocol::tuf::TargetFile file);
  Status RemoveTarget(const std::string& role, const std::string& path);
  // Withdraws what `retraction` names (protocol/tuf_metadata.h, kRetractionsField) in the
  // metadata of `role`, signed with the role's keys at the next Publish; the retraction stays
  // in every later version of the role until lifted. kAlreadyExists if the role already
  // retracts the same thing, kNotFound for an unknown role, kInvalidArgument for a retraction
  // clients could not parse (protocol::tuf::CheckRetraction).
  Status Retract(const std::string& role, protocol::tuf::Retraction retraction);
  // Removes `role`'s retraction of (kind, value); kNotFound if there is none.
  Status LiftRetraction(const std::string& role, protocol::tuf::Retraction::Kind kind,
                        const std::string& value);
  // Delegates `delegated.name` from `delegator`, adding its public keys. A new role starts
  // with empty targets (published with the next Publish, signed by its own keys). A delegated
  // (regional) role may only delegate path patterns inside its own (kInvalidArgument).
  Status Delegate(const std::string& delegator, protocol::tuf::DelegatedRole delegated,
                  const std::vector<protocol::tuf::Key>& keys);
  // Hash-bin delegation for large target sets: delegates from `delegator` to 16^digits roles
  // named HashBinRole(prefix), each trusted for the target paths whose SHA-256 (hex) starts
  // with its prefix, all signed by `keys`. REQUIRES: 1 <= digits <= 3.
  Status DelegateHashBins(const std::string& delegator, int digits,
                          const std::vector<protocol::tuf::Key>& keys, uint32_t threshold = 1);

  // Replaces root's keys and roles (version and expiry are set by Publish). The next Publish
  // signs root N+1 with every given key that is in the old or the new root role, and
  // re-signs top-level targets if its keys or threshold changed.
  void SetRoot(protocol::tuf::Root root);

  // Signs and writes everything changed, then a new snapshot and timestamp. Fails with
  // kFailedPrecondition if a needed key is missing (nothing is written then).
  Status Publish(const KeyRing& keys, int64_t now, const ExpiryPolicy& expiry = {});

  // Keeps the repository alive when nothing changes: re-signs every targets role (top-level,
  // hash bins, delegations) that `keys` can sign and that expires within half its period, and
  // then publishes a new snapshot and timestamp — also when only those are due. Roles whose
  // keys are not given are left to their owners; root is never renewed here (that is a key
  // ceremony: SetRoot + Publish). Returns whether it published. The hub runs it before every
  // publish and from cron (`tiersync repo renew`).
  Result<bool> RenewExpiring(const KeyRing& keys, int64_t now, const ExpiryPolicy& expiry = {});

  // Writes a new timestamp naming the current snapshot (the cheap cron job).
  Status RefreshTimestamp(const KeyRing& keys, int64_t now, const ExpiryPolicy& expiry = {});

 private:
  TufRepository(Env* env, std::string dir) : env_(env), dir_(std::move(dir)) {}
  std::string MetaPath(const std::string& name) const;
  Result<std::vector<protocol::tuf::Signature>> Sign(const protocol::Json& signed_json,
                                                     const std::vector<const PrivateKey*>& keys,
                                                     const std::set<std::string>& allowed,
                                                     uint32_t threshold,
                                                     const std::string& role) const;
  // The keys and role entry that authorise `role`.
  Result<std::pair<std::map<std::string, protocol::tuf::Key>, protocol::tuf::Role>> Authority(
      const std::string& role) const;
  // Whether `keys` hold enough of `role`'s keys to sign it.
  bool CanSign(const std::string& role, const KeyRing& keys) const;
  Status CheckWithinNamespace(const std::string& delegator,
                              const protocol::tuf::DelegatedRole& child) const;
  Status WriteRoot(const KeyRing& keys, int64_t now, const ExpiryPolicy& expiry);
  Status WriteTimestamp(const KeyRing& keys, int64_t now, const ExpiryPolicy& expiry);
  Status Load();

  Env* env_;
  std::string dir_;
  protocol::tuf::Root root_;
  protocol::tuf::Root published_root_;  // the root clients have (signs the next one)
  uint64_t first_root_version_ = 1;
  bool root_dirty_ = false;
  protocol::tuf::Snapshot snapshot_;
  protocol::tuf::Timestamp timestamp_;
  std::map<std::string, protocol::tuf::Targets> targets_;  // by role name
  std::set<std::string> dirty_;                            // targets roles changed
};

}  // namespace tiersync::replication

#endif  // TIERSYNC_REPLICATION_TUF_REPOSITORY_H_
