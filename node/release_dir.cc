#include "node/release_dir.h"

#include "base/bytes.h"
#include "replication/tuf_updater.h"

namespace tiersync::node {
namespace {

namespace tuf = protocol::tuf;

// Puts the trusted metadata file `from` (durable: the updater wrote it atomically) into a
// release directory as a hard link — no copy, no fsync per file (the directory is synced
// once). The trusted file may be replaced later; the link keeps this release's bytes. Copies
// when the file system refuses links.
Status LinkOrCopy(Env* env, const std::string& from, const std::string& to) {
  if (env->LinkFile(from, to).ok()) return Status::Ok();
  TS_ASSIGN_OR_RETURN(auto bytes, ReadFileToBytes(env, from, 256 << 20));
  return WriteFileAtomically(env, to, bytes);
}

}  // namespace

Status WriteReleaseDir(Env* env, const NodePaths& paths, const tuf::TrustedSet& t,
                       const std::string& name, const ServedRelease& served,
                       const std::vector<ReleaseTarget>& targets) {
  const std::string dir = JoinPath(paths.releases, name);
  const std::string tmp = dir + ".tmp";
  TS_RETURN_IF_ERROR(RemoveTree(env, tmp));
  const std::string meta = JoinPath(tmp, "metadata");
  TS_RETURN_IF_ERROR(CreateDirs(env, meta));
  // The root chain this node holds: from the version it was set up with (any, not only 1) to
  // the trusted one. A child pinned before that version walks the missing steps elsewhere
  // (RepositoryService answers 503 for them, docs/security.md "Root rotation and new nodes").
  TS_ASSIGN_OR_RETURN(uint64_t first,
                      replication::Updater::FirstKeptRoot(env, paths.trusted, t.root().version));
  for (uint64_t v = first; v <= t.root().version; ++v) {
    const std::string file = std::to_string(v) + ".root.json";
    TS_RETURN_IF_ERROR(LinkOrCopy(env, JoinPath(paths.trusted, file), JoinPath(meta, file)));
  }
  TS_RETURN_IF_ERROR(
      LinkOrCopy(env, JoinPath(paths.trusted, "timestamp.json"), JoinPath(meta, "timestamp.json")));
  TS_RETURN_IF_ERROR(LinkOrCopy(
      env, JoinPath(paths.trusted, "snapshot.json"),
      JoinPath(meta, std::to_string(t.timestamp()->snapshot_meta.version) + ".snapshot.json")));
  for (const auto& [file, m] : t.snapshot()->meta) {
    std::string role = tuf::QuoteForFileName(file.substr(0, file.size() - 5));  // no ".json"
    TS_RETURN_IF_ERROR(
        LinkOrCopy(env, JoinPath(paths.trusted, role + ".json"),
                   JoinPath(meta, std::to_string(m.version) + "." + role + ".json")));
  }
  for (const ReleaseTarget& target : targets) {
    const std::string path = JoinPath(JoinPath(tmp, "targets"), target.path);
    TS_RETURN_IF_ERROR(CreateDirs(env, DirName(path)));
    TS_RETURN_IF_ERROR(WriteFileAtomically(env, path, AsBytes(target.bytes)));
    // The directories on the way (targets/catalog/ in targets/, ...), each in its parent.
    for (std::string d = DirName(path); d != tmp; d = DirName(d)) {
      TS_RETURN_IF_ERROR(env->SyncDir(DirName(d)));
    }
  }
  TS_RETURN_IF_ERROR(WriteFileAtomically(env, JoinPath(tmp, "release.json"),
                                         AsBytes(EncodeServedRelease(served))));
  TS_RETURN_IF_ERROR(env->SyncDir(meta));
  TS_RETURN_IF_ERROR(env->SyncDir(tmp));
  TS_RETURN_IF_ERROR(CreateDirs(env, paths.releases));
  TS_RETURN_IF_ERROR(RemoveTree(env, dir));
  TS_RETURN_IF_ERROR(env->RenameFile(tmp, dir));
  return env->SyncDir(paths.releases);
}

Status SwitchCurrent(Env* env, const NodePaths& paths, const std::string& name,
                     const std::string& keep) {
  TS_RETURN_IF_ERROR(WriteFileAtomically(env, paths.current, AsBytes(name + "\n")));
  auto entries = env->GetChildren(paths.releases);
  if (!entries.ok()) return Status::Ok();  // collecting old releases is best effort
  for (const std::string& e : *entries) {
    if (e != name && e != keep) (void)RemoveTree(env, JoinPath(paths.releases, e));
  }
  return Status::Ok();
}

}  // namespace tiersync::node
