// Where the chunks of a file a user asked for come from, and how the miss path asks the tiers
// above for them:
//   StoreChunks       the node's chunk store (mirrored files), checked by the store's checksum
//   FetchIndex        a file's chunk index from the first source that has it, checked against
//                     its id and against the catalog record (size, SHA-256)
//   PlanBatch         which chunks one upstream request asks for (pure): the chunk a reader
//                     needs now and the following ones its range needs, that nobody has or is
//                     fetching, within kProxyBatchBytes, plus at most kReadAheadBytes past the
//                     range for a sequential reader
//   FetchChunks       those chunks from the sources, each checked against its SHA-256
// Both fetches ask through replication/source_walk.h with the node's SourcePolicy (the one the
// sync uses): healthy sources first, a source that lacks a chunk is skipped without blame, one
// that sends bytes failing their check is a rejection (an attack) and is demoted longest.
#ifndef TIERSYNC_NODE_CHUNK_SOURCES_H_
#define TIERSYNC_NODE_CHUNK_SOURCES_H_

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "base/env.h"
#include "base/fetcher.h"
#include "node/file_reply.h"
#include "protocol/chunk_index.h"
#include "replication/chunk_store.h"
#include "replication/source_policy.h"
#include "replication/source_walk.h"

namespace tiersync::node {

inline constexpr size_t kProxyBatchBytes = 8 << 20;  // chunk bytes asked for per request, at most
inline constexpr size_t kProxyBatchChunks = 256;
inline constexpr size_t kReadAheadBytes = 1 << 20;  // past a sequential reader's range, at most

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

// How the miss path reaches the tiers above. Nothing is owned; all outlive its users.
struct Upstream {
  Fetcher* fetcher = nullptr;
  replication::SourcePolicy* sources = nullptr;
  Env* env = nullptr;
  replication::RejectionSink rejected;  // may be empty
};

// A file's chunk index, checked: SHA-256 of the bytes equals `index_id`, and the index
// describes a file of `size` bytes and `sha256`. `source` is the URL of the source that gave it.
struct FetchedIndex {
  protocol::ChunkIndex index;
  std::vector<uint8_t> bytes;
  std::string source;
};
Result<FetchedIndex> FetchIndex(const Upstream& up, const protocol::ChunkId& index_id,
                                uint64_t size, const Sha256Digest& sha256);

// The chunks to ask for when a reader needs chunk `first` of `index`, its range ends at chunk
// `want_last` (>= first), and `taken(j)` says chunk j is already here or on its way. The first
// is always asked for; then j = first+1.. while j is not taken, j <= want_last (or, for a
// `sequential` reader, the chunks past want_last stay within kReadAheadBytes), and the batch
// stays within kProxyBatchBytes and kProxyBatchChunks. Pure.
std::vector<size_t> PlanBatch(const protocol::ChunkIndex& index, size_t first, size_t want_last,
                              bool sequential, const std::function<bool(size_t)>& taken);

// Chunks `wanted` (numbers in `index`) from the sources, each checked against its id and its
// size. Sources are asked in policy order for what earlier ones lacked. Returns the chunks that
// arrived, by number; an error only if chunk wanted[0] arrived from no source.
Result<std::map<size_t, std::vector<uint8_t>>> FetchChunks(const Upstream& up,
                                                           const protocol::ChunkIndex& index,
                                                           const std::vector<size_t>& wanted);

}  // namespace tiersync::node

#endif  // TIERSYNC_NODE_CHUNK_SOURCES_H_
