// Export: an offline bundle (bundle/bundle_layout.h) written from a node's directory — the
// release the node serves now — or from a hub's directory — its latest release — whole or a
// subscription's part of it, for a node that no network reaches (a school's USB disk).
//
// The source:            a node (NODE marker)                a hub (HUB marker)
//   metadata, targets     releases/<CURRENT>/metadata,targets tuf/metadata, tuf/targets
//   checked from          its pinned root.json               tuf/metadata/1.root.json
//   chunks, catalog       store/, catalog.git/               store/, catalog.git/
//
// Steps (ExportBundle):
//   1. roots: every N.root.json the source holds (an importer pinned at any of them walks
//      the chain forward);
//   2. check: the metadata refreshed from the source by the TUF client workflow a sync runs
//      (node/node_sync.h), from the pinned root, each file written into the bundle byte for
//      byte as it verified — an export that would be refused (expired metadata, a broken
//      chain) fails here, not at the school; the catalog release is read from the source's
//      repository and checked against the signed manifest digest;
//   3. catalog: the git advertisement of the node's releases up to this one and the
//      upload-pack answer for its tag with no haves (a pack of the whole release), recorded
//      as the node's git service would send them (catalogs/git_upload_pack.h);
//   4. files: with no subscription, every file of the release the node holds whole (its
//      chunk index and every chunk stored); with one, exactly the files it selects — each of
//      which the node must hold whole (kNotFound otherwise). Each chunk index and each chunk
//      is read from the store with its SHA-256 checked (a damaged copy is never exported);
//      A delta bundle leaves out each chunk the earlier bundle holds (v1/chunks/<sha256>
//      there): an importer that lacks one is told the bundle lacks files (kNotFound);
//   5. tiersync-bundle.json, last: a bundle without it is incomplete.
// Every file is synced, each directory once at the end. The store is opened read-only: an
// export may run beside a serving node or hub (a switch that removes the release directory
// being read fails the export; run it again).
#ifndef TIERSYNC_BUNDLE_BUNDLE_EXPORT_H_
#define TIERSYNC_BUNDLE_BUNDLE_EXPORT_H_

#include <functional>
#include <string>

#include "base/env.h"
#include "bundle/bundle_layout.h"

namespace tiersync::bundle {

struct ExportOptions {
  std::string from_dir;  // a node's directory (node/node_dir.h) or a hub's (hub/hub_dir.h)
  std::string out_dir;   // the bundle; created; must not exist or be empty
  // The subscription language (docs/formats/subscription.md); empty: every file held.
  std::string subscription;
  // A delta bundle: the directory of an earlier bundle (its tiersync-bundle.json must be
  // there) whose chunks are left out — for a node that imported it. Empty: a whole bundle.
  // Chunk indexes always go in (small; the plan needs them).
  std::string delta_from;
  // Called now and then with files done and to do.
  std::function<void(uint64_t done, uint64_t total)> progress;
};

// Writes the bundle. kFailedPrecondition if the node serves no release yet or out_dir is not
// empty; kNotFound if the source lacks a file the subscription selects; kVerificationFailed if
// the source's own metadata or catalog do not verify (as an importer would find); kCorruption
// for a damaged chunk in the store (`tiersync node scrub` repairs it).
Result<BundleManifest> ExportBundle(Env* env, const ExportOptions& options);

}  // namespace tiersync::bundle

#endif  // TIERSYNC_BUNDLE_BUNDLE_EXPORT_H_
