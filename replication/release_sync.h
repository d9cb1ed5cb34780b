// ReleaseSync: the steps of a sync cycle that do not depend on where a node keeps its catalog
// or how it reaches its sources (overview.md section 4), shared by the node's sync driver
// (node/node_sync.h) and the deterministic simulator (tests/sim/), so that what the simulator
// proves is proved of the code a node runs:
//   1. RefreshMetadata: the TUF client workflow against each source in SourcePolicy order until
//      one gives a complete, verified refresh (and passes the caller's own check, e.g. that the
//      catalog manifest target downloads and verifies); answers that fail verification are
//      recorded as rejections against that source;
//   2. PlannedFileFor: a signed target entry turned into a file to fetch (length, SHA-256,
//      chunk-index id, all from the signed metadata);
//   3. FetchRelease: chunk indexes, plan (wanted − stored), verified chunks from the sources,
//      commit, indexes, commit, and a last check that every chunk and index is stored.
// Everything goes through the Env and the Fetcher; time is the Env's clock.
#ifndef TIERSYNC_REPLICATION_RELEASE_SYNC_H_
#define TIERSYNC_REPLICATION_RELEASE_SYNC_H_

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "base/env.h"
#include "protocol/tuf_metadata.h"
#include "replication/chunk_store.h"
#include "replication/chunk_sync.h"
#include "replication/fetcher.h"
#include "replication/source_policy.h"
#include "replication/sync_plan.h"
#include "replication/tuf_updater.h"

namespace tiersync::replication {

// Metadata verified from one source: the trusted state and every target it lists.
struct VerifiedMetadata {
  std::unique_ptr<Updater> updater;
  // By target path: the entries in `updater`'s trusted metadata (valid while it lives).
  std::map<std::string, const protocol::tuf::TargetFile*> targets;
  // Every retraction the loaded roles sign (node/takedown.h applies them).
  std::vector<RoleRetraction> retractions;
  uint64_t version = 0;  // timestamp version
  size_t source = 0;     // index in the SourcePolicy
  // False when the caller's SkipListing said the top-level refresh is the metadata it acted on
  // already: `targets` and `retractions` are empty (no delegated role was read) and the
  // caller's AcceptMetadata was not called.
  bool listed = true;
};

struct MetadataDirs {
  std::string trusted;    // the TUF client's trusted metadata (kept across cycles)
  std::string downloads;  // verified targets downloaded whole
};

// Called with each source's verified refresh; a non-OK status rejects that source's answer
// (kVerificationFailed counts as an attack on it) and the next source is tried.
using AcceptMetadata = std::function<Status(VerifiedMetadata&)>;

// Called after a source's top-level refresh (root, timestamp, snapshot, top-level targets:
// verified, fresh) and before any delegated role is read; true: the caller has acted on this
// very metadata already, so the delegated roles are not loaded (VerifiedMetadata::listed).
using SkipListing = std::function<bool(const protocol::tuf::TrustedSet&)>;

// The first source (in `sources`' order) that gives a verified refresh accepted by `accept`
// (which may be empty). Failures and rejections are reported to `sources`; each rejection is
// appended to `rejected` as "<source name>: <reason>". kUnavailable-or-worse with the last
// source's error if none does. An error of the node's own disk (a local() Status, e.g. EIO or
// ENOSPC) while the updater persists what it verified stops the refresh at once, blaming no
// source (replication/source_walk.h).
// `parallel_fetches`: delegated targets roles fetched at once (UpdaterOptions). `skip` (may
// be empty): see SkipListing.
Result<VerifiedMetadata> RefreshMetadata(Env* env, Fetcher* fetcher, SourcePolicy* sources,
                                         const MetadataDirs& dirs, const AcceptMetadata& accept,
                                         std::vector<std::string>* rejected,
                                         int parallel_fetches = 1,
                                         const SkipListing& skip = nullptr);

// The file to fetch for the signed target `path`: kVerificationFailed if the entry lacks its
// sha256 or its chunk_index custom field.
Result<PlannedFile> PlannedFileFor(const std::string& path, const protocol::tuf::TargetFile& target,
                                   bool priority);

// Called with the plan before anything is fetched; a non-OK status stops the fetch (a quota).
using CheckPlan = std::function<Status(const ChunkPlan&)>;

struct FetchedRelease {
  uint64_t wanted_bytes = 0;
  uint64_t planned_bytes = 0;  // missing chunk bytes at planning time
  // Ordinary files left for a sync window (options.ordinary_allowed said no): their index or
  // some of their chunks are not stored. Every other file of the plan is complete.
  std::vector<std::string> deferred;
  // Set when `check_plan` refused the whole plan for its size (kResourceExhausted, a quota)
  // and the plan has priority files: the priority content was fetched alone (an emergency
  // package ignores the quota of ordinary content) and the ordinary files not stored yet are
  // `deferred`. The refusal's message.
  std::string quota_exceeded;
};

// Fetches every chunk and index `files` need that the store lacks, from the sources in
// `ctx` (each verified), committing what arrived even on failure, and checks at the end that
// every chunk and chunk index of `files` is stored. OK means the files can be served — all but
// the `deferred` ones: when options.ordinary_allowed says no window is open (at the start, or
// once one closes during the fetch), ordinary files are not fetched (not even their indexes,
// unless stored already) and those not complete are returned as deferred; priority files are
// fetched whatever the window. `check_plan` sees the plan of what is fetched; when it refuses
// the plan for its size and there is priority content, that is fetched alone
// (FetchedRelease::quota_exceeded).
Result<FetchedRelease> FetchRelease(const std::vector<PlannedFile>& files, const SyncContext& ctx,
                                    const ChunkSyncOptions& options, const CheckPlan& check_plan);

}  // namespace tiersync::replication

#endif  // TIERSYNC_REPLICATION_RELEASE_SYNC_H_
