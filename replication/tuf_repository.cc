#include "replication/tuf_repository.h"

#include <algorithm>

#include "base/sha256.h"
#include "base/sm3.h"
#include "protocol/tuf_time.h"
#include "protocol/tuf_verify.h"

namespace tiersync::replication {
namespace tuf = protocol::tuf;
namespace {

using protocol::Json;

constexpr size_t kMaxOwnMetadataBytes = 256u << 20;

bool IsTopLevel(const std::string& role) {
  return role == tuf::kRootRole || role == tuf::kTimestampRole || role == tuf::kSnapshotRole ||
         role == tuf::kTargetsRole;
}

// A repository whose root lists an SM2 key (a GM/T federation, or one moving to it) writes SM3
// beside SHA-256 wherever it writes hashes; others write SHA-256 alone, as before (a stock
// TUF client may refuse an algorithm it does not know).
bool WritesSm3(const tuf::Root& root) {
  return std::any_of(root.keys.begin(), root.keys.end(),
                     [](const auto& kv) { return kv.second.scheme == "sm2-sm3"; });
}

std::map<std::string, std::string> HashesOf(ByteSpan bytes, bool sm3) {
  std::map<std::string, std::string> hashes = {{"sha256", ToHex(Sha256(bytes))}};
  if (sm3) hashes["sm3"] = ToHex(Sm3(bytes));
  return hashes;
}

tuf::MetaFile MetaFor(uint64_t version, const std::string& bytes, bool sm3) {
  tuf::MetaFile m;
  m.version = version;
  m.length = bytes.size();
  m.hashes = HashesOf(AsBytes(bytes), sm3);
  return m;
}

// "1.root.json" -> 1; 0 if the name is not of that form.
uint64_t RootVersionOf(const std::string& name) {
  const std::string suffix = ".root.json";
  if (name.size() <= suffix.size() ||
      name.compare(name.size() - suffix.size(), suffix.size(), suffix) != 0) {
    return 0;
  }
  uint64_t v = 0;
  for (size_t i = 0; i < name.size() - suffix.size(); ++i) {
    if (name[i] < '0' || name[i] > '9' || v > UINT64_MAX / 10 - 9) return 0;
    v = v * 10 + static_cast<uint64_t>(name[i] - '0');
  }
  return v;
}

template <class T>
Result<T> ReadRole(Env* env, const std::string& path, Result<T> (*parse)(const Json&)) {
  TS_ASSIGN_OR_RETURN(auto bytes, ReadFileToBytes(env, path, kMaxOwnMetadataBytes));
  TS_ASSIGN_OR_RETURN(tuf::Envelope env_, tuf::ParseEnvelope(bytes, kMaxOwnMetadataBytes));
  auto typed = parse(env_.signed_json);
  if (!typed.ok()) return typed.status().WithContext(path);
  return typed;
}

}  // namespace

std::string HashBinRole(std::string_view path, int digits) {
  return "bin-" + ToHex(Sha256(AsBytes(path))).substr(0, static_cast<size_t>(digits));
}

Status TufRepository::DelegateHashBins(const std::string& delegator, int digits,
                                       const std::vector<tuf::Key>& keys, uint32_t threshold) {
  if (digits < 1 || digits > 3) return InvalidArgumentError("hash bins use 1 to 3 hex digits");
  static constexpr char kHex[] = "0123456789abcdef";
  const int bins = 1 << (4 * digits);
  for (int b = 0; b < bins; ++b) {
    std::string prefix;
    for (int d = digits - 1; d >= 0; --d) prefix.push_back(kHex[(b >> (4 * d)) & 15]);
    tuf::DelegatedRole role;
    role.name = "bin-" + prefix;
    role.role.threshold = threshold;
    role.path_hash_prefixes = std::vector<std::string>{prefix};
    TS_RETURN_IF_ERROR(Delegate(delegator, std::move(role), keys));
  }
  return Status::Ok();
}

std::string TufRepository::MetaPath(const std::string& name) const {
  return JoinPath(JoinPath(dir_, "metadata"), name);
}

Status TufRepository::Create(Env* env, const std::string& dir, tuf::Root root, const KeyRing& keys,
                             int64_t now, const ExpiryPolicy& expiry) {
  TufRepository repo(env, dir);
  if (auto names = env->GetChildren(JoinPath(dir, "metadata")); names.ok()) {
    for (const std::string& n : *names) {
      if (RootVersionOf(n) > 0) return AlreadyExistsError(dir + " already holds a TUF repository");
    }
  }
  TS_RETURN_IF_ERROR(CreateDirs(env, JoinPath(dir, "metadata")));
  TS_RETURN_IF_ERROR(CreateDirs(env, JoinPath(dir, "targets")));
  root.version = 0;  // Publish makes it 1
  repo.root_ = std::move(root);
  repo.published_root_ = repo.root_;
  repo.root_dirty_ = true;
  repo.targets_[std::string(tuf::kTargetsRole)].version = 0;
  repo.dirty_.insert(std::string(tuf::kTargetsRole));
  repo.snapshot_.version = 0;
  repo.timestamp_.version = 0;
  return repo.Publish(keys, now, expiry);
}

Result<TufRepository> TufRepository::Open(Env* env, const std::string& dir) {
  TufRepository repo(env, dir);
  TS_RETURN_IF_ERROR(repo.Load());
  return repo;
}

Status TufRepository::Load() {
  auto names = env_->GetChildren(JoinPath(dir_, "metadata"));
  if (!names.ok()) return FailedPreconditionError(dir_ + " is not a TUF repository (no metadata/)");
  uint64_t latest = 0;
  first_root_version_ = 0;
  for (const std::string& n : *names) {
    const uint64_t v = RootVersionOf(n);
    if (v == 0) continue;
    latest = std::max(latest, v);
    first_root_version_ = first_root_version_ == 0 ? v : std::min(first_root_version_, v);
  }
  if (latest == 0) return FailedPreconditionError(dir_ + " has no root metadata");
  TS_ASSIGN_OR_RETURN(
      root_,
      ReadRole<tuf::Root>(env_, MetaPath(std::to_string(latest) + ".root.json"), &tuf::ParseRoot));
  published_root_ = root_;
  TS_ASSIGN_OR_RETURN(
      timestamp_, ReadRole<tuf::Timestamp>(env_, MetaPath("timestamp.json"), &tuf::ParseTimestamp));
  TS_ASSIGN_OR_RETURN(
      snapshot_,
      ReadRole<tuf::Snapshot>(
          env_, MetaPath(std::to_string(timestamp_.snapshot_meta.version) + ".snapshot.json"),
          &tuf::ParseSnapshot));
  for (const auto& [file, meta] : snapshot_.meta) {
    std::string role = file.substr(0, file.size() - 5);  // strip ".json"
    TS_ASSIGN_OR_RETURN(targets_[role],
                        ReadRole<tuf::Targets>(env_,
                                               MetaPath(std::to_string(meta.version) + "." +
                                                        tuf::QuoteForFileName(role) + ".json"),
                                               &tuf::ParseTargets));
  }
  return Status::Ok();
}

Result<const tuf::Targets*> TufRepository::targets(const std::string& role) const {
  auto it = targets_.find(role);
  if (it == targets_.end()) return NotFoundError("no targets role \"" + role + "\"");
  return &it->second;
}

Status TufRepository::AddTarget(const std::string& role, const std::string& path, ByteSpan content,
                                std::optional<Json> custom) {
  TS_RETURN_IF_ERROR(tuf::ValidateTargetPath(path));
  tuf::TargetFile file;
  file.length = content.size();
  file.hashes = HashesOf(content, WritesSm3(root_));
  file.custom = std::move(custom);
  size_t slash = path.rfind('/');
  std::string dir = slash == std::string::npos ? "" : path.substr(0, slash);
  std::string name = path.substr(slash == std::string::npos ? 0 : slash + 1);
  std::string target_dir =
      dir.empty() ? JoinPath(dir_, "targets") : JoinPath(JoinPath(dir_, "targets"), dir);
  TS_RETURN_IF_ERROR(CreateDirs(env_, target_dir));
  TS_RETURN_IF_ERROR(
      WriteFileAtomically(env_, JoinPath(target_dir, file.hashes["sha256"] + "." + name), content));
  return AddTargetEntry(role, path, std::move(file));
}

Status TufRepository::AddTargetEntry(const std::string& role, const std::string& path,
                                     tuf::TargetFile file) {
  TS_RETURN_IF_ERROR(tuf::ValidateTargetPath(path));
  auto it = targets_.find(role);
  if (it == targets_.end()) return NotFoundError("no targets role \"" + role + "\"");
  it->second.targets[path] = std::move(file);
  dirty_.insert(role);
  return Status::Ok();
}

Status TufRepository::RemoveTarget(const std::string& role, const std::string& path) {
  auto it = targets_.find(role);
  if (it == targets_.end()) return NotFoundError("no targets role \"" + role + "\"");
  if (it->second.targets.erase(path) == 0) {
    return NotFoundError("role \"" + role + "\" has no target \"" + path + "\"");
  }
  dirty_.insert(role);
  return Status::Ok();
}

Status TufRepository::Retract(const std::string& role, tuf::Retraction retraction) {
  auto it = targets_.find(role);
  if (it == targets_.end()) return NotFoundError("no targets role \"" + role + "\"");
  TS_RETURN_IF_ERROR(tuf::CheckRetraction(retraction));  // what clients could not parse
  auto& list = it->second.retractions;
  for (const auto& r : list) {
    if (r.kind == retraction.kind && r.value == retraction.value) {
      return AlreadyExistsError("role \"" + role + "\" already retracts " +
                                std::string(tuf::RetractionKindName(r.kind)) + " " + r.value);
    }
  }
  if (list.size() >= tuf::kMaxRetractions) {
    return ResourceExhaustedError("role \"" + role + "\" holds the most retractions a role may");
  }
  list.push_back(std::move(retraction));
  dirty_.insert(role);
  return Status::Ok();
}

Status TufRepository::LiftRetraction(const std::string& role, tuf::Retraction::Kind kind,
                                     const std::string& value) {
  auto it = targets_.find(role);
  if (it == targets_.end()) return NotFoundError("no targets role \"" + role + "\"");
  auto& list = it->second.retractions;
  const size_t before = list.size();
  std::erase_if(list, [&](const auto& r) { return r.kind == kind && r.value == value; });
  if (list.size() == before) {
    return NotFoundError("role \"" + role + "\" retracts no " +
                         std::string(tuf::RetractionKindName(kind)) + " " + value);
  }
  dirty_.insert(role);
  return Status::Ok();
}

Status TufRepository::Delegate(const std::string& delegator, tuf::DelegatedRole delegated,
                               const std::vector<tuf::Key>& keys) {
  auto it = targets_.find(delegator);
  if (it == targets_.end()) return NotFoundError("no targets role \"" + delegator + "\"");
  if (IsTopLevel(delegated.name)) {
    return InvalidArgumentError("cannot delegate to the top-level name " + delegated.name);
  }
  if (delegated.paths.has_value() == delegated.path_hash_prefixes.has_value()) {
    return InvalidArgumentError("a delegation needs exactly one of paths and hash prefixes");
  }
  TS_RETURN_IF_ERROR(CheckWithinNamespace(delegator, delegated));
  tuf::Delegations& d =
      it->second.delegations ? *it->second.delegations : it->second.delegations.emplace();
  delegated.role.keyids.clear();
  for (const tuf::Key& k : keys) {
    std::string id = tuf::KeyId(k);
    d.keys[id] = k;
    delegated.role.keyids.push_back(id);
  }
  if (delegated.role.threshold > delegated.role.keyids.size()) {
    return InvalidArgumentError("threshold is larger than the number of keys");
  }
  auto same = std::find_if(d.roles.begin(), d.roles.end(),
                           [&](const tuf::DelegatedRole& r) { return r.name == delegated.name; });
  if (same != d.roles.end()) {
    *same = delegated;
  } else {
    d.roles.push_back(delegated);
  }
  if (targets_.count(delegated.name) == 0) {
    targets_[delegated.name].version = 0;
    dirty_.insert(delegated.name);
  }
  dirty_.insert(delegator);
  return Status::Ok();
}

void TufRepository::SetRoot(tuf::Root root) {
  // Targets signed under the old keys or threshold would no longer verify: re-sign them.
  if (root.roles[std::string(tuf::kTargetsRole)] != root_.roles[std::string(tuf::kTargetsRole)]) {
    dirty_.insert(std::string(tuf::kTargetsRole));
  }
  root.version = published_root_.version;
  root_ = std::move(root);
  root_dirty_ = true;
}

// A region may hand on only what it was given: every path pattern of the new delegation must
// fall under one of the delegator's own patterns (compared part by part, the child's pattern
// read as a path). Clients enforce this anyway; refusing it here catches operator mistakes.
Status TufRepository::CheckWithinNamespace(const std::string& delegator,
                                           const tuf::DelegatedRole& child) const {
  if (IsTopLevel(delegator) || !child.paths) return Status::Ok();
  const tuf::DelegatedRole* own = nullptr;
  for (const auto& [name, t] : targets_) {
    if (!t.delegations) continue;
    for (const tuf::DelegatedRole& r : t.delegations->roles) {
      if (r.name == delegator) own = &r;
    }
  }
  if (own == nullptr || !own->paths) return Status::Ok();
  for (const std::string& pattern : *child.paths) {
    bool covered = std::any_of(own->paths->begin(), own->paths->end(), [&](const std::string& p) {
      return tuf::PathMatchesPattern(pattern, p);
    });
    if (!covered) {
      return InvalidArgumentError("delegating \"" + pattern + "\" is outside the namespace of " +
                                  delegator);
    }
  }
  return Status::Ok();
}

Result<std::pair<std::map<std::string, tuf::Key>, tuf::Role>> TufRepository::Authority(
    const std::string& role) const {
  if (IsTopLevel(role)) return std::make_pair(root_.keys, root_.roles.at(role));
  for (const auto& [name, t] : targets_) {
    if (!t.delegations) continue;
    for (const tuf::DelegatedRole& r : t.delegations->roles) {
      if (r.name == role) return std::make_pair(t.delegations->keys, r.role);
    }
  }
  return NotFoundError("no role delegates to \"" + role + "\"");
}

Result<std::vector<tuf::Signature>> TufRepository::Sign(const Json& signed_json,
                                                        const std::vector<const PrivateKey*>& keys,
                                                        const std::set<std::string>& allowed,
                                                        uint32_t threshold,
                                                        const std::string& role) const {
  const std::string message = tuf::SigningBytes(signed_json);
  std::vector<tuf::Signature> sigs;
  std::set<std::string> used;
  for (const PrivateKey* key : keys) {
    PublicKey pub = key->Public();
    std::string id = tuf::KeyId(tuf::MakeKey(pub.keytype(), pub.scheme(), pub.public_value()));
    if (!allowed.count(id) || !used.insert(id).second) continue;
    TS_ASSIGN_OR_RETURN(auto sig, key->Sign(AsBytes(message)));
    sigs.push_back({id, ToHex(sig)});
  }
  if (sigs.size() < threshold) {
    return FailedPreconditionError("signing " + role + " needs " + std::to_string(threshold) +
                                   " of its keys; " + std::to_string(sigs.size()) + " given");
  }
  return sigs;
}

Status TufRepository::Publish(const KeyRing& keys, int64_t now, const ExpiryPolicy& expiry) {
  // Sign everything in memory first: a missing key writes nothing.
  std::vector<std::pair<std::string, std::string>> files;  // name, bytes
  tuf::Snapshot snapshot = snapshot_;
  std::map<std::string, tuf::Targets> targets = targets_;
  for (const std::string& role : dirty_) {
    tuf::Targets& t = targets[role];
    t.version += 1;
    t.expires = now + expiry.targets_seconds;
    TS_ASSIGN_OR_RETURN(auto authority, Authority(role));
    std::set<std::string> allowed(authority.second.keyids.begin(), authority.second.keyids.end());
    Json signed_json = tuf::ToJson(t);
    TS_ASSIGN_OR_RETURN(auto sigs,
                        Sign(signed_json, keys, allowed, authority.second.threshold, role));
    std::string bytes = tuf::SerializeEnvelope(signed_json, sigs);
    snapshot.meta[role + ".json"] = MetaFor(t.version, bytes, WritesSm3(root_));
    files.emplace_back(std::to_string(t.version) + "." + tuf::QuoteForFileName(role) + ".json",
                       std::move(bytes));
  }
  snapshot.version += 1;
  snapshot.expires = now + expiry.snapshot_seconds;
  Json snap_json = tuf::ToJson(snapshot);
  const tuf::Role& snap_role = root_.roles.at(std::string(tuf::kSnapshotRole));
  TS_ASSIGN_OR_RETURN(auto snap_sigs,
                      Sign(snap_json, keys, {snap_role.keyids.begin(), snap_role.keyids.end()},
                           snap_role.threshold, "snapshot"));
  std::string snap_bytes = tuf::SerializeEnvelope(snap_json, snap_sigs);
  files.emplace_back(std::to_string(snapshot.version) + ".snapshot.json", snap_bytes);

  if (root_dirty_) TS_RETURN_IF_ERROR(WriteRoot(keys, now, expiry));
  for (const auto& [name, bytes] : files) {
    TS_RETURN_IF_ERROR(WriteFileAtomically(env_, MetaPath(name), AsBytes(bytes)));
  }
  targets_ = std::move(targets);
  snapshot_ = std::move(snapshot);
  dirty_.clear();
  timestamp_.snapshot_meta = MetaFor(snapshot_.version, snap_bytes, WritesSm3(root_));
  return WriteTimestamp(keys, now, expiry);
}

// Root N+1 is signed by a threshold of the old root keys and of the new ones.
Status TufRepository::WriteRoot(const KeyRing& keys, int64_t now, const ExpiryPolicy& expiry) {
  tuf::Root next = root_;
  next.version = published_root_.version + 1;
  next.expires = now + expiry.root_seconds;
  const tuf::Role& new_role = next.roles.at(std::string(tuf::kRootRole));
  std::set<std::string> allowed(new_role.keyids.begin(), new_role.keyids.end());
  uint32_t old_threshold = 0;
  if (published_root_.version > 0) {
    const tuf::Role& old_role = published_root_.roles.at(std::string(tuf::kRootRole));
    allowed.insert(old_role.keyids.begin(), old_role.keyids.end());
    old_threshold = old_role.threshold;
  }
  Json signed_json = tuf::ToJson(next);
  TS_ASSIGN_OR_RETURN(auto sigs, Sign(signed_json, keys, allowed, 0, "root"));
  auto count_in = [&](const tuf::Role& role) {
    uint32_t n = 0;
    for (const auto& s : sigs) n += std::count(role.keyids.begin(), role.keyids.end(), s.keyid);
    return n;
  };
  if (count_in(new_role) < new_role.threshold ||
      (old_threshold > 0 &&
       count_in(published_root_.roles.at(std::string(tuf::kRootRole))) < old_threshold)) {
    return FailedPreconditionError("signing root v" + std::to_string(next.version) +
                                   " needs a threshold of the old and of the new root keys");
  }
  std::string bytes = tuf::SerializeEnvelope(signed_json, sigs);
  TS_RETURN_IF_ERROR(WriteFileAtomically(
      env_, MetaPath(std::to_string(next.version) + ".root.json"), AsBytes(bytes)));
  root_ = next;
  published_root_ = next;
  root_dirty_ = false;
  return Status::Ok();
}

Status TufRepository::WriteTimestamp(const KeyRing& keys, int64_t now, const ExpiryPolicy& expiry) {
  tuf::Timestamp ts = timestamp_;
  ts.version += 1;
  ts.expires = now + expiry.timestamp_seconds;
  const tuf::Role& role = root_.roles.at(std::string(tuf::kTimestampRole));
  Json signed_json = tuf::ToJson(ts);
  TS_ASSIGN_OR_RETURN(auto sigs, Sign(signed_json, keys, {role.keyids.begin(), role.keyids.end()},
                                      role.threshold, "timestamp"));
  TS_RETURN_IF_ERROR(WriteFileAtomically(env_, MetaPath("timestamp.json"),
                                         AsBytes(tuf::SerializeEnvelope(signed_json, sigs))));
  timestamp_ = std::move(ts);
  return Status::Ok();
}

bool TufRepository::CanSign(const std::string& role, const KeyRing& keys) const {
  auto authority = Authority(role);
  if (!authority.ok()) return false;
  const std::vector<std::string>& ids = authority->second.keyids;
  std::set<std::string> have;
  for (const PrivateKey* key : keys) {
    PublicKey pub = key->Public();
    std::string id = tuf::KeyId(tuf::MakeKey(pub.keytype(), pub.scheme(), pub.public_value()));
    if (std::find(ids.begin(), ids.end(), id) != ids.end()) have.insert(id);
  }
  return have.size() >= authority->second.threshold;
}

Result<bool> TufRepository::RenewExpiring(const KeyRing& keys, int64_t now,
                                          const ExpiryPolicy& expiry) {
  bool due = snapshot_.expires < now + expiry.snapshot_seconds / 2 ||
             timestamp_.expires < now + expiry.timestamp_seconds / 2;
  std::set<std::string> renew;
  for (const auto& [role, t] : targets_) {
    if (t.expires < now + expiry.targets_seconds / 2 && CanSign(role, keys)) renew.insert(role);
  }
  if (!due && renew.empty()) return false;
  dirty_.insert(renew.begin(), renew.end());
  TS_RETURN_IF_ERROR(Publish(keys, now, expiry));
  return true;
}

Status TufRepository::RefreshTimestamp(const KeyRing& keys, int64_t now,
                                       const ExpiryPolicy& expiry) {
  return WriteTimestamp(keys, now, expiry);
}

}  // namespace tiersync::replication
