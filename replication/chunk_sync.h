// Chunk sync: the execute step of a sync (overview.md section 4, step 3). Fetches chunk
// indexes and chunks from a node's sources through a Fetcher, in parallel batches, verifies
// every object against its id before it is stored, and keeps what it stored even when the
// run fails (the next run asks only for what is still missing: resume).
//
// Endpoints used on a source (docs/protocol.md): GET <url>/v1/indexes/<hex id> and
// POST <url>/v1/chunks/batch. Which source is asked is SourcePolicy's decision, per request;
// the verification is the same whichever source answered.
#ifndef TIERSYNC_REPLICATION_CHUNK_SYNC_H_
#define TIERSYNC_REPLICATION_CHUNK_SYNC_H_

#include <atomic>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "base/env.h"
#include "base/mutex.h"
#include "protocol/chunk_index.h"
#include "replication/chunk_store.h"
#include "replication/fetcher.h"
#include "replication/source_policy.h"
#include "replication/sync_plan.h"

namespace tiersync::replication {

// Batches are sized to the link (issue 17: a school on 1 Mbit/s must converge): each asks for
// about kBatchSeconds of the first-choice source's measured per-request throughput, at least
// kMinBatchBytes and at most ChunkSyncOptions::batch_bytes; kFirstBatchBytes before anything
// was measured. A slow link thus gets small batches that each finish well within the
// transfer timeouts, and a fast one the largest.
inline constexpr uint64_t kBatchSeconds = 10;
inline constexpr uint64_t kMinBatchBytes = 64u << 10;
inline constexpr uint64_t kFirstBatchBytes = 1u << 20;

struct ChunkSyncOptions {
  uint64_t batch_bytes = 8ull << 20;  // the largest batch
  size_t batch_chunks = 512;
  int parallel = 4;                   // requests in flight
  uint64_t max_bytes_per_second = 0;  // over all sources; 0: unlimited
  // Called now and then (from worker threads, serialised) with verified bytes so far.
  std::function<void(uint64_t done_bytes, uint64_t total_bytes)> progress;
};

// What a sync moved and what it refused; shared by the steps of one sync.
struct SyncCounters {
  std::atomic<uint64_t> chunks{0};
  std::atomic<uint64_t> chunk_bytes{0};
  std::atomic<uint64_t> indexes{0};
  std::atomic<uint64_t> index_bytes{0};
  Mutex mu;
  std::vector<std::string> rejected GUARDED_BY(mu);  // "source: what failed verification"
  std::map<std::string, uint64_t> chunk_bytes_by_source GUARDED_BY(mu);  // verified, by URL
  void Reject(const std::string& what);
  void Received(const std::string& source_url, uint64_t bytes);
};

struct SyncContext {
  Env* env;  // clock and waits (the rate limit)
  Fetcher* fetcher;
  SourcePolicy* sources;
  ChunkStore* store;  // open for writing
  SyncCounters* counters;
};

// The decoded chunk index of every file, from the store when it holds it, otherwise fetched
// from the sources (SHA-256 checked against the id, decoded strictly, and checked against the
// signed length and SHA-256 of the file: CheckIndexMatchesFile). Fetched indexes are not
// stored here (an index may only enter the store after its chunks: StoreIndexes()).
// kUnavailable naming the index if no source supplies a valid copy. Up to `parallel` indexes
// are fetched at once (REQUIRES: above 1, the Fetcher and SourcePolicy may be called from
// several threads).
Result<std::map<protocol::ChunkId, protocol::ChunkIndex>> LoadIndexes(
    const std::vector<PlannedFile>& files, const SyncContext& ctx, int parallel = 1);

// Fetches every chunk of `missing`, verifying each (SHA-256 and size) before it is Put into
// the store, in batches sized to the link (kBatchSeconds above), asking the sources through
// AskSources (replication/source_walk.h). Chunks a source lacks are asked of the next; bytes
// that fail verification are counted as a rejection against that source and asked of the
// next. Returns OK when every chunk is stored (not yet committed: the caller commits);
// otherwise kUnavailable saying how many chunks no source supplied, or the store's own error
// (local). Either way the chunks that arrived are in the store.
Status FetchChunks(const std::vector<protocol::ChunkRef>& missing, const SyncContext& ctx,
                   const ChunkSyncOptions& options);

// Stages the encoded indexes of `files` that the store lacks. REQUIRES: their chunks are all
// stored.
Status StoreIndexes(const std::vector<PlannedFile>& files,
                    const std::map<protocol::ChunkId, protocol::ChunkIndex>& indexes,
                    ChunkStore* store);

}  // namespace tiersync::replication

#endif  // TIERSYNC_REPLICATION_CHUNK_SYNC_H_
