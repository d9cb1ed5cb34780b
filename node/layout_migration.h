// The node directory's layout versions and the migrations between them (docs/formats.md,
// base/layout_version.h for the rules every step follows).
//
//   1  tiersync 0.1.0: NODE "tiersync-node 1"; children/*.json and releases/*/release.json
//      without a "format" field (their shape is implied by the layout).
//   2  every JSON file the node keeps names its format: children/*.json carry
//      "format": "tiersync-child-report 1" (kChildReportFileFormat), releases/*/release.json
//      "format": "tiersync-release 1" (kServedReleaseFormat); usage/<day>.json already did
//      ("tiersync-usage 1"). state.json is a status snapshot rewritten after every sync and
//      read field by field; it has no format of its own and is covered by the layout number.
//
// Step 1 -> 2 rewrites each such file that lacks its format (decoded, re-encoded with the
// field: written as <file>.tmp, fsynced, renamed over the old one, its directory fsynced),
// skips those that have it (a rerun after a crash) and leaves a file that does not decode
// as it is (the readers skip it as before). NODE is rewritten with 2 last.
#ifndef TIERSYNC_NODE_LAYOUT_MIGRATION_H_
#define TIERSYNC_NODE_LAYOUT_MIGRATION_H_

#include <functional>
#include <string>

#include "base/env.h"
#include "node/node_dir.h"

namespace tiersync::node {

// OK if this build may open the node's layout (the current one, or an older one it migrates);
// kNewerFormat if a newer tiersync wrote it or its chunk store (nothing is changed);
// kFailedPrecondition if `paths.dir` is not a node; kCorruption if NODE is not a marker.
Status CheckNodeLayout(Env* env, const NodePaths& paths);

// Brings the node's layout to kNodeLayoutVersion (no-op if it is there already); each step
// is logged through `log` (may be empty). REQUIRES: the node's lock is held (LockNode).
Status MigrateNodeLayout(Env* env, const NodePaths& paths,
                         const std::function<void(const std::string&)>& log);

}  // namespace tiersync::node

#endif  // TIERSYNC_NODE_LAYOUT_MIGRATION_H_
