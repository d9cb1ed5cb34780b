#include "protocol/tuf_trusted_set.h"

#include <algorithm>
#include <limits>

#include "protocol/tuf_time.h"
#include "protocol/tuf_verify.h"

namespace tiersync::protocol::tuf {
namespace {

Status Expired(std::string_view what, int64_t expires) {
  return VerificationError("expired: " + std::string(what) + " expired at " +
                           FormatTufTime(expires) + " (freeze attack or stale mirror)");
}

Status Rollback(std::string_view what, uint64_t got, uint64_t trusted) {
  return VerificationError("rollback: " + std::string(what) + " version " + std::to_string(got) +
                           " is older than the trusted version " + std::to_string(trusted));
}

template <class T>
Result<std::pair<Envelope, T>> ParseAs(std::span<const uint8_t> bytes, size_t max_bytes,
                                       Result<T> (*parse)(const Json&)) {
  TS_ASSIGN_OR_RETURN(Envelope env, ParseEnvelope(bytes, max_bytes));
  TS_ASSIGN_OR_RETURN(T typed, parse(env.signed_json));
  return std::make_pair(std::move(env), std::move(typed));
}

const Role& RootRole(const Root& r, std::string_view name) { return r.roles.at(std::string(name)); }

}  // namespace

Result<TrustedSet> TrustedSet::Create(std::span<const uint8_t> root_bytes, int64_t reference_time) {
  TS_ASSIGN_OR_RETURN(auto parsed, ParseAs<Root>(root_bytes, kMaxRootBytes, &ParseRoot));
  auto& [env, root] = parsed;
  TS_RETURN_IF_ERROR(VerifyThreshold(env, root.keys, RootRole(root, kRootRole), "root"));
  return TrustedSet(std::move(root), reference_time);
}

Status TrustedSet::UpdateRoot(std::span<const uint8_t> bytes) {
  if (timestamp_) return FailedPreconditionError("tuf: root cannot change after the timestamp");
  TS_ASSIGN_OR_RETURN(auto parsed, ParseAs<Root>(bytes, kMaxRootBytes, &ParseRoot));
  auto& [env, root] = parsed;
  // Signed by the old root's root keys and by the new root's own.
  TS_RETURN_IF_ERROR(VerifyThreshold(env, root_.keys, RootRole(root_, kRootRole),
                                     "root v" + std::to_string(root.version) + " (old keys)"));
  if (root.version != root_.version + 1) {
    return VerificationError("version mismatch: expected root version " +
                             std::to_string(root_.version + 1) + ", got " +
                             std::to_string(root.version));
  }
  TS_RETURN_IF_ERROR(VerifyThreshold(env, root.keys, RootRole(root, kRootRole),
                                     "root v" + std::to_string(root.version) + " (new keys)"));
  root_ = std::move(root);
  return Status::Ok();
}

Result<TrustedSet::TimestampOutcome> TrustedSet::UpdateTimestamp(std::span<const uint8_t> bytes) {
  if (snapshot_) return FailedPreconditionError("tuf: timestamp cannot change after the snapshot");
  if (root_.expires <= reference_time_) return Expired("root", root_.expires);
  TS_ASSIGN_OR_RETURN(auto parsed, ParseAs<Timestamp>(bytes, kMaxTimestampBytes, &ParseTimestamp));
  auto& [env, ts] = parsed;
  TS_RETURN_IF_ERROR(
      VerifyThreshold(env, root_.keys, RootRole(root_, kTimestampRole), "timestamp"));
  if (timestamp_) {
    if (ts.version < timestamp_->version)
      return Rollback("timestamp", ts.version, timestamp_->version);
    if (ts.version == timestamp_->version) return TimestampOutcome::kUnchanged;
    if (ts.snapshot_meta.version < timestamp_->snapshot_meta.version) {
      return Rollback("snapshot (named by timestamp)", ts.snapshot_meta.version,
                      timestamp_->snapshot_meta.version);
    }
  }
  // Kept even if expired: it still protects against rollback. Expiry stops what follows.
  timestamp_ = std::move(ts);
  TS_RETURN_IF_ERROR(CheckFinalTimestamp());
  return TimestampOutcome::kUpdated;
}

Status TrustedSet::CheckFinalTimestamp() const {
  if (timestamp_->expires <= reference_time_) return Expired("timestamp", timestamp_->expires);
  return Status::Ok();
}

Status TrustedSet::UpdateSnapshot(std::span<const uint8_t> bytes, bool from_local_cache) {
  if (!timestamp_) return FailedPreconditionError("tuf: snapshot needs a timestamp first");
  if (!targets_.empty())
    return FailedPreconditionError("tuf: snapshot cannot change after targets");
  TS_RETURN_IF_ERROR(CheckFinalTimestamp());
  const MetaFile& meta = timestamp_->snapshot_meta;
  if (!from_local_cache) {
    TS_RETURN_IF_ERROR(VerifyLengthAndHashes(bytes, meta.length, meta.hashes, "snapshot"));
  }
  TS_ASSIGN_OR_RETURN(auto parsed, ParseAs<Snapshot>(bytes, kMaxSnapshotBytes, &ParseSnapshot));
  auto& [env, snap] = parsed;
  TS_RETURN_IF_ERROR(VerifyThreshold(env, root_.keys, RootRole(root_, kSnapshotRole), "snapshot"));
  if (snapshot_) {
    for (const auto& [name, old] : snapshot_->meta) {
      auto it = snap.meta.find(name);
      if (it == snap.meta.end()) {
        return VerificationError("rollback: new snapshot no longer lists " + name);
      }
      if (it->second.version < old.version) return Rollback(name, it->second.version, old.version);
    }
  }
  snapshot_ = std::move(snap);
  return CheckFinalSnapshot();
}

Status TrustedSet::CheckFinalSnapshot() const {
  if (snapshot_->expires <= reference_time_) return Expired("snapshot", snapshot_->expires);
  if (snapshot_->version != timestamp_->snapshot_meta.version) {
    return VerificationError("version mismatch: timestamp names snapshot version " +
                             std::to_string(timestamp_->snapshot_meta.version) + ", got " +
                             std::to_string(snapshot_->version));
  }
  return Status::Ok();
}

Result<std::pair<const std::map<std::string, Key>*, Role>> TrustedSet::DelegationFor(
    const std::string& role, const std::string& delegator) const {
  if (delegator == kRootRole) {
    if (role != kTargetsRole) return FailedPreconditionError("tuf: root delegates only targets");
    return std::make_pair(&root_.keys, RootRole(root_, kTargetsRole));
  }
  for (const auto& [key, targets] : targets_) {
    if (key.second != delegator || !targets.delegations) continue;
    for (const DelegatedRole& d : targets.delegations->roles) {
      if (d.name == role) return std::make_pair(&targets.delegations->keys, d.role);
    }
    return FailedPreconditionError("tuf: " + delegator + " does not delegate to " + role);
  }
  return FailedPreconditionError("tuf: delegator " + delegator + " is not loaded");
}

Status TrustedSet::UpdateDelegatedTargets(std::span<const uint8_t> bytes, const std::string& role,
                                          const std::string& delegator) {
  if (!snapshot_) return FailedPreconditionError("tuf: targets need a snapshot first");
  TS_RETURN_IF_ERROR(CheckFinalSnapshot());
  TS_ASSIGN_OR_RETURN(auto delegation, DelegationFor(role, delegator));
  auto meta = snapshot_->meta.find(role + ".json");
  if (meta == snapshot_->meta.end()) {
    return VerificationError("snapshot does not list " + role + ".json");
  }
  TS_RETURN_IF_ERROR(
      VerifyLengthAndHashes(bytes, meta->second.length, meta->second.hashes, role + ".json"));
  TS_ASSIGN_OR_RETURN(auto parsed, ParseAs<Targets>(bytes, kMaxTargetsBytes, &ParseTargets));
  auto& [env, targets] = parsed;
  TS_RETURN_IF_ERROR(VerifyThreshold(env, *delegation.first, delegation.second, role));
  if (targets.version != meta->second.version) {
    return VerificationError("version mismatch: snapshot names " + role + " version " +
                             std::to_string(meta->second.version) + ", got " +
                             std::to_string(targets.version));
  }
  if (targets.expires <= reference_time_) return Expired(role, targets.expires);
  targets_[{delegator, role}] = std::move(targets);
  return Status::Ok();
}

const Targets* TrustedSet::targets(const std::string& role, const std::string& delegator) const {
  auto it = targets_.find({delegator, role});
  return it == targets_.end() ? nullptr : &it->second;
}

int64_t TrustedSet::EarliestTargetsExpiry() const {
  int64_t earliest = std::numeric_limits<int64_t>::max();
  for (const auto& [key, t] : targets_) earliest = std::min(earliest, t.expires);
  return earliest;
}

}  // namespace tiersync::protocol::tuf
