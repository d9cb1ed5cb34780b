// Scrubber: a node's own check of everything its store holds, at a bounded rate, beside
// serving and syncing (issue 22; threats.md F5: bits rot on disks nobody reads):
//   - the check (its own thread, read-only; the store's readers are thread-safe beside the
//     writer): every chunk re-read and re-hashed with SHA-256, every chunk index checked
//     (ChunkStore::Verify), paced at [scrub] bytes_per_second of stored bytes read; then,
//     given the node's directory (CheckReleasesOf), the signed metadata of every kept release
//     and the trusted root chain (node/release_check.h);
//   - the repair (on the store writer's thread — the sync loop — between cycles): every
//     damaged chunk fetched again from the sources and verified like any chunk of a sync
//     (replication/chunk_sync.h: SHA-256 and size, whichever tier answered), then stored in
//     place of the damaged copy (ChunkStore::Replace) and committed; every damaged chunk
//     index of a kept release's file fetched again by id (checked against its id and the
//     signed file, as in a sync) and stored over the damaged one; damaged metadata files
//     fetched again by name and kept only if the check then passes (node/release_check.h);
//   - when: at start after an unclean shutdown (the RUNNING marker was left behind), every
//     [scrub] interval_hours, and on demand (`tiersync node scrub`, a one-shot that checks and
//     repairs at once);
//   - what it found: status "scrub" (the last check and repair) and /metrics.
// A damaged chunk that no source supplies stays listed as unrepaired (status, metrics, the
// one-shot's exit code): a user asking for its file gets an error for that file, never the
// damaged bytes (every read checks).
//
// Thread-safe: Check from one thread at a time, Repair from the store's writer thread.
#ifndef TIERSYNC_NODE_SCRUBBER_H_
#define TIERSYNC_NODE_SCRUBBER_H_

#include <cstdint>
#include <functional>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "base/env.h"
#include "base/mutex.h"
#include "base/status.h"
#include "base/thread_annotations.h"
#include "node/metrics_text.h"
#include "node/node_config.h"
#include "node/node_dir.h"
#include "replication/chunk_store.h"
#include "replication/chunk_sync.h"

namespace tiersync::node {

struct ScrubPolicy {
  uint64_t bytes_per_second = 0;  // stored bytes read per second; 0: as fast as the disk goes
  int interval_hours = 0;         // between scheduled checks; 0: none scheduled
};

// [scrub] of node.toml.
ScrubPolicy ScrubPolicyOf(const NodeConfig& config);

// What one check found and what the repair after it did.
struct ScrubRun {
  std::string trigger;      // "unclean shutdown", "schedule", "command"
  int64_t started_at = 0;   // seconds since the epoch
  int64_t finished_at = 0;  // 0 while it runs
  bool stopped = false;     // the node stopped before the check was through
  uint64_t chunks_checked = 0;
  uint64_t bytes_checked = 0;
  uint64_t indexes_checked = 0;
  std::vector<replication::VerifyProblem> problems;   // chunks and indexes, as Verify says
  std::vector<protocol::ChunkRef> damaged;            // the chunks among them
  uint64_t repaired = 0;                              // damaged chunks replaced by good copies
  std::vector<protocol::ChunkRef> unrepaired;         // no source supplied a good copy (yet)
  uint64_t releases_checked = 0;                      // release directories' metadata checked
  std::vector<protocol::ChunkId> damaged_indexes;     // chunk indexes whose own bytes are bad
  uint64_t indexes_repaired = 0;                      // replaced by verified copies
  std::vector<protocol::ChunkId> unrepaired_indexes;  // not replaced (yet)
  uint64_t metadata_repaired = 0;                     // metadata files replaced
  std::vector<replication::VerifyProblem> metadata_unrepaired;  // what the last check still finds
  std::string repair_error;  // why the last repair did not finish

  // What is still wrong: unrepaired chunks, chunk indexes and metadata files, problems that no
  // repair mends (a missing pack, an index naming a chunk the store lacks), and indexes
  // waiting for an unrepaired chunk.
  size_t Remaining() const;
};

class Scrubber {
 public:
  // Nothing is owned; `store` is open for writing and outlives the scrubber. The last run is
  // kept in `state_path` (written after every check and repair, read here: the schedule and
  // the chunks still to repair survive a restart); empty: nothing is kept.
  Scrubber(Env* env, replication::ChunkStore* store, ScrubPolicy policy,
           std::string state_path = "");

  // When the next scheduled check is due (seconds since the epoch): the interval after the
  // last check that went through (a stopped one does not count), or after `since` when there
  // was none; 0 when none is scheduled.
  int64_t NextDueAt(int64_t since) const;

  // Also check (and repair) the metadata of the node in `paths` (node/release_check.h), and
  // find the files of damaged chunk indexes in its kept releases. Call before the first Check.
  void CheckReleasesOf(const NodePaths& paths);

  void SetPolicy(ScrubPolicy policy);
  ScrubPolicy policy() const;

  // Checks the whole store (blocking, paced), records the run and returns it. `stop` (may be
  // empty) is asked before every chunk and while paced: true ends the check early.
  ScrubRun Check(const std::string& trigger, const std::function<bool()>& stop);

  // True when the last check found damaged chunks, chunk indexes or metadata not yet replaced.
  bool RepairPending() const;

  // Fetches every damaged chunk of the last check not yet replaced from ctx's sources,
  // verified, and replaces the store's copies; then the damaged chunk indexes and metadata
  // files (above); commits. REQUIRES: the store writer's thread (and the node's: release
  // directories change); ctx.replace is set here. OK when every one was replaced; kUnavailable
  // naming what no source supplied; the store's own error. Recorded in the run either way.
  Status Repair(replication::SyncContext ctx, const replication::ChunkSyncOptions& options);

  // The last run (an empty trigger: none yet).
  ScrubRun last() const;
  // Status "scrub": the policy, whether a check runs now, the last run.
  nlohmann::json StatusJson() const;
  // tiersync_scrub_* counters (since the process started) and gauges (the last run).
  MetricsText Metrics() const;

 private:
  void Load();
  void Save() REQUIRES(mu_);

  Env* const env_;
  replication::ChunkStore* const store_;
  const std::string state_path_;

  mutable Mutex mu_;
  ScrubPolicy policy_ GUARDED_BY(mu_);
  bool running_ GUARDED_BY(mu_) = false;
  ScrubRun last_ GUARDED_BY(mu_);
  std::optional<NodePaths> paths_;  // set before the first check, then read-only
  std::vector<protocol::ChunkRef> to_repair_ GUARDED_BY(mu_);  // damaged, not yet replaced
  std::vector<protocol::ChunkId> indexes_to_repair_ GUARDED_BY(mu_);
  bool metadata_to_repair_ GUARDED_BY(mu_) = false;
  int64_t last_complete_at_ GUARDED_BY(mu_) = 0;  // when the last check that was not stopped ended
  uint64_t checks_total_ GUARDED_BY(mu_) = 0;
  uint64_t chunks_checked_total_ GUARDED_BY(mu_) = 0;
  uint64_t bytes_checked_total_ GUARDED_BY(mu_) = 0;
  uint64_t damaged_total_ GUARDED_BY(mu_) = 0;
  uint64_t repaired_total_ GUARDED_BY(mu_) = 0;
  uint64_t indexes_repaired_total_ GUARDED_BY(mu_) = 0;
  uint64_t metadata_repaired_total_ GUARDED_BY(mu_) = 0;
};

// The RUNNING marker of a node (<dir>/RUNNING): written when `node serve` starts, removed
// when it stops cleanly. Found at start, it says the last run ended without a clean stop
// (a crash, kill -9, power loss): the node checks its store before anything else.
// MarkRunning returns whether the marker was there already (an unclean shutdown before).
Result<bool> MarkRunning(Env* env, const std::string& marker_path);
Status MarkStopped(Env* env, const std::string& marker_path);

}  // namespace tiersync::node

#endif  // TIERSYNC_NODE_SCRUBBER_H_
