// Release directories: how a node makes a verified release servable, atomically (overview.md
// section 4, step 5; node_dir.h describes the layout):
//   releases/<name>.tmp/ gets metadata/ (every trusted file, byte for byte as verified, under
//   its consistent-snapshot name; of the root, the chain from the version the node was set
//   up with to the trusted one), the given targets and release.json; it is fsynced, renamed
//   to releases/<name>/ and the releases directory fsynced; only then does CURRENT (replaced
//   atomically) name it. Children and users see the old release or the new one, never a mix.
// Everything goes through the Env (the simulator runs this on a MemEnv with faults).
#ifndef TIERSYNC_NODE_RELEASE_DIR_H_
#define TIERSYNC_NODE_RELEASE_DIR_H_

#include <string>
#include <vector>

#include "base/env.h"
#include "node/node_dir.h"
#include "protocol/tuf_trusted_set.h"

namespace tiersync::node {

// A target kept whole in a release directory, at targets/<path> (consistent-snapshot name).
struct ReleaseTarget {
  std::string path;  // e.g. "catalog/<sha256>.manifest.txt"
  std::string bytes;
};

// Writes releases/<name>/ from the trusted metadata in paths.trusted (hard links, copies where
// links are refused) and `targets`, replacing a directory of that name. Durable on OK.
Status WriteReleaseDir(Env* env, const NodePaths& paths, const protocol::tuf::TrustedSet& trusted,
                       const std::string& name, const ServedRelease& served,
                       const std::vector<ReleaseTarget>& targets);

// Makes releases/<name>/ the served release (CURRENT, atomically and durably), then removes
// every release directory but it and `keep` (the previous one, still in use by readers).
Status SwitchCurrent(Env* env, const NodePaths& paths, const std::string& name,
                     const std::string& keep);

}  // namespace tiersync::node

#endif  // TIERSYNC_NODE_RELEASE_DIR_H_
