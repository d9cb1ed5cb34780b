#include "replication/tuf_updater.h"

#include <algorithm>
#include <atomic>
#include <map>
#include <set>
#include <thread>
#include <vector>

#include "protocol/tuf_verify.h"

namespace tiersync::replication {
namespace tuf = protocol::tuf;
namespace {

std::string RootFileName(uint64_t version) { return std::to_string(version) + ".root.json"; }

std::string WithSlash(std::string url) {
  if (url.empty() || url.back() != '/') url.push_back('/');
  return url;
}

}  // namespace

Updater::Updater(Env* env, Fetcher* fetcher, UpdaterOptions options)
    : env_(env), fetcher_(fetcher), options_(std::move(options)) {}

Status Updater::Init(Env* env, const std::string& metadata_dir, ByteSpan root_bytes) {
  if (root_bytes.size() > tuf::kMaxRootBytes) {
    return InvalidArgumentError("trusted root is larger than " +
                                std::to_string(tuf::kMaxRootBytes) + " bytes");
  }
  TS_RETURN_IF_ERROR(CreateDirs(env, metadata_dir));
  return WriteFileAtomically(env, JoinPath(metadata_dir, "root.json"), root_bytes);
}

Result<uint64_t> Updater::FirstKeptRoot(Env* env, const std::string& metadata_dir,
                                        uint64_t current) {
  if (!env->FileExists(JoinPath(metadata_dir, RootFileName(current)))) {
    return NotFoundError("root version " + std::to_string(current) + " is not kept in " +
                         metadata_dir);
  }
  uint64_t first = current;
  while (first > 1 && env->FileExists(JoinPath(metadata_dir, RootFileName(first - 1)))) --first;
  return first;
}

Status Updater::KeepStartingRoot(ByteSpan root_bytes) {
  const std::string path = JoinPath(options_.metadata_dir, RootFileName(trusted_->root().version));
  if (env_->FileExists(path)) return Status::Ok();
  return WriteFileAtomically(env_, path, root_bytes);
}

Result<std::vector<uint8_t>> Updater::ReadLocal(const std::string& role, size_t max_bytes) {
  return ReadFileToBytes(
      env_, JoinPath(options_.metadata_dir, tuf::QuoteForFileName(role) + ".json"), max_bytes);
}

Status Updater::Persist(const std::string& role, ByteSpan bytes) {
  const std::string path = JoinPath(options_.metadata_dir, tuf::QuoteForFileName(role) + ".json");
  if (!defer_persist_) return WriteFileAtomically(env_, path, bytes);
  deferred_.emplace_back(path, std::vector<uint8_t>(bytes.begin(), bytes.end()));
  return deferred_.size() >= kDeferredGroup ? WriteDeferred() : Status::Ok();
}

// Writes every deferred file, then flushes each (the first flush commits the file system's
// journal for the whole group, the others find little left to do), then renames each into
// place. The directory is flushed by FlushDeferred.
Status Updater::WriteDeferred() {
  auto group = std::move(deferred_);
  deferred_.clear();
  std::vector<std::unique_ptr<WritableFile>> files;
  for (const auto& [path, bytes] : group) {
    TS_ASSIGN_OR_RETURN(auto file, env_->NewWritableFile(path + ".tmp"));
    TS_RETURN_IF_ERROR(file->Append(bytes));
    files.push_back(std::move(file));
  }
  for (auto& file : files) {
    TS_RETURN_IF_ERROR(file->Sync());
    TS_RETURN_IF_ERROR(file->Close());
  }
  for (const auto& [path, bytes] : group) {
    TS_RETURN_IF_ERROR(env_->RenameFile(path + ".tmp", path));
  }
  renamed_deferred_ = renamed_deferred_ || !group.empty();
  return Status::Ok();
}

Status Updater::FlushDeferred() {
  defer_persist_ = false;
  Status s = WriteDeferred();
  if (s.ok() && renamed_deferred_) s = env_->SyncDir(options_.metadata_dir);
  renamed_deferred_ = false;
  return s;
}

void Updater::Prefetch(const tuf::Delegations& delegations, const std::string& delegator,
                       size_t first, size_t max_wants) {
  struct Want {
    std::string role, url;
    size_t max_bytes;
  };
  std::vector<Want> wants;
  for (size_t i = first; i < delegations.roles.size() && wants.size() < max_wants; ++i) {
    const tuf::DelegatedRole& d = delegations.roles[i];
    if (trusted_->targets(d.name, delegator) != nullptr || prefetched_.count(d.name)) continue;
    // A local copy that is still the trusted one is used as LoadTargets would.
    if (auto local = ReadLocal(d.name, tuf::kMaxTargetsBytes); local.ok()) {
      if (trusted_->UpdateDelegatedTargets(*local, d.name, delegator).ok()) continue;
    }
    auto meta = trusted_->snapshot()->meta.find(d.name + ".json");
    if (meta == trusted_->snapshot()->meta.end()) continue;  // LoadTargets says why
    std::optional<uint64_t> version;
    if (trusted_->root().consistent_snapshot) version = meta->second.version;
    wants.push_back({d.name, MetadataUrl(d.name, version),
                     meta->second.length.value_or(tuf::kMaxTargetsBytes)});
  }
  if (wants.empty()) return;
  std::vector<std::optional<Result<std::vector<uint8_t>>>> got(wants.size());
  std::atomic<size_t> next{0};
  auto work = [&] {
    for (size_t i = next++; i < wants.size(); i = next++) {
      got[i].emplace(fetcher_->Fetch(wants[i].url, wants[i].max_bytes));
    }
  };
  std::vector<std::thread> threads;
  const int extra = std::min<int>(options_.parallel_fetches, static_cast<int>(wants.size())) - 1;
  for (int t = 0; t < extra; ++t) threads.emplace_back(work);
  work();
  for (auto& t : threads) t.join();
  for (size_t i = 0; i < wants.size(); ++i) prefetched_.emplace(wants[i].role, std::move(*got[i]));
}

std::string Updater::MetadataUrl(const std::string& role, std::optional<uint64_t> version) const {
  std::string name = tuf::QuoteForFileName(role) + ".json";
  if (version) name = std::to_string(*version) + "." + name;
  return WithSlash(options_.metadata_url) + name;
}

Status Updater::Refresh() {
  const int64_t now = static_cast<int64_t>(env_->NowMicros() / 1000000);
  auto root = ReadLocal("root", tuf::kMaxRootBytes);
  if (!root.ok()) {
    return root.status().WithContext("no trusted root in " + options_.metadata_dir +
                                     " (initialise the client first)");
  }
  TS_ASSIGN_OR_RETURN(auto trusted, tuf::TrustedSet::Create(*root, now));
  trusted_.emplace(std::move(trusted));
  if (options_.keep_root_history) TS_RETURN_IF_ERROR(KeepStartingRoot(*root));
  TS_RETURN_IF_ERROR(LoadRoot());
  TS_RETURN_IF_ERROR(LoadTimestamp());
  TS_RETURN_IF_ERROR(LoadSnapshot());
  return LoadTargets(std::string(tuf::kTargetsRole), std::string(tuf::kRootRole)).status();
}

// Spec 5.3: walk root versions N+1, N+2, ... until the repository has no next one.
Status Updater::LoadRoot() {
  const uint64_t first = trusted_->root().version + 1;
  for (uint64_t v = first; v < first + tuf::kMaxRootRotations; ++v) {
    auto bytes = fetcher_->Fetch(MetadataUrl("root", v), tuf::kMaxRootBytes);
    if (bytes.status().code() == StatusCode::kNotFound) return Status::Ok();
    if (!bytes.ok()) return bytes.status().WithContext("fetching root v" + std::to_string(v));
    TS_RETURN_IF_ERROR(trusted_->UpdateRoot(*bytes));
    if (options_.keep_root_history) {
      TS_RETURN_IF_ERROR(
          WriteFileAtomically(env_, JoinPath(options_.metadata_dir, RootFileName(v)), *bytes));
    }
    TS_RETURN_IF_ERROR(Persist("root", *bytes));
  }
  return Status::Ok();
}

// Spec 5.4: the local timestamp (if it still verifies) guards against rollback of the new one.
Status Updater::LoadTimestamp() {
  if (auto local = ReadLocal("timestamp", tuf::kMaxTimestampBytes); local.ok()) {
    trusted_->UpdateTimestamp(*local).IgnoreError();  // invalid or expired local copies are fine
  }
  auto bytes = fetcher_->Fetch(MetadataUrl("timestamp", std::nullopt), tuf::kMaxTimestampBytes);
  if (!bytes.ok()) return bytes.status().WithContext("fetching timestamp");
  TS_ASSIGN_OR_RETURN(auto outcome, trusted_->UpdateTimestamp(*bytes));
  if (outcome == tuf::TrustedSet::TimestampOutcome::kUnchanged) return Status::Ok();
  return Persist("timestamp", *bytes);
}

// Spec 5.5: a local snapshot that is still the one the timestamp names is used as it is.
Status Updater::LoadSnapshot() {
  if (auto local = ReadLocal("snapshot", tuf::kMaxSnapshotBytes); local.ok()) {
    if (trusted_->UpdateSnapshot(*local, /*from_local_cache=*/true).ok()) return Status::Ok();
  }
  const tuf::MetaFile& meta = trusted_->timestamp()->snapshot_meta;
  std::optional<uint64_t> version;
  if (trusted_->root().consistent_snapshot) version = meta.version;
  auto bytes = fetcher_->Fetch(MetadataUrl("snapshot", version),
                               meta.length.value_or(tuf::kMaxSnapshotBytes));
  if (!bytes.ok()) return bytes.status().WithContext("fetching snapshot");
  TS_RETURN_IF_ERROR(trusted_->UpdateSnapshot(*bytes, /*from_local_cache=*/false));
  return Persist("snapshot", *bytes);
}

// Spec 5.6 and 5.7.x: a targets role, from the local copy if it is still the trusted one.
Result<const tuf::Targets*> Updater::LoadTargets(const std::string& role,
                                                 const std::string& delegator) {
  if (const tuf::Targets* t = trusted_->targets(role, delegator)) return t;
  if (auto local = ReadLocal(role, tuf::kMaxTargetsBytes); local.ok()) {
    if (trusted_->UpdateDelegatedTargets(*local, role, delegator).ok()) {
      return trusted_->targets(role, delegator);
    }
  }
  auto meta = trusted_->snapshot()->meta.find(role + ".json");
  if (meta == trusted_->snapshot()->meta.end()) {
    return VerificationError("snapshot does not list " + role + ".json");
  }
  std::optional<uint64_t> version;
  if (trusted_->root().consistent_snapshot) version = meta->second.version;
  Result<std::vector<uint8_t>> bytes = UnavailableError("not fetched");
  if (auto pre = prefetched_.find(role); pre != prefetched_.end()) {
    bytes = std::move(pre->second);
    prefetched_.erase(pre);
  } else {
    bytes = fetcher_->Fetch(MetadataUrl(role, version),
                            meta->second.length.value_or(tuf::kMaxTargetsBytes));
  }
  if (!bytes.ok()) return bytes.status().WithContext("fetching " + role);
  TS_RETURN_IF_ERROR(trusted_->UpdateDelegatedTargets(*bytes, role, delegator));
  TS_RETURN_IF_ERROR(Persist(role, *bytes));
  return trusted_->targets(role, delegator);
}

Result<std::optional<TargetInfo>> Updater::GetTargetInfo(const std::string& path) {
  TS_ASSIGN_OR_RETURN(const tuf::TargetFile* file, FindTarget(path));
  if (file == nullptr) return std::optional<TargetInfo>();
  return std::optional<TargetInfo>(TargetInfo{path, *file});
}

Result<const tuf::TargetFile*> Updater::FindTarget(const std::string& path) {
  if (!trusted_) TS_RETURN_IF_ERROR(Refresh());
  // (role, delegator) pairs still to visit; the back is visited next.
  std::vector<std::pair<std::string, std::string>> to_visit = {
      {std::string(tuf::kTargetsRole), std::string(tuf::kRootRole)}};
  std::set<std::pair<std::string, std::string>> visited;
  int budget = tuf::kMaxDelegationsVisited;
  while (budget > 0 && !to_visit.empty()) {
    auto [role, delegator] = to_visit.back();
    to_visit.pop_back();
    if (visited.count({role, delegator})) continue;
    TS_ASSIGN_OR_RETURN(const tuf::Targets* targets, LoadTargets(role, delegator));
    if (auto it = targets->targets.find(path); it != targets->targets.end()) return &it->second;
    visited.insert({role, delegator});
    --budget;
    if (!targets->delegations) continue;
    std::vector<std::pair<std::string, std::string>> children;
    for (const tuf::DelegatedRole& child : targets->delegations->roles) {
      if (!tuf::RoleCoversTarget(child, path)) continue;
      children.emplace_back(child.name, role);
      if (child.terminating) {
        to_visit.clear();  // a terminating delegation ends the search below this point
        break;
      }
    }
    to_visit.insert(to_visit.end(), children.rbegin(), children.rend());
  }
  return nullptr;
}

bool RoleRetraction::Covers(std::string_view path) const {
  const std::string p(path);
  return std::all_of(chain.begin(), chain.end(),
                     [&](const tuf::DelegatedRole& d) { return tuf::RoleCoversTarget(d, p); });
}

Result<std::vector<TargetInfo>> Updater::ListAllTargets() {
  TS_ASSIGN_OR_RETURN(auto all, ListAllTrustedTargets());
  std::vector<TargetInfo> out;
  out.reserve(all.size());
  for (const auto& [path, file] : all) out.push_back(TargetInfo{path, *file});
  return out;
}

Result<std::map<std::string, const tuf::TargetFile*>> Updater::ListAllTrustedTargets() {
  if (!trusted_) TS_RETURN_IF_ERROR(Refresh());
  const bool parallel = options_.parallel_fetches > 1;
  defer_persist_ = parallel;
  auto listed = ListAll(parallel);
  prefetched_.clear();
  // What was verified is kept even when the listing failed later (as one by one would).
  Status flushed = FlushDeferred();
  if (!listed.ok()) return listed;
  TS_RETURN_IF_ERROR(flushed);
  return listed;
}

Result<std::map<std::string, const tuf::TargetFile*>> Updater::ListAll(bool prefetch) {
  struct Visit {
    std::string role, delegator;
    std::vector<const tuf::DelegatedRole*> chain;  // delegations on the way here
    const tuf::Delegations* siblings = nullptr;    // the delegator's, this role at `index`
    size_t index = 0;
  };
  std::vector<Visit> to_visit = {{std::string(tuf::kTargetsRole), std::string(tuf::kRootRole), {}}};
  // Roles fetched ahead of their turn, a window at a time: what waits to be verified is
  // bounded (a hub's 256 hash bins are not all held at once).
  const size_t window = 8 * static_cast<size_t>(std::max(1, options_.parallel_fetches));
  std::set<std::pair<std::string, std::string>> visited;
  std::map<std::string, const tuf::TargetFile*> found;  // into the trusted metadata
  retractions_.clear();
  bool terminating = false;
  int budget = tuf::kMaxRolesListed;
  while (budget > 0 && !to_visit.empty()) {
    Visit v = std::move(to_visit.back());
    to_visit.pop_back();
    if (!visited.insert({v.role, v.delegator}).second) continue;
    --budget;
    if (prefetch && v.siblings != nullptr && !prefetched_.count(v.role)) {
      Prefetch(*v.siblings, v.delegator, v.index,
               std::min(window, static_cast<size_t>(std::max(budget + 1, 1))));
    }
    TS_ASSIGN_OR_RETURN(const tuf::Targets* targets, LoadTargets(v.role, v.delegator));
    for (const auto& entry : targets->targets) {
      const std::string& path = entry.first;  // (a structured binding: clang 14 cannot capture it)
      bool covered = std::all_of(v.chain.begin(), v.chain.end(),
                                 [&](const auto* d) { return tuf::RoleCoversTarget(*d, path); });
      if (covered) found.emplace(path, &entry.second);  // pre-order: the first role wins
    }
    for (const tuf::Retraction& r : targets->retractions) {
      RoleRetraction rr{v.role, {}, r};
      for (const auto* d : v.chain) rr.chain.push_back(*d);
      retractions_.push_back(std::move(rr));
    }
    if (!targets->delegations) continue;
    const auto& roles = targets->delegations->roles;
    for (size_t i = roles.size(); i-- > 0;) {
      terminating = terminating || roles[i].terminating;
      Visit child{roles[i].name, v.role, v.chain, &*targets->delegations, i};
      child.chain.push_back(&roles[i]);
      to_visit.push_back(std::move(child));
    }
  }
  if (!terminating) return found;
  // A terminating delegation can hide later roles' entries: search for each path.
  std::map<std::string, const tuf::TargetFile*> out;
  for (const auto& [path, file] : found) {
    TS_ASSIGN_OR_RETURN(const tuf::TargetFile* searched, FindTarget(path));
    if (searched != nullptr) out.emplace(path, searched);
  }
  return out;
}

Result<std::string> Updater::DownloadTarget(const TargetInfo& target) {
  if (!trusted_) return FailedPreconditionError("tuf: download before a successful refresh");
  const std::string local = JoinPath(options_.target_dir, tuf::QuoteForFileName(target.path));
  const tuf::TargetFile& f = target.file;
  if (auto cached = ReadFileToBytes(env_, local, f.length); cached.ok()) {
    if (tuf::VerifyLengthAndHashes(*cached, f.length, f.hashes, target.path).ok()) return local;
  }
  std::string remote = target.path;
  if (trusted_->root().consistent_snapshot && !f.hashes.empty()) {
    // The consistent-snapshot name carries one of the listed hashes: sha256 where there is
    // one (what tiersync writes), else sha512, else the first listed.
    auto hash = f.hashes.find("sha256");
    if (hash == f.hashes.end()) hash = f.hashes.find("sha512");
    if (hash == f.hashes.end()) hash = f.hashes.begin();
    size_t slash = remote.rfind('/');
    std::string dir = slash == std::string::npos ? "" : remote.substr(0, slash + 1);
    remote = dir + hash->second + "." + remote.substr(dir.size());
  }
  auto bytes = fetcher_->Fetch(WithSlash(options_.target_base_url) + remote, f.length);
  if (!bytes.ok()) return bytes.status().WithContext("fetching target " + target.path);
  TS_RETURN_IF_ERROR(tuf::VerifyLengthAndHashes(*bytes, f.length, f.hashes, target.path));
  TS_RETURN_IF_ERROR(CreateDirs(env_, options_.target_dir));
  TS_RETURN_IF_ERROR(WriteFileAtomically(env_, local, *bytes));
  return local;
}

}  // namespace tiersync::replication
