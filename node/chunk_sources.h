// Where the chunks of a file a user asked for come from (node/file_reply.h's ChunkSource):
//   StoreChunks     the node's chunk store (mirrored files), checked by the store's checksum
//   UpstreamChunks  the node's sources, in order, on a miss (the `proxy` policy): fetched in
//                   batches, each chunk checked against its SHA-256 before it is handed out,
//                   optionally written through to the proxy cache
// and how to find and fetch a file's chunk index from the sources.
#ifndef TIERSYNC_NODE_CHUNK_SOURCES_H_
#define TIERSYNC_NODE_CHUNK_SOURCES_H_

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "node/file_cache.h"
#include "node/file_reply.h"
#include "protocol/chunk_index.h"
#include "replication/chunk_store.h"
#include "replication/fetcher.h"

namespace tiersync::node {

inline constexpr size_t kProxyBatchBytes = 8 << 20;  // chunk bytes asked for per batch
inline constexpr size_t kProxyBatchChunks = 256;

class StoreChunks : public ChunkSource {
 public:
  // `store` is not owned and must outlive the source.
  StoreChunks(const replication::ChunkStore* store, const protocol::ChunkIndex& index,
              replication::ReadCheck check);
  Result<std::vector<uint8_t>> Read(size_t i) override;

 private:
  const replication::ChunkStore* store_;
  std::vector<protocol::ChunkId> ids_;
  replication::ReadCheck check_;
};

// True if every chunk of `index` is in the store.
bool AllChunksPresent(const replication::ChunkStore& store, const protocol::ChunkIndex& index);

// A file's chunk index fetched from the first of `sources` that has it and checked: SHA-256 of
// the bytes equals `index_id`, and the index describes a file of `size` bytes and `sha256`.
// Returns the index and its bytes, and in `source` the position of the source that gave it.
struct FetchedIndex {
  protocol::ChunkIndex index;
  std::vector<uint8_t> bytes;
  size_t source = 0;
};
Result<FetchedIndex> FetchIndex(replication::Fetcher* fetcher,
                                const std::vector<std::string>& sources,
                                const protocol::ChunkId& index_id, uint64_t size,
                                const Sha256Digest& sha256);

class UpstreamChunks : public ChunkSource {
 public:
  // `fetcher` is not owned and must outlive the source. `first` is the source to try first
  // (the one that had the index). `writer` (may be null) receives the chunks if they are read
  // in order from the first; it is committed when the last one was read, abandoned otherwise.
  UpstreamChunks(replication::Fetcher* fetcher, std::vector<std::string> sources, size_t first,
                 protocol::ChunkIndex index, std::unique_ptr<FileCache::Writer> writer);
  Result<std::vector<uint8_t>> Read(size_t i) override;
  void Finished() override;

 private:
  Status FetchFrom(size_t source, size_t first);

  replication::Fetcher* fetcher_;
  std::vector<std::string> sources_;
  size_t current_;
  protocol::ChunkIndex index_;
  std::unique_ptr<FileCache::Writer> writer_;
  size_t next_write_ = 0;
  std::map<size_t, std::vector<uint8_t>> buffered_;  // checked chunks fetched ahead
};

}  // namespace tiersync::node

#endif  // TIERSYNC_NODE_CHUNK_SOURCES_H_
