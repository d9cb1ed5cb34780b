#include "hub/hub_dir.h"

#include "base/bytes.h"
#include "base/layout_version.h"
#include "catalogs/git_catalog.h"
#include "replication/chunk_store.h"

namespace tiersync::hub {

HubPaths::HubPaths(std::string dir_in)
    : dir(std::move(dir_in)),
      marker(JoinPath(dir, "HUB")),
      lock(JoinPath(dir, "LOCK")),
      catalog(JoinPath(dir, "catalog.git")),
      store(JoinPath(dir, "store")),
      tuf(JoinPath(dir, "tuf")),
      trusted(JoinPath(dir, "trusted")),
      ingest_cache(JoinPath(dir, "ingest-cache.json")) {}

Status InitHub(Env* env, const std::string& dir, const HubInitOptions& options) {
  HubPaths paths(dir);
  if (env->FileExists(paths.marker)) return AlreadyExistsError(dir + " already holds a hub");
  if (options.bin_digits < 1 || options.bin_digits > 3) {
    return InvalidArgumentError("hash bins need 1-3 hex digits");
  }
  if (options.bin_keys.empty()) return InvalidArgumentError("hash bins need a key");
  TS_RETURN_IF_ERROR(CreateDirs(env, dir));
  TS_ASSIGN_OR_RETURN(auto lock, env->LockFile(paths.lock));
  // Each step refuses to run twice, so an interrupted init is finished by removing the
  // directory and starting again; the marker is written last.
  TS_RETURN_IF_ERROR(
      replication::TufRepository::Create(env, paths.tuf, options.root, options.keys, options.now));
  TS_ASSIGN_OR_RETURN(auto repo, replication::TufRepository::Open(env, paths.tuf));
  TS_RETURN_IF_ERROR(repo.DelegateHashBins("targets", options.bin_digits, options.bin_keys));
  TS_RETURN_IF_ERROR(repo.Publish(options.keys, options.now));
  // The hub's own client trusts root version 1, like every node.
  TS_ASSIGN_OR_RETURN(auto root, ReadFileToBytes(env, JoinPath(paths.tuf, "metadata/1.root.json"),
                                                 protocol::tuf::kMaxRootBytes));
  TS_RETURN_IF_ERROR(CreateDirs(env, paths.trusted));
  TS_RETURN_IF_ERROR(WriteFileAtomically(env, JoinPath(paths.trusted, "root.json"), root, false));
  TS_RETURN_IF_ERROR(catalogs::GitCatalog::Init(paths.catalog));
  replication::ChunkStoreOptions store_options;
  store_options.env = env;
  TS_RETURN_IF_ERROR(replication::ChunkStore::Create(paths.store, store_options));
  return WriteFileAtomically(env, paths.marker,
                             AsBytes(LayoutMarker(kHubLayoutKind, kHubLayoutVersion)), false);
}

Status CheckHubLayout(Env* env, const HubPaths& paths) {
  auto version = ReadLayoutVersion(env, paths.marker, kHubLayoutKind);
  if (version.status().code() == StatusCode::kNotFound) {
    return FailedPreconditionError(paths.dir +
                                   " is not a hub (no HUB file; see tiersync hub init)");
  }
  if (!version.ok()) return version.status();
  return CheckLayoutVersion(*version, kHubLayoutVersion, "hub " + paths.dir, paths.marker);
}

Result<std::unique_ptr<FileLock>> LockHub(Env* env, const HubPaths& paths) {
  TS_RETURN_IF_ERROR(CheckHubLayout(env, paths));
  Result<std::unique_ptr<FileLock>> lock = env->LockFile(paths.lock);
  if (!lock.ok()) {
    return UnavailableError("hub " + paths.dir + " is busy (another tiersync command holds " +
                            paths.lock + "): " + lock.status().message());
  }
  return lock;
}

int BinDigits(const replication::TufRepository& repo) {
  Result<const protocol::tuf::Targets*> top = repo.targets("targets");
  if (!top.ok() || !(*top)->delegations) return 0;
  for (const auto& role : (*top)->delegations->roles) {
    if (role.path_hash_prefixes && !role.path_hash_prefixes->empty()) {
      return static_cast<int>(role.path_hash_prefixes->front().size());
    }
  }
  return 0;
}

}  // namespace tiersync::hub
