// NodeSync: one sync cycle of a node (overview.md section 4), the same code whichever source
// answers:
//   1. metadata: the TUF client workflow against the first source that gives a complete,
//      verified refresh (every role, the catalog manifest target); a source whose answer fails
//      verification (bad signature, rollback, expiry, wrong hash) is reported and skipped;
//   2. catalog: the signed release's records, fetched over git smart HTTP if missing, checked
//      against the signed SHA-256 manifest before a record is parsed. A source that does not
//      have the release yet (its metadata was seen before its catalog) only lacks it: the next
//      source is asked, and if none has it the cycle ends "not yet" (pending), never failed;
//   3. plan: wanted files = the release filtered by the rules given (this node's subscription
//      rolled up with its subtree's: catalogs/subscription_rollup.h); missing chunks = wanted
//      − stored (replication/sync_plan.h);
//   4. execute: chunk indexes and chunks from the sources in order, each verified
//      (replication/chunk_sync.h), committed to the store;
//   5. switch: only when every wanted chunk is present, the release directory (metadata byte
//      for byte as signed, the manifest) is written and fsynced, and CURRENT is replaced
//      atomically. Until then the previous release stays the one served.
// Time windows ([sync] windows): outside them only priority content is fetched (the emergency
// package of a release reaches users at once); the release is then switched to with its
// ordinary files "deferred" (ServedRelease::deferred; users get them through the miss policy)
// and completed in the next cycle inside a window. A partial release has a directory of its
// own ("<name>-d<deferred>"): the complete one never replaces it in place.
// A failed cycle keeps everything it stored; the next one fetches only what is still missing.
// Quiet cycles: a cycle that ends with its plan's whole release served leaves a QuietMark; the
// next cycle still refreshes the top-level metadata from its sources (root, timestamp,
// snapshot, top-level targets: verified and fresh, as always), and when that is the metadata
// the mark names, under the same rules, with CURRENT unchanged and no delegated role past its
// expiry, it reads neither the delegated roles, nor the catalog, nor plans again: nothing
// they hold can have changed. A full cycle runs at least every kQuietMarkSeconds all the same.
#ifndef TIERSYNC_NODE_NODE_SYNC_H_
#define TIERSYNC_NODE_NODE_SYNC_H_

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "catalogs/release.h"
#include "node/node_config.h"
#include "node/node_dir.h"
#include "replication/chunk_store.h"
#include "replication/chunk_sync.h"
#include "replication/fetcher.h"
#include "replication/source_policy.h"

namespace tiersync::replication {
struct VerifiedMetadata;  // replication/release_sync.h
}  // namespace tiersync::replication
namespace tiersync::protocol::tuf {
class TrustedSet;  // protocol/tuf_trusted_set.h
}  // namespace tiersync::protocol::tuf

namespace tiersync::node {

// What a cycle that ended with its plan's whole release served (switched or up to date,
// nothing deferred) leaves for the next ones (see "Quiet cycles" above).
struct QuietMark {
  uint64_t root_version = 0;
  uint64_t timestamp_version = 0;
  uint64_t snapshot_version = 0;
  std::string rules;
  std::string served_dir;     // CURRENT after that cycle
  int64_t roles_expire = 0;   // the earliest expiry of every targets role it loaded
  int64_t verified_at = 0;    // when it ran (seconds since the epoch)
  uint64_t wanted_files = 0;  // what it planned
};

// A full cycle at least this often, however quiet: a damaged catalog or a CURRENT replaced
// by hand is noticed within this time.
inline constexpr int64_t kQuietMarkSeconds = 600;

// Whether a refresh that verified root `root_version`, timestamp `timestamp_version` and
// snapshot `snapshot_version` at time `now`, for `rules`, with `served_dir` current, is the
// metadata `mark` names and may skip the rest of the cycle.
bool QuietCycleAllowed(const QuietMark& mark, uint64_t root_version, uint64_t timestamp_version,
                       uint64_t snapshot_version, const std::string& rules,
                       const std::string& served_dir, int64_t now);

struct SyncOutcome {
  bool switched = false;  // a new release (or a new plan of it) became current
  // Set when the cycle could not finish because no source serves the signed release's catalog
  // yet (a parent that announced metadata a moment before its catalog): nothing failed; the
  // cycle is to be retried shortly. Says which release.
  std::string pending;
  ServedRelease current;
  uint64_t wanted_files = 0;
  uint64_t planned_bytes = 0;  // missing chunk bytes at planning time
  uint64_t fetched_bytes = 0;  // verified chunk bytes received
  uint64_t fetched_chunks = 0;
  uint64_t deferred_files = 0;  // ordinary files left for a sync window
  // The release is over the storage quota: only its priority content was fetched (the
  // refusal's message; replication::FetchedRelease::quota_exceeded).
  std::string quota_exceeded;
  std::map<std::string, uint64_t> chunk_bytes_by_source;  // fetched_bytes, by source URL
  std::string metadata_source;
  std::string catalog_source;         // empty if the release was already in the local catalog
  std::vector<std::string> rejected;  // answers that failed verification, by source
  bool quiet = false;                 // a quiet cycle: the metadata was the mark's
  // Set by a cycle after which the plan's whole release is served: for the next cycles.
  std::optional<QuietMark> mark;
};

// Progress: phase ("metadata", "catalog", "plan", "chunks", "switch"), bytes done and total.
using SyncProgress = std::function<void(const std::string& phase, uint64_t done, uint64_t total)>;

// The catalog release a verified refresh names, with its manifest downloaded and checked
// against the signed hash; kNotFound when the metadata names none yet.
Result<catalogs::SignedRelease> SignedCatalogRelease(Env* env, replication::VerifiedMetadata& m);

// The release directory a plan is served from: "<version>-<first 8 hex digits of
// SHA-256("<version>\n" + rules)>" — a new directory when the release or the rules change.
std::string ReleaseDirName(uint64_t version, const std::string& rules);

// What a sync cycle works with. Nothing is owned; all must outlive whoever holds the parts.
// `store` is open for writing.
struct SyncParts {
  Env* env;
  const NodePaths& paths;
  const NodeConfig& config;
  replication::ChunkStore* store;
  replication::Fetcher* fetcher;
  replication::SourcePolicy* sources;
  // How the chunk transfer's requests are scheduled; null: `config.parallel` threads.
  replication::TransferScheduler* scheduler = nullptr;
  // Whether a sync window is open now (ordinary content may be fetched); empty: always
  // (node/rate_limiter.h: RateLimiter::WindowOpen).
  std::function<bool()> window_open = nullptr;
};

class NodeSync {
 public:
  // `rules`: the subscription to plan for (this node's own rolled up with its children's).
  // `quiet`: the mark the last cycle left (SyncOutcome::mark), or null for a full cycle.
  NodeSync(const SyncParts& parts, std::string rules, const QuietMark* quiet = nullptr);

  // One cycle. On error, `partial` (if given) receives what the cycle did get done
  // (sources used, rejections, bytes fetched) for status reporting.
  Result<SyncOutcome> Run(const SyncProgress& progress, SyncOutcome* partial = nullptr);

  struct Refreshed;
  struct Plan;

 private:
  Result<Refreshed> RefreshStep(SyncOutcome* out);
  Result<catalogs::ReleaseContent> ReadLocalCatalog(const Refreshed& meta);
  // The verified catalog release from the sources; kNotFound if none has it yet.
  Result<catalogs::ReleaseContent> CatalogStep(const Refreshed& meta, SyncOutcome* out);
  Result<Plan> PlanStep(const Refreshed& meta, const catalogs::ReleaseContent& content,
                        SyncOutcome* out);
  // Sets plan->deferred.
  Status FetchStep(Plan* plan, const SyncProgress& progress, SyncOutcome* out);
  bool WindowOpen() const { return !p_.window_open || p_.window_open(); }
  // Writes the release directory `name` and makes it current.
  Status SwitchStep(const Refreshed& meta, const Plan& plan, const std::string& name,
                    SyncOutcome* out);

  // Whether the refreshed top-level metadata `trusted` is quiet_'s (QuietCycleAllowed).
  bool Quiet(const protocol::tuf::TrustedSet& trusted) const;

  const SyncParts p_;
  std::string rules_;
  const QuietMark* quiet_;
};

}  // namespace tiersync::node

#endif  // TIERSYNC_NODE_NODE_SYNC_H_
