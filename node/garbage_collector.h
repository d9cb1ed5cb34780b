// GarbageCollector: what a node's store keeps, and the space it gives back (issue 22):
//   - kept: every file of every release directory the node keeps — the current release, the
//     previous one (children and readers may still be on it) and the pinned ones
//     ([retention] pinned) — as each directory's files.tsv lists them (deferred files too once
//     their chunk index is stored; a file cut off in the middle by a closing window has none
//     yet, and its chunks fetched so far are forgotten and fetched again);
//   - collected: every other chunk index and chunk; packs less full than [retention]
//     compact_below_percent are compacted (ChunkStore::CollectGarbage, crash-safe);
//   - when: after every switch to a new release (on the sync loop's thread, the store's one
//     writer; [retention] collect = false turns that off) and on demand (`tiersync node gc`,
//     --dry-run to see what would go);
//   - what it did: status "gc", /metrics, and the last run in <dir>/gc.json.
// The bound: after a collection the packs take at most
//   (bytes the kept releases' files take in the store) × 100 / compact_below_percent
// plus one pack header. A chunk index that fails its check, or a kept release directory
// without files.tsv (written by an older tiersync), stops the collection before anything is
// deleted: what it needs cannot be known.
//
// Thread-safe: Collect from the store writer's thread; the readers from any thread.
#ifndef TIERSYNC_NODE_GARBAGE_COLLECTOR_H_
#define TIERSYNC_NODE_GARBAGE_COLLECTOR_H_

#include <cstdint>
#include <nlohmann/json.hpp>
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

namespace tiersync::node {

// One collection.
struct GcRun {
  std::string trigger;  // "switch", "command"
  bool dry_run = false;
  int64_t started_at = 0;  // seconds since the epoch
  int64_t finished_at = 0;
  std::vector<std::string> kept_releases;  // release directories whose files were kept
  uint64_t kept_files = 0;
  uint64_t withdrawn_files = 0;  // listed by kept releases but withdrawn (KeptFiles)
  replication::GcReport report;
  std::string error;  // why it stopped ("" when it went through)
};

// The chunk indexes of every file the kept release directories list (sorted, unique), and
// the directories' names — but none of the files the served release's signed retractions
// withdrew (node/takedown.h: a takedown purges them from pinned and previous releases too).
// kNotFound naming the directory if one has no files.tsv.
struct KeptFiles {
  std::vector<std::string> releases;
  std::vector<protocol::ChunkId> indexes;
  uint64_t files = 0;
  uint64_t withdrawn_files = 0;  // listed by a kept release, withdrawn: not kept
};
Result<KeptFiles> ListKeptFiles(Env* env, const NodePaths& paths);

class GarbageCollector {
 public:
  // Nothing is owned; `store` is open for writing. The last run is read from and written to
  // paths.gc.
  GarbageCollector(Env* env, const NodePaths& paths, replication::ChunkStore* store);

  // One collection as `config` ([retention]) says. REQUIRES: the store writer's thread.
  // Recorded (status, metrics, gc.json) either way; a dry run changes nothing but is shown.
  Result<GcRun> Collect(const std::string& trigger, const NodeConfig& config, bool dry_run);

  GcRun last() const;
  // Status "gc": the last run (absent before the first).
  nlohmann::json StatusJson() const;
  // tiersync_gc_* counters since the process started; the store's size and its index map;
  // the size of the file system holding the node directory and the bytes on it still
  // available to the node (statvfs at each call: f_blocks and f_bavail times f_frsize; left
  // out when the directory cannot be asked, e.g. under an in-memory Env).
  MetricsText Metrics() const;

 private:
  void Save() REQUIRES(mu_);

  Env* const env_;
  const NodePaths paths_;
  replication::ChunkStore* const store_;

  mutable Mutex mu_;
  GcRun last_ GUARDED_BY(mu_);
  uint64_t runs_total_ GUARDED_BY(mu_) = 0;
  uint64_t failures_total_ GUARDED_BY(mu_) = 0;
  uint64_t deleted_chunks_total_ GUARDED_BY(mu_) = 0;
  uint64_t deleted_bytes_total_ GUARDED_BY(mu_) = 0;
  uint64_t copied_bytes_total_ GUARDED_BY(mu_) = 0;
};

// The share of the store index's LMDB map in use above which status warns (commits fail when
// it is full; the map is set when the store is opened).
inline constexpr double kIndexMapAlarmRatio = 0.8;

}  // namespace tiersync::node

#endif  // TIERSYNC_NODE_GARBAGE_COLLECTOR_H_
