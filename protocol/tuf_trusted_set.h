// TrustedSet: the client's set of trusted TUF metadata and every rule of the specification's
// detailed client workflow (section 5) that does not need I/O: signatures and thresholds,
// versions (rollback), expiry against a fixed reference time (freeze), hashes and lengths
// from the referring metadata (mix-and-match), and the loading order
//   root -> timestamp -> snapshot -> targets -> delegated targets.
// The caller (replication/tuf_updater.h) fetches bytes, persists what was accepted, and decides
// what to load; this class decides what to trust. Modelled on python-tuf's TrustedMetadataSet.
//
// "Intermediate" metadata: a timestamp or snapshot that verifies but is expired (or a snapshot
// whose version does not match the timestamp) is still kept so that it protects against
// rollback, but the error is returned and nothing after it in the loading order can load.
//
// Fast-forward recovery: after a root rotation that replaces the timestamp or snapshot keys,
// the old local timestamp/snapshot no longer verify and are therefore never loaded, so a
// version number inflated by a stolen key stops mattering (spec 5.3.11).
//
// Delegations: a delegated role is stored per (delegator, role) pair and verified with the
// keys of the delegator it was reached through, never reused from another path.
//
// Errors: kVerificationFailed for security events, with messages that start with what
// happened: "rollback: ...", "expired: ...", "<role>: threshold not met ...", "version
// mismatch: ...", "<file>: sha256 mismatch"; kCorruption for malformed metadata;
// kFailedPrecondition when called out of order. Not thread-safe.
#ifndef TIERSYNC_PROTOCOL_TUF_TRUSTED_SET_H_
#define TIERSYNC_PROTOCOL_TUF_TRUSTED_SET_H_

#include <cstdint>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <utility>

#include "base/status.h"
#include "protocol/tuf_metadata.h"

namespace tiersync::protocol::tuf {

class TrustedSet {
 public:
  // Loads `root_bytes` as the trusted root: it must be signed by a threshold of its own root
  // keys (no expiry check here; the final root's expiry is checked before the timestamp).
  // `reference_time` is the fixed update start time (seconds since the epoch).
  static Result<TrustedSet> Create(std::span<const uint8_t> root_bytes, int64_t reference_time);

  // Root version N+1: signed by a threshold of the trusted root's root keys and of its own;
  // version exactly N+1. REQUIRES: no timestamp loaded.
  Status UpdateRoot(std::span<const uint8_t> bytes);

  enum class TimestampOutcome { kUpdated, kUnchanged };
  // Checks the final root is not expired, then verifies `bytes` as timestamp: no rollback of
  // its version or of the snapshot version it names. The same version as the trusted one is
  // kUnchanged (the trusted timestamp stays). An expired new timestamp is kept (intermediate)
  // and "expired" is returned. REQUIRES: no snapshot loaded.
  Result<TimestampOutcome> UpdateTimestamp(std::span<const uint8_t> bytes);

  // Verifies `bytes` as snapshot against the timestamp's meta (length and hashes, unless
  // `from_local_cache`: the local copy was already checked when first accepted), the root's
  // snapshot keys, and rollback rules (no targets file removed, no version decreased). Kept
  // even if expired or not the version the timestamp names (intermediate), but then the
  // error is returned. REQUIRES: a final timestamp, no targets loaded.
  Status UpdateSnapshot(std::span<const uint8_t> bytes, bool from_local_cache);

  // Verifies `bytes` as the targets role `role` delegated by `delegator` ("targets" by
  // "root" for the top-level role): length/hashes and version from the snapshot, a threshold
  // of the delegator's keys for that role, not expired. REQUIRES: a final snapshot and the
  // delegator loaded (on the path being searched).
  Status UpdateDelegatedTargets(std::span<const uint8_t> bytes, const std::string& role,
                                const std::string& delegator);

  const Root& root() const { return root_; }
  const Timestamp* timestamp() const { return timestamp_ ? &*timestamp_ : nullptr; }
  const Snapshot* snapshot() const { return snapshot_ ? &*snapshot_ : nullptr; }
  // The targets role `role` as loaded through `delegator`, or null.
  const Targets* targets(const std::string& role, const std::string& delegator) const;
  // The earliest expiry of the targets roles loaded so far (INT64_MAX before the first).
  int64_t EarliestTargetsExpiry() const;
  int64_t reference_time() const { return reference_time_; }

 private:
  TrustedSet(Root root, int64_t reference_time)
      : root_(std::move(root)), reference_time_(reference_time) {}
  Status CheckFinalTimestamp() const;
  Status CheckFinalSnapshot() const;
  // The keys and role entry `delegator` uses for `role`.
  Result<std::pair<const std::map<std::string, Key>*, Role>> DelegationFor(
      const std::string& role, const std::string& delegator) const;

  Root root_;
  int64_t reference_time_;
  std::optional<Timestamp> timestamp_;
  std::optional<Snapshot> snapshot_;
  std::map<std::pair<std::string, std::string>, Targets> targets_;  // (delegator, role)
};

}  // namespace tiersync::protocol::tuf

#endif  // TIERSYNC_PROTOCOL_TUF_TRUSTED_SET_H_
