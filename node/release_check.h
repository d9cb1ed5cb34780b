// The scrub's check of a node's signed metadata at rest (issue 22; threats.md F5), beside the
// chunk store's (replication/chunk_store.h Verify). A node serves its children the metadata of
// its release directories byte for byte (node/repository_service.h): one rotten byte there and
// every child refuses the release and counts this node as a liar. So the scrub checks, and
// repairs where it can:
//   - each kept release directory's metadata/ as a child would check it: the TUF client
//     workflow from the node's pinned root (<dir>/root.json) over those files alone, every
//     delegated role loaded, at the time the node switched to the release (expiry is the
//     offline policy's business, node/offline_policy.h, not damage), ending at the timestamp
//     version the release names; the pinned version's root in the chain must be the pinned
//     root's bytes;
//   - the TUF client's own trusted root (trusted/root.json and the chain trusted/N.root.json
//     from the pinned version): every step verified, root.json the last of the chain. Damage
//     to the other trusted/ files needs no scrub: the updater verifies its local copies and
//     fetches again what fails.
// A repair fetches the same file name from the sources (GET <source>/v1/metadata/<file>: names
// are versioned, so an honest source has the same bytes) and puts it in place only if the
// check then gets past it — a source's bytes are never trusted as such. trusted/root.json is
// rewritten from the verified chain without asking anyone. The pinned root itself is never
// repaired: it is where trust starts (the operator restores it).
//
// Everything goes through the Env (the sources through the Fetcher). Not thread-safe with a
// sync of the same node: the caller runs repairs on the node's writer thread.
#ifndef TIERSYNC_NODE_RELEASE_CHECK_H_
#define TIERSYNC_NODE_RELEASE_CHECK_H_

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "base/env.h"
#include "base/fetcher.h"
#include "node/node_dir.h"
#include "replication/chunk_store.h"
#include "replication/source_policy.h"

namespace tiersync::node {

// Replacement bytes for files of the checked directory (file name -> bytes): what a repair
// tries before it writes anything.
using MetadataOverrides = std::map<std::string, std::vector<uint8_t>>;

// The first problem of releases/<name>/metadata/, or nullopt when it checks whole. The problem
// is kind "metadata", id "releases/<name>/metadata/<file>" (the file the check stopped at;
// "releases/<name>/release.json" when the release record itself is unreadable).
std::optional<replication::VerifyProblem> CheckReleaseMetadata(
    Env* env, const NodePaths& paths, const std::string& name,
    const MetadataOverrides& overrides = {});

// The first problem of the trusted root chain: kind "metadata", id "trusted/<file>" (or
// "root.json" for the pinned root itself); nullopt when whole.
std::optional<replication::VerifyProblem> CheckTrustedRoot(Env* env, const NodePaths& paths,
                                                           const MetadataOverrides& overrides = {});

// The problems of every kept release directory and of the trusted root chain.
std::vector<replication::VerifyProblem> CheckNodeMetadata(Env* env, const NodePaths& paths);

// Repairs what CheckNodeMetadata finds, as the header says, trying the sources in `sources`'
// order (their health is not changed: a source that holds a newer release is not lying).
// Returns how many files were replaced; the problems that remain are what a new
// CheckNodeMetadata finds.
size_t RepairNodeMetadata(Env* env, const NodePaths& paths, Fetcher* fetcher,
                          const replication::SourcePolicy& sources);

}  // namespace tiersync::node

#endif  // TIERSYNC_NODE_RELEASE_CHECK_H_
