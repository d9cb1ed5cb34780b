// A node's directory (docs/operators/node.md):
//
//   <dir>/NODE            layout marker: "tiersync-node 2" (versions: node/layout_migration.h)
//   <dir>/node.toml       configuration (node/node_config.h)
//   <dir>/root.json       the pinned national root (trust starts here)
//   <dir>/LOCK            held by the one process that may change the node (serve or sync)
//   <dir>/RUNNING         while `node serve` runs; left behind by a crash, it makes the next
//                         start check the store first (node/scrubber.h)
//   <dir>/store/          chunk store: every chunk and chunk index of the wanted files
//   <dir>/catalog.git/    the catalog repository, fetched from upstream (bare)
//   <dir>/trusted/        TUF client state: the newest verified metadata, the root chain
//                         from the pinned version on (N.root.json; any N >= 1)
//   <dir>/downloads/      verified targets kept whole (the catalog manifest)
//   <dir>/releases/<V>-<plan>/  a complete release as served: metadata/ (byte for byte as
//                         signed), targets/ (the manifest) and release.json
//                         ("format": "tiersync-release 1"); V is the
//                         timestamp version, <plan> 8 hex digits of the subscriptions' hash
//   <dir>/CURRENT         the name of the release directory being served; replaced atomically
//                         only after every wanted file of that release is stored and verified
//   <dir>/state.json      what the last syncs did: sources' health, rejections, errors
//   <dir>/scrub.json      the last check of the store: when, what it found, what is still to
//                         repair (node/scrubber.h)
//   <dir>/gc.json         the last garbage collection: what it kept, forgot and compacted
//                         (node/garbage_collector.h)
//   <dir>/children/       the latest report of each child node (its subscription)
//   <dir>/usage/          views and downloads per day (node/usage_counter.h)
//   <dir>/identity/       the node's key, certificate chain, invitations and audit log
//                         (node/own_identity.h)
// docs/formats.md lists every file's version and what older and newer builds do with it.
#ifndef TIERSYNC_NODE_NODE_DIR_H_
#define TIERSYNC_NODE_NODE_DIR_H_

#include <memory>
#include <optional>
#include <string>

#include "base/env.h"
#include "node/node_config.h"

namespace tiersync::node {

// NODE holds "<kNodeLayoutKind> <version>"; this build writes and migrates to
// kNodeLayoutVersion and refuses a newer one.
inline constexpr std::string_view kNodeLayoutKind = "tiersync-node";
inline constexpr int kNodeLayoutVersion = 2;
// release.json's "format" (from layout 2; a file without one is format 1).
inline constexpr std::string_view kServedReleaseFormat = "tiersync-release 1";

struct NodePaths {
  explicit NodePaths(std::string dir_in);
  std::string dir, marker, config, root, lock, running, store, catalog, trusted, downloads,
      releases, current, state, scrub, gc, children, fleet;
};

// Creates a node in `dir` (created if missing; kAlreadyExists if it holds a node): marker,
// configuration, pinned root (also the TUF client's starting point), empty store and catalog.
Status InitNode(Env* env, const std::string& dir, const NodeConfig& config, ByteSpan root_json);

// Reads and parses <dir>/node.toml. kFailedPrecondition if `dir` is not a node; kNewerFormat
// if a newer tiersync wrote its layout. Changes nothing (an older layout is read as it is).
Result<NodeConfig> LoadNodeConfig(Env* env, const NodePaths& paths);

// Takes the node's lock. kUnavailable if another process holds it.
Result<std::unique_ptr<FileLock>> LockNode(Env* env, const NodePaths& paths);

// A node opened to be changed (`node serve`, `node sync`).
struct OpenedNode {
  NodeConfig config;
  std::unique_ptr<FileLock> lock;
};
// The one way into a node that may change it: refuses a layout newer than this build's
// (kNewerFormat, before anything is touched, the lock file included), takes the lock
// (kUnavailable if busy), migrates an older layout to kNodeLayoutVersion (logged on stderr;
// node/layout_migration.h), then reads node.toml.
Result<OpenedNode> OpenNodeForWriting(Env* env, const NodePaths& paths);

// What <dir>/releases/<V>/release.json records about a served release.
struct ServedRelease {
  uint64_t version = 0;  // timestamp version
  std::string release;   // r<N>
  uint64_t files = 0;    // wanted files held here (every chunk present)
  uint64_t bytes = 0;
  int64_t switched_at = 0;  // seconds since the epoch
  // Wanted ordinary files not held yet: they wait for a sync window (node/node_sync.h); users
  // get them through the miss policy meanwhile. 0: the release is complete.
  uint64_t deferred = 0;
};
// With "format": kServedReleaseFormat. Decoding accepts a file without format (layout 1) and
// refuses another format (kNewerFormat).
std::string EncodeServedRelease(const ServedRelease& r);
Result<ServedRelease> DecodeServedRelease(std::string_view json);

// The name of the release directory CURRENT points at; "" before the first sync completed.
// kCorruption if CURRENT holds anything but a release directory name.
Result<std::string> CurrentReleaseDir(Env* env, const NodePaths& paths);

// The release being served (CURRENT); nullopt before the first sync completed.
Result<std::optional<ServedRelease>> ReadCurrent(Env* env, const NodePaths& paths);

}  // namespace tiersync::node

#endif  // TIERSYNC_NODE_NODE_DIR_H_
