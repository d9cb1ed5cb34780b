// Export: an offline bundle (bundle/bundle_layout.h) written from a node's directory — the
// release the node serves now, or a subscription's part of it — for a node that no network
// reaches (a school's USB disk).
//
// Steps (ExportBundle):
//   1. copy: the served release directory's metadata/ (byte for byte as signed, the root
//      chain from the version the node was set up with) and its catalog manifest target;
//   2. check: the copied metadata refreshed from the bundle itself, from the node's pinned
//      root, by the TUF client workflow a sync runs (node/node_sync.h) — an export that
//      would be refused (expired metadata, a broken chain) fails here, not at the school;
//      the catalog release is read from the node's repository and checked against the
//      signed manifest digest;
//   3. catalog: the git advertisement of the node's releases up to this one and the
//      upload-pack answer for its tag with no haves (a pack of the whole release), recorded
//      as the node's git service would send them (catalogs/git_upload_pack.h);
//   4. files: with no subscription, every file of the release the node holds whole (its
//      chunk index and every chunk stored); with one, exactly the files it selects — each of
//      which the node must hold whole (kNotFound otherwise). Each chunk index and each chunk
//      is read from the store with its SHA-256 checked (a damaged copy is never exported);
//   5. tiersync-bundle.json, last: a bundle without it is incomplete.
// Every file is synced, each directory once at the end. The node's store is opened read-only:
// an export may run beside a serving node (a switch that removes the release directory being
// copied fails the export; run it again).
#ifndef TIERSYNC_BUNDLE_BUNDLE_EXPORT_H_
#define TIERSYNC_BUNDLE_BUNDLE_EXPORT_H_

#include <functional>
#include <string>

#include "base/env.h"
#include "bundle/bundle_layout.h"

namespace tiersync::bundle {

struct ExportOptions {
  std::string node_dir;  // the node's directory (node/node_dir.h)
  std::string out_dir;   // the bundle; created; must not exist or be empty
  // The subscription language (docs/formats/subscription.md); empty: every file held.
  std::string subscription;
  // Called now and then with files done and to do.
  std::function<void(uint64_t done, uint64_t total)> progress;
};

// Writes the bundle. kFailedPrecondition if the node serves no release yet or out_dir is not
// empty; kNotFound if the node lacks a file the subscription selects; kVerificationFailed if
// the node's own metadata or catalog do not verify (as an importer would find); kCorruption
// for a damaged chunk in the store (`tiersync node scrub` repairs it).
Result<BundleManifest> ExportBundle(Env* env, const ExportOptions& options);

}  // namespace tiersync::bundle

#endif  // TIERSYNC_BUNDLE_BUNDLE_EXPORT_H_
