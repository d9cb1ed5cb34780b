// Release directories: how a node makes a verified release servable, atomically (overview.md
// section 4, step 5; node_dir.h describes the layout):
//   releases/<name>.tmp/ gets metadata/ (every trusted file, byte for byte as verified, under
//   its consistent-snapshot name; of the root, the chain from the version the node was set
//   up with to the trusted one), the given targets, files.tsv (every file of the plan: what
//   garbage collection keeps for this release) and release.json; it is fsynced, renamed
//   to releases/<name>/ and the releases directory fsynced; only then does CURRENT (replaced
//   atomically) name it. Children and users see the old release or the new one, never a mix.
// Everything goes through the Env (the simulator runs this on a MemEnv with faults).
#ifndef TIERSYNC_NODE_RELEASE_DIR_H_
#define TIERSYNC_NODE_RELEASE_DIR_H_

#include <cstddef>
#include <map>
#include <string>
#include <vector>

#include "base/env.h"
#include "node/node_dir.h"
#include "protocol/tuf_trusted_set.h"
#include "replication/sync_plan.h"

namespace tiersync::node {

// A target kept whole in a release directory, at targets/<path> (consistent-snapshot name).
struct ReleaseTarget {
  std::string path;  // e.g. "catalog/<sha256>.manifest.txt"
  std::string bytes;
};

// Writes releases/<name>/ from the trusted metadata in paths.trusted (hard links, copies where
// links are refused), `targets` and `files` (the release's plan, deferred files included),
// replacing a directory of that name. `side_files` (name -> bytes) are written beside
// release.json (e.g. node/takedown.h's takedowns.json). Durable on OK.
Status WriteReleaseDir(Env* env, const NodePaths& paths, const protocol::tuf::TrustedSet& trusted,
                       const std::string& name, const ServedRelease& served,
                       const std::vector<ReleaseTarget>& targets,
                       const std::vector<replication::PlannedFile>& files,
                       const std::map<std::string, std::string>& side_files = {});

// The largest metadata file a node reads back from a release directory's metadata/.
inline constexpr size_t kMaxReleaseMetadataBytes = 64 << 20;

// releases/<name>/files.tsv: "tiersync-files 1", then a line per file:
// "<chunk-index id hex>\t<sha256 hex>\t<length>\t<target path>".
inline constexpr char kReleaseFilesName[] = "files.tsv";
std::string EncodeReleaseFiles(const std::vector<replication::PlannedFile>& files);
// kCorruption naming the line if the text is not such a list; kNewerFormat for a later one.
Result<std::vector<replication::PlannedFile>> DecodeReleaseFiles(std::string_view text);
// The files of releases/<name>/; kNotFound if the directory has no list (an older tiersync
// wrote it).
Result<std::vector<replication::PlannedFile>> ReadReleaseFiles(Env* env, const NodePaths& paths,
                                                               const std::string& name);

// Makes releases/<name>/ the served release (CURRENT, atomically and durably), then removes
// every release directory but it, `keep` (the previous one, still in use by readers) and those
// of the `pinned` releases ("r<N>", as release.json names them).
Status SwitchCurrent(Env* env, const NodePaths& paths, const std::string& name,
                     const std::string& keep, const std::vector<std::string>& pinned = {});

// The release directories kept now (every one in releases/ but those being written).
Result<std::vector<std::string>> KeptReleaseDirs(Env* env, const NodePaths& paths);

}  // namespace tiersync::node

#endif  // TIERSYNC_NODE_RELEASE_DIR_H_
