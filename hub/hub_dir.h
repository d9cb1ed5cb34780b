// The hub's directory: everything the ministry's publishing host keeps (docs/operators/hub.md).
//
//   <dir>/HUB                 layout marker: "tiersync-hub 1" (docs/formats.md)
//   <dir>/LOCK                held by the one command that may change the hub
//   <dir>/catalog.git/        the catalog repository (bare; catalogs/git_catalog.h)
//   <dir>/store/              the chunk store with every published file (replication/)
//   <dir>/tuf/                the TUF repository: metadata/ and targets/ (tuf_repository.h)
//   <dir>/trusted/            the hub's own TUF client state, pinned to root version 1: the
//                             hub checks what it serves exactly as a node would
//   <dir>/ingest-cache.json   media already ingested, by path and stat (so unchanged files
//                             are not read again); only an optimisation, safe to delete
//   <dir>/users/              what `hub serve` serves the national platform's own users, in a
//                             node's layout (hub/hub_users.h); written by `hub serve` only
// Private keys are never stored here.
#ifndef TIERSYNC_HUB_HUB_DIR_H_
#define TIERSYNC_HUB_HUB_DIR_H_

#include <memory>
#include <string>
#include <vector>

#include "base/env.h"
#include "catalogs/release.h"
#include "protocol/tuf_metadata.h"
#include "replication/tuf_repository.h"

namespace tiersync::hub {

// HUB holds "<kHubLayoutKind> <version>"; this build refuses a newer one.
inline constexpr std::string_view kHubLayoutKind = "tiersync-hub";
inline constexpr int kHubLayoutVersion = 1;
using catalogs::kCatalogTarget;

struct HubPaths {
  explicit HubPaths(std::string dir_in);
  std::string dir, marker, lock, catalog, store, tuf, trusted, ingest_cache;
};

struct HubInitOptions {
  protocol::tuf::Root root;   // keys and thresholds of the four top-level roles
  replication::KeyRing keys;  // must include keys for root, targets, snapshot, timestamp
  // Hash-bin delegation for the national targets: 16^digits bins (1-3), signed by bin_keys.
  int bin_digits = 2;
  std::vector<protocol::tuf::Key> bin_keys;
  int64_t now = 0;  // seconds since the epoch
};

// Creates a hub in `dir` (created if missing; kAlreadyExists if it holds a hub): empty catalog
// repository, chunk store, TUF repository with root v1 and the hash-bin delegation, published.
Status InitHub(Env* env, const std::string& dir, const HubInitOptions& options);

// OK if this build may open the hub: kFailedPrecondition if `dir` is not a hub, kNewerFormat
// if a newer tiersync made it (nothing is changed). Layout 1 is the only one so far: no
// migration yet (docs/formats.md).
Status CheckHubLayout(Env* env, const HubPaths& paths);

// Takes the hub's lock after CheckHubLayout. kUnavailable if another command holds the lock.
Result<std::unique_ptr<FileLock>> LockHub(Env* env, const HubPaths& paths);

// The hex digits per hash bin of a TUF repository's top-level delegation (0: no bins).
int BinDigits(const replication::TufRepository& repo);

}  // namespace tiersync::hub

#endif  // TIERSYNC_HUB_HUB_DIR_H_
