// IngestFile: turns one file into verified, deduplicated chunks in a ChunkStore and records
// its chunk index. The file's chunk-index id is what the signed metadata names.
//
// Pipeline (threads >= 2): the calling thread reads the file, hashes it whole (SHA-256) and
// finds cut points (FastCDC); a second thread hashes each chunk, skips chunks the store has,
// compresses the rest when that pays, and appends them. With threads == 1 everything runs on
// the calling thread in a fixed order (deterministic I/O order for crash-point tests).
//
// Durability: the chunk index is committed in the same store commit as (or after) the last
// of its chunks, so a committed index never names a chunk that a crash can take away. A
// failed ingest leaves the store consistent; running it again stores only what is missing.
#ifndef TIERSYNC_REPLICATION_FILE_INGEST_H_
#define TIERSYNC_REPLICATION_FILE_INGEST_H_

#include <cstdint>
#include <functional>
#include <string>

#include "base/env.h"
#include "protocol/chunk_index.h"
#include "replication/chunk_store.h"

namespace tiersync::replication {

struct IngestOptions {
  protocol::ChunkerParams params;
  int threads = 2;
  size_t read_block_bytes = 4 << 20;
  // Called with (bytes read, file size) now and then. May be empty.
  std::function<void(uint64_t, uint64_t)> progress;
  // Commit the store when the file is done (durable on return). Callers ingesting many small
  // files turn this off and call ChunkStore::Commit() once (one fsync instead of one per file);
  // the store still commits by itself every auto_commit_bytes.
  bool commit = true;
};

struct IngestResult {
  protocol::ChunkId index_id{};
  uint64_t file_size = 0;
  Sha256Digest file_sha256{};
  uint64_t chunks = 0;
  uint64_t new_chunks = 0;
  uint64_t new_raw_bytes = 0;     // uncompressed bytes of chunks the store did not have
  uint64_t new_stored_bytes = 0;  // what those took in the store
};

// REQUIRES: `store` is open for writing. `env` reads `path`.
Result<IngestResult> IngestFile(ChunkStore* store, Env* env, const std::string& path,
                                const IngestOptions& options);

}  // namespace tiersync::replication

#endif  // TIERSYNC_REPLICATION_FILE_INGEST_H_
