// Chunk sync: the execute step of a sync (overview.md section 4, step 3) — the driver of the
// TransferEngine (replication/transfer_engine.h, which decides what to ask of whom, batch
// sizes and the rate) that the node and the simulation both run. It sends the engine's
// requests through a Fetcher from parallel workers, verifies every object against its id
// before it is stored, and keeps what it stored even when the run fails (the next run asks
// only for what is still missing: resume).
//
// Endpoints used on a source (docs/protocol.md): GET <url>/v1/indexes/<hex id> and
// POST <url>/v1/chunks/batch. Which source is asked is SourcePolicy's decision, per request;
// the verification is the same whichever source answered.
#ifndef TIERSYNC_REPLICATION_CHUNK_SYNC_H_
#define TIERSYNC_REPLICATION_CHUNK_SYNC_H_

#include <algorithm>
#include <atomic>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "base/env.h"
#include "base/mutex.h"
#include "base/zstd_codec.h"
#include "protocol/chunk_index.h"
#include "replication/chunk_store.h"
#include "replication/fetcher.h"
#include "replication/source_policy.h"
#include "replication/sync_plan.h"
#include "replication/transfer_engine.h"

namespace tiersync::replication {

struct ChunkSyncOptions {
  uint64_t batch_bytes = 8ull << 20;  // the largest batch
  size_t batch_chunks = 512;
  int parallel = 4;  // requests in flight
  // Whether ordinary chunks may be fetched now (TransferOptions::ordinary_allowed); empty:
  // always. The byte-rate cap is the Fetcher's (node/rate_limiter.h).
  std::function<bool(int64_t now_us)> ordinary_allowed = nullptr;
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

class TransferScheduler;

struct SyncContext {
  Env* env;  // the clock
  Fetcher* fetcher;
  SourcePolicy* sources;
  ChunkStore* store;  // open for writing
  SyncCounters* counters;
  TransferScheduler* scheduler = nullptr;  // null: the node's threads
  // A repair: the store names these chunks already but its copies are damaged; verified
  // chunks are stored with ChunkStore::Replace instead of Put (node/scrubber.h).
  bool replace = false;
};

// What one request of the engine brought, for Deliver.
struct TransferAnswer {
  SourceAnswer index_answer;  // an index request's
  std::optional<protocol::ChunkIndex> index;
  ChunksAnswer chunks;  // a chunk request's
};

// The I/O half of the driver: sends one request of a TransferEngine through the Fetcher,
// verifies what comes back (an index's SHA-256, strict decoding and its signed file; a
// chunk's SHA-256 and size, zstd frames decompressed within that size) and stores verified
// chunks. Thread-safe (the store's writer calls are serialised inside).
class TransferExecutor {
 public:
  explicit TransferExecutor(const SyncContext& ctx);
  TransferAnswer Execute(const TransferRequest& request, ZstdCodec* codec);

 private:
  SourceAnswer FetchIndex(const TransferRequest& r, std::optional<protocol::ChunkIndex>* out);
  ChunksAnswer FetchChunkBatch(const TransferRequest& r, ZstdCodec* codec);
  Status Store(const PreparedChunk& chunk, uint32_t size);

  const SyncContext& ctx_;
  Mutex store_mu_;  // the store's writer methods
};

using TransferProgress = std::function<void(uint64_t stored_bytes, uint64_t total_bytes)>;

// Hands an answer to the engine (OnIndex or OnChunks) and reports chunk progress.
void Deliver(TransferEngine* engine, const TransferRequest& request, TransferAnswer answer,
             int64_t now_us, const TransferProgress& progress);

// The scheduling half: which requests are in flight together and in what order their
// answers reach the engine. The node's is `parallel` threads (the default); the simulation
// has its own, seeded (tests/sim). Run returns when the engine says kDone.
class TransferScheduler {
 public:
  virtual ~TransferScheduler() = default;
  // The engine's bound on requests in flight, given the configured parallelism.
  virtual size_t InFlight(int parallel) const { return static_cast<size_t>(std::max(1, parallel)); }
  virtual void Run(TransferEngine* engine, TransferExecutor* executor, Env* env, int parallel,
                   const TransferProgress& progress) = 0;
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
// the store, in batches sized to the link, each batch walking the sources as the transfer
// engine decides (replication/transfer_engine.h; SourceWalk, replication/source_walk.h).
// Chunks a source lacks are asked of the next;
// bytes that fail verification are counted as a rejection against that source and asked of the
// next. Returns OK when every chunk is stored (not yet committed: the caller commits);
// otherwise kUnavailable saying how many chunks no source supplied, or the store's own error
// (local). Either way the chunks that arrived are in the store.
// The first `priority` chunks of `missing` are priority content (sent first, whatever the
// window); ordinary chunks not sent because no window was open are appended to `deferred` (may
// be null when options.ordinary_allowed is empty) — OK then means every other chunk is stored.
Status FetchChunks(const std::vector<protocol::ChunkRef>& missing, const SyncContext& ctx,
                   const ChunkSyncOptions& options, size_t priority = 0,
                   std::vector<protocol::ChunkRef>* deferred = nullptr);

// Stages the encoded indexes of `files` that the store lacks. REQUIRES: their chunks are all
// stored.
Status StoreIndexes(const std::vector<PlannedFile>& files,
                    const std::map<protocol::ChunkId, protocol::ChunkIndex>& indexes,
                    ChunkStore* store);

}  // namespace tiersync::replication

#endif  // TIERSYNC_REPLICATION_CHUNK_SYNC_H_
