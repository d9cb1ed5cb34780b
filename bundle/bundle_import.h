// Import: a node with no network takes a release from an offline bundle
// (bundle/bundle_layout.h) and switches to it — by running its own sync cycle
// (node/sync_runner.h, node/node_sync.h) with the bundle as its one and only source
// (bundle/bundle_fetcher.h). Nothing is checked differently from a sync from a parent:
//   - metadata: the TUF client workflow from the node's trusted state (its pinned root and
//     whatever it verified since): signatures under the national root, versions that never go
//     back, expiry against this machine's clock (an expired bundle is refused);
//   - catalog: the recorded pack indexed into quarantine, checked against the signed manifest
//     digest, only then promoted (catalogs/git_fetch.h);
//   - files: the plan for the node's own subscription rolled up with its children's (as
//     `node sync`), every chunk index and chunk checked against the signed ids;
//   - switch: CURRENT moves only when every wanted file is stored and verified.
// A refused bundle leaves the release served before as it was (what verified chunks it
// stored stay, as after any failed sync). state.json records the import as the last sync, so
// `node status` shows it; the source is named "bundle (file://<dir>)".
//
// The node must not be running (its lock: kUnavailable, "stop the node first"); the next
// `node serve` serves the imported release.
#ifndef TIERSYNC_BUNDLE_BUNDLE_IMPORT_H_
#define TIERSYNC_BUNDLE_BUNDLE_IMPORT_H_

#include <cstdint>
#include <string>
#include <vector>

#include "base/env.h"
#include "bundle/bundle_layout.h"
#include "node/node_sync.h"

namespace tiersync::bundle {

struct ImportOptions {
  std::string node_dir;    // the node's directory
  std::string bundle_dir;  // absolute path of the bundle
  node::SyncProgress progress;
};

struct ImportResult {
  BundleManifest manifest;    // what the bundle says it holds (not trusted)
  node::SyncOutcome outcome;  // what the sync did (switched, current, bytes, rejections)
  // After a switch, the garbage collection `node sync` runs too ([retention] collect): its
  // error, if any (the import stands).
  Status gc = Status::Ok();
};

// Imports the bundle. kFailedPrecondition if bundle_dir is no complete bundle; kUnavailable if
// the node is running; the sync's error otherwise: kVerificationFailed for metadata, catalog
// or bytes that do not verify (the bundle's answers are listed as rejections), with context
// naming the bundle. When the bundle holds an older release than the node trusts, nothing
// changes (kVerificationFailed: a rollback).
Result<ImportResult> ImportBundle(Env* env, const ImportOptions& options);

// What a failed import reports, from the sync's error and what the bundle (the one source)
// did: a failure of this machine (sync_error.local(): its disk, its store) as it is; any answer
// of the bundle that failed verification (`rejections`, "<source>: <reason>", oldest first) as
// kVerificationFailed naming the first — a damaged or forged bundle, whatever the sync's own
// code for "no source supplied it"; objects the bundle lacks (`lacked` > 0) as kNotFound with
// what to do (export with this node's subscription); otherwise `sync_error`. Pure.
Status ImportError(const Status& sync_error, const std::vector<std::string>& rejections,
                   uint64_t lacked);

}  // namespace tiersync::bundle

#endif  // TIERSYNC_BUNDLE_BUNDLE_IMPORT_H_
