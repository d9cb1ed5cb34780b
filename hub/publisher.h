// Publish: the hub's one command for a catalog release (`tiersync hub publish`).
//
// Input directory (what `tiersync demo generate` writes, or an authoring tool exports):
//   <input>/resources/*.json   one record per resource (catalogs/resource.h, RecordSource::kInput:
//                              files carry size and sha256; chunk_index is filled in here)
//   <input>/media/<id>/<name>  the bytes of each file of each resource
// The input is the whole catalog: every resource of the last release must still be there
// (retire it, never delete it — stable ids are never reused).
//
// Plan, then execute (restic's shape); every step can be re-run after a crash:
//   0. Renew signed metadata that is within half its lifetime of expiring
//      (TufRepository::RenewExpiring), so that a hub that published nothing for weeks works.
//   1. Check the last signed release: its git tag must match the signed content digest
//      (someone may have changed the repository since).
//   2. Read and check every record (all problems are reported together, each naming record
//      and field): syntax, taxonomy, regions, namespace, duplicate ids, ids reused for a
//      different resource, resources that disappeared.
//   3. Ingest new and changed media into the chunk store (files whose stat matches the ingest
//      cache are not read again); each file's size and SHA-256 must match its record.
//   Nothing is committed if any of 1-3 fails. Then:
//   4. Commit the catalog (one pack, fsynced) and tag release r<N> with the publisher as tagger.
//   5. Sign the TUF metadata: one target per served file (national/<id>/<name>, in its hash
//      bin, custom: chunk_index, resource), retired resources' targets removed, and the
//      catalog manifest as target catalog/manifest.txt (custom: release, commit, resources);
//      then snapshot and timestamp.
// Re-running with unchanged input publishes nothing; a run interrupted after step 4 finishes
// the same release.
#ifndef TIERSYNC_HUB_PUBLISHER_H_
#define TIERSYNC_HUB_PUBLISHER_H_

#include <functional>
#include <string>

#include "base/env.h"
#include "catalogs/catalog_diff.h"
#include "catalogs/git_catalog.h"
#include "replication/tuf_repository.h"

namespace tiersync::hub {

struct PublishOptions {
  std::string input;
  catalogs::Identity publisher;
  std::string message;        // the release tag's message (may be empty)
  replication::KeyRing keys;  // targets (bins), snapshot and timestamp keys at least
  int64_t now = 0;            // seconds since the epoch (commit, tag and signing time)
  int ingest_threads = 2;
  // Called with (stage, done, total): stage "read" (records), "ingest" (bytes).
  std::function<void(std::string_view, uint64_t, uint64_t)> progress;
};

struct PublishReport {
  std::string release;         // the release now signed (r<N>)
  bool published = false;      // false: the input matched the signed release, nothing to do
  std::string previous;        // the release before it ("" for the first)
  catalogs::CatalogDiff diff;  // previous -> release
  uint64_t resources = 0;
  uint64_t served_files = 0;     // targets of media
  uint64_t files_read = 0;       // media read and ingested this run
  uint64_t files_unchanged = 0;  // media skipped thanks to the ingest cache
  uint64_t new_chunks = 0;
  uint64_t new_bytes = 0;      // stored bytes of new chunks
  uint64_t targets_added = 0;  // incl. changed ones
  uint64_t targets_removed = 0;
  std::string commit;
  std::string content_digest;  // hex SHA-256 of the catalog manifest
  bool renewed = false;        // metadata close to expiry was re-signed first
};

// Errors: kInvalidArgument for bad input (message lists every problem found, one per line),
// kVerificationFailed if the repository does not match the signed metadata, kUnavailable if
// another command holds the hub, kFailedPrecondition if a signing key is missing, I/O codes
// for the disk.
Result<PublishReport> Publish(Env* env, const std::string& hub_dir, const PublishOptions& options);

}  // namespace tiersync::hub

#endif  // TIERSYNC_HUB_PUBLISHER_H_
