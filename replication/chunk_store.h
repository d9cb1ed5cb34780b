// ChunkStore: content-addressed, deduplicated, verified chunk storage on one node.
//
// Layout of a store directory (docs/formats/chunk-store.md):
//   STORE          format marker ("tiersync-chunk-store 1"; base/layout_version.h)
//   LOCK           held by the one process that may write
//   packs/         append-only pack files (pack_format.h), through the Env
//   index/         LMDB environment (lmdb_index.h), on the real file system
//
// Write protocol (threats.md): chunks are appended to the current pack; Commit() fsyncs the
// pack (and the packs/ directory when a pack was created) and only then commits the index
// entries, the chunk indexes and the packs' committed lengths in one LMDB transaction. A
// failed write, fsync or commit makes the writer fail sticky: every later write returns the
// same error, nothing more is committed, and the store must be reopened (which cuts off the
// uncommitted pack tail). Readers only ever see committed entries.
//
// Reads are checked: every Get re-checks the XXH3 of the stored bytes and the record header
// against the index; ReadCheck::kFull also re-hashes the content with SHA-256.
//
// Concurrency: one writer process at a time (the LOCK); any number of readers alongside it.
// Within a process, Get/Contains/GetIndexBytes/Verify are thread-safe; the writer methods
// (Put, PutIndex, Commit) must be called from one thread at a time.
#ifndef TIERSYNC_REPLICATION_CHUNK_STORE_H_
#define TIERSYNC_REPLICATION_CHUNK_STORE_H_

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "base/env.h"
#include "base/mutex.h"
#include "base/status.h"
#include "base/thread_annotations.h"
#include "protocol/chunk_index.h"
#include "replication/lmdb_index.h"
#include "replication/pack_format.h"

namespace tiersync::replication {

struct ChunkStoreOptions {
  // The Env for the marker, lock and pack files. Not owned. Default: Env::Default().
  Env* env = nullptr;
  // Open for writing (takes the LOCK; a second writer gets kFailedPrecondition).
  bool writable = false;
  // Where LMDB keeps the index, on the real file system. Default: <dir>/index. Tests that put
  // the packs in a MemEnv point this at a real temporary directory.
  std::string index_dir;
  // zstd level for chunks that compress (1-3 keep ingest fast).
  int compression_level = 1;
  // A new pack file is started when the current one would grow past this.
  uint64_t max_pack_bytes = 1ull << 30;
  // Put() commits by itself once this many payload bytes are pending, bounding what a crash
  // can lose and how much the index batch holds.
  uint64_t auto_commit_bytes = 256ull << 20;
  // Upper bound of the LMDB map (address space, not disk).
  size_t lmdb_map_bytes = size_t{1} << 40;
};

struct StoreStats {
  uint64_t chunks = 0;
  uint64_t compressed_chunks = 0;
  uint64_t raw_bytes = 0;     // sum of uncompressed chunk sizes
  uint64_t stored_bytes = 0;  // sum of stored payload sizes
  uint64_t chunk_indexes = 0;
  uint64_t packs = 0;
  uint64_t pack_bytes = 0;        // committed bytes in pack files, headers included
  uint64_t index_used_bytes = 0;  // LMDB pages in use
  uint64_t index_map_bytes = 0;   // the LMDB map: commits fail once the pages fill it
};

struct GcOptions {
  // A pack whose live records (those of kept chunks, headers included) fill less than this
  // fraction of its committed bytes is compacted: after a collection every pack but the one
  // being appended to is at least this full, so the packs take at most
  // live bytes / min_live_fraction (+ one pack's worth).
  double min_live_fraction = 0.5;
  // Compute the report, change nothing.
  bool dry_run = false;
};

struct GcReport {
  uint64_t kept_indexes = 0;     // chunk indexes kept (stored ones among those asked for)
  uint64_t absent_indexes = 0;   // asked to keep but not stored (files not fetched yet)
  uint64_t kept_chunks = 0;      // stored chunks those indexes name
  uint64_t kept_bytes = 0;       // their records in the packs, headers included
  uint64_t deleted_indexes = 0;  // chunk indexes forgotten
  uint64_t deleted_chunks = 0;   // chunks forgotten
  uint64_t deleted_bytes = 0;    // their records, headers included
  uint64_t packs_compacted = 0;  // packs whose kept chunks were copied out and that were removed
  uint64_t copied_bytes = 0;     // records copied by the compaction
  uint64_t pack_bytes_before = 0;
  uint64_t pack_bytes_after = 0;  // (dry run: what they would be)
  // Kept chunks that failed their check while being copied: their packs stay (the scrub
  // repairs them; the next collection compacts them).
  std::vector<protocol::ChunkRef> damaged;
};

// One problem found by Verify.
struct VerifyProblem {
  std::string kind;  // "chunk", "chunk-index" or "pack"
  std::string id;    // hex id (or pack file name)
  Status error;
  // A chunk index whose only fault is a chunk it names that is stored damaged (listed in
  // VerifyReport::damaged): replacing that chunk mends it.
  bool from_damaged_chunk = false;
};

struct VerifyReport {
  uint64_t chunks_checked = 0;
  uint64_t bytes_checked = 0;  // uncompressed
  uint64_t indexes_checked = 0;
  std::vector<VerifyProblem> problems;
  // The chunks among the problems, with their sizes from the index: what a repair re-fetches.
  std::vector<protocol::ChunkRef> damaged;
  // The chunk indexes among the problems whose own bytes are bad (they do not match their id
  // or do not decode): what a repair fetches again by id.
  std::vector<protocol::ChunkId> damaged_indexes;
  bool stopped = false;  // VerifyOptions::stop said so before every chunk was checked
  bool clean() const { return problems.empty(); }
};

struct VerifyOptions {
  // Called now and then with chunk counts (done, total).
  std::function<void(uint64_t, uint64_t)> progress;
  // Called after each chunk with the bytes it took to read it (the stored payload): a
  // background check paces itself here (node/scrubber.h). May block.
  std::function<void(uint64_t)> pace;
  // Asked before each chunk: true ends the check early (VerifyReport::stopped).
  std::function<bool()> stop;
};

class ChunkStore {
 public:
  ~ChunkStore();

  // Creates an empty store in `dir` (created if missing). kAlreadyExists if `dir` holds a
  // store already.
  static Status Create(const std::string& dir, const ChunkStoreOptions& options);

  // Checks the STORE marker of `dir` without opening anything: kFailedPrecondition if `dir`
  // is not a store, kNewerFormat if a newer tiersync made it ("upgrade tiersync"),
  // kNotSupported if the marker is not one. Open() checks the same first.
  static Status CheckFormat(const std::string& dir, Env* env);

  // Opens an existing store. kFailedPrecondition if `dir` is not a store, or (writable) if
  // another writer holds the lock. A writer cuts off any uncommitted tail of the last pack and
  // removes pack files no commit ever referenced.
  static Result<std::unique_ptr<ChunkStore>> Open(const std::string& dir,
                                                  const ChunkStoreOptions& options);

  // True if the chunk is committed or pending in this writer.
  Result<bool> Contains(const ChunkId& id) const;

  // Where and how the chunk is stored (sizes, compression), from the index: no pack is read,
  // nothing is checked. kNotFound if absent.
  Result<ChunkLocation> Locate(const ChunkId& id) const;

  // The chunk as stored: its payload, a zstd frame of the chunk when `loc.flags` has
  // kFlagZstd, else the chunk's bytes; checked against the index and its XXH3 (not
  // decompressed, no SHA-256: for a receiver that checks the chunk itself). kNotFound if
  // absent, kCorruption if the stored bytes fail the check.
  struct Stored {
    ChunkLocation loc;
    std::vector<uint8_t> payload;
  };
  Result<Stored> GetStored(const ChunkId& id) const;

  // The chunk's uncompressed bytes, checked as `check` says. kNotFound if absent,
  // kCorruption (naming pack and offset) if the stored bytes fail a check.
  Result<std::vector<uint8_t>> Get(const ChunkId& id, ReadCheck check) const;

  // The encoded chunk index `id`, checked against its id (SHA-256). kNotFound if absent.
  Result<std::vector<uint8_t>> GetIndexBytes(const ChunkId& id) const;

  // Writer: appends `chunk` unless it is already present (then returns OK and does nothing).
  // Returns true if the chunk was new. May commit by itself (auto_commit_bytes).
  Result<bool> Put(const PreparedChunk& chunk);
  // Writer: stages a chunk index for the next commit. REQUIRES: every chunk it names has been
  // Put (the index becomes visible in the same or a later commit than its chunks).
  Status PutIndex(const ChunkId& id, std::vector<uint8_t> encoded);
  // Writer: appends a fresh copy of a chunk whether or not the index names one already — a
  // repair of a damaged copy (the caller has checked `chunk` against its id). From the next
  // commit on the index names the fresh copy; the damaged bytes are dead space in their pack.
  Status Replace(const PreparedChunk& chunk);
  // Writer: makes everything Put so far durable and visible (fsync, then index commit).
  Status Commit();

  // Writer: garbage collection (chunk_store_gc.cc). Keeps the chunk indexes `keep` names
  // (ids not stored are counted and skipped) and every chunk they name; forgets every other
  // chunk index and chunk, then compacts the packs GcOptions::min_live_fraction says are too
  // empty: their kept chunks are appended afresh (bytes copied as stored, their XXH3 and
  // record checked on the way), committed, and only then the packs are forgotten and removed.
  // Crash-safe at every operation: what `keep` names is never lost; a crash leaves at most the
  // copies made so far as dead space (the next collection reclaims it), and packs forgotten
  // but not yet removed are removed when the store is next opened for writing. Commits what
  // was Put before. kCorruption naming the index if a kept chunk index fails its check
  // (nothing is changed: what it names cannot be known; `store verify` / the scrub find it).
  // Readers may run beside it: a read of a chunk being moved finds its new place.
  Result<GcReport> CollectGarbage(const std::vector<ChunkId>& keep, const GcOptions& options);

  Result<StoreStats> Stats() const;
  // The index's LMDB map: pages in use and its size (cheap; no iteration).
  Result<LmdbIndex::MapUsage> IndexUsage() const { return index_->Usage(); }

  // Re-reads every chunk with ReadCheck::kFull and every chunk index (hash, format, all its
  // chunks present). `progress(done, total)` is called now and then with chunk counts.
  // Thread-safe beside the writer: it checks the entries committed when it starts.
  Result<VerifyReport> Verify(const std::function<void(uint64_t, uint64_t)>& progress) const;
  Result<VerifyReport> Verify(const VerifyOptions& options) const;

  const std::string& dir() const { return dir_; }

  // Public only for std::make_unique; use Open().
  ChunkStore(std::string dir, const ChunkStoreOptions& options, std::unique_ptr<LmdbIndex> index);

 private:
  struct ChunkIdHash {
    size_t operator()(const ChunkId& id) const;
  };

  Status RecoverForWriting();
  Status Append(const PreparedChunk& chunk);
  Status StartPack(uint32_t pack);
  Result<std::vector<uint8_t>> ReadChunkAt(const ChunkId& id, const ChunkLocation& loc,
                                           ReadCheck check) const;
  void VerifyIndexes(const std::unordered_set<ChunkId, ChunkIdHash>& good,
                     VerifyReport* report) const;
  Result<std::shared_ptr<const RandomAccessFile>> PackFile(uint32_t pack) const;
  // Reads at `loc`; if that fails because the chunk moved meanwhile (a compaction), reads it
  // at its new place.
  Result<std::vector<uint8_t>> ReadChunk(const ChunkId& id, const ChunkLocation& loc,
                                         ReadCheck check) const;
  Result<Stored> ReadStoredAt(const ChunkId& id, const ChunkLocation& loc) const;
  // True when the index now places `id` elsewhere than `loc`, or nowhere (a collection
  // moved or forgot it).
  bool Moved(const ChunkId& id, const ChunkLocation& loc) const;
  void ClosePack(uint32_t pack);
  std::string PackPath(uint32_t pack) const;
  Status Fail(Status s);

  const std::string dir_;
  const ChunkStoreOptions options_;
  Env* const env_;
  std::unique_ptr<LmdbIndex> index_;
  std::unique_ptr<FileLock> lock_;  // held by a writer

  // Open pack files for reading, by pack number.
  mutable Mutex packs_mu_;
  // Shared: a reader keeps its pack open while a collection removes it.
  mutable std::map<uint32_t, std::shared_ptr<const RandomAccessFile>> open_packs_
      GUARDED_BY(packs_mu_);

  // Writer state (one thread at a time).
  std::unique_ptr<ZstdCodec> codec_;
  std::unique_ptr<WritableFile> pack_out_;
  uint32_t pack_no_ = 0;         // pack being appended to (0: none yet)
  uint32_t next_pack_ = 1;       // number of the next pack to create
  uint64_t pack_len_ = 0;        // its length including uncommitted appends
  bool pack_dir_dirty_ = false;  // a pack file was created since the last commit
  uint64_t pending_bytes_ = 0;
  IndexBatch batch_;
  mutable Mutex pending_mu_;
  std::unordered_map<ChunkId, ChunkLocation, ChunkIdHash> pending_ GUARDED_BY(pending_mu_);
  Status broken_;  // sticky writer failure
};

}  // namespace tiersync::replication

#endif  // TIERSYNC_REPLICATION_CHUNK_STORE_H_
