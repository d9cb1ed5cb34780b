// LmdbIndex: the chunk store's index in LMDB, the only file that calls liblmdb.
//
// Databases:
//   chunks   chunk id (32 bytes)      -> ChunkLocation (32 bytes, pack_format.h)
//   indexes  chunk-index id (32 bytes) -> the encoded chunk index
//   packs    pack number (u32 big-endian, so keys sort numerically) -> committed length (u64 LE)
// LMDB does its own file I/O on a real directory (it is not routed through Env); it is
// crash-safe by design: a transaction is durable when Commit returns OK.
//
// Thread safety: every method may be called from any thread; writes are serialised by LMDB
// (one write transaction at a time, across processes too).
#ifndef TIERSYNC_REPLICATION_LMDB_INDEX_H_
#define TIERSYNC_REPLICATION_LMDB_INDEX_H_

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "base/status.h"
#include "replication/pack_format.h"

namespace tiersync::replication {

// Everything one store commit makes visible at once. Puts are applied before deletions.
struct IndexBatch {
  std::vector<std::pair<ChunkId, ChunkLocation>> chunks;
  std::vector<std::pair<ChunkId, std::vector<uint8_t>>> indexes;
  std::map<uint32_t, uint64_t> pack_lengths;
  // Forgotten (garbage collection); an absent key is not an error.
  std::vector<ChunkId> deleted_chunks;
  std::vector<ChunkId> deleted_indexes;
  std::vector<uint32_t> deleted_packs;
  bool empty() const {
    return chunks.empty() && indexes.empty() && pack_lengths.empty() && deleted_chunks.empty() &&
           deleted_indexes.empty() && deleted_packs.empty();
  }
};

class LmdbIndex {
 public:
  static constexpr uint64_t kMaxMapBytes = uint64_t{16} << 40;  // 16 TiB of address space

  ~LmdbIndex();

  // Opens (creating if `create`) the LMDB environment in directory `dir`. `map_bytes` bounds
  // the database size (address space only; the file grows as needed). The map grows before
  // it is full: opened with more than half of it in use, it is doubled (again while that
  // holds, up to kMaxMapBytes) — a node restarts long before a growing index fills a map
  // twice its size, and the alarm (node/garbage_collector.h, 80%) says so meanwhile. A map
  // recorded bigger in the file (an earlier growth) is kept.
  static Result<std::unique_ptr<LmdbIndex>> Open(const std::string& dir, bool create,
                                                 size_t map_bytes);

  // NotFound if absent; kCorruption if the stored value is malformed.
  Result<ChunkLocation> GetChunk(const ChunkId& id) const;
  Result<std::vector<uint8_t>> GetIndex(const ChunkId& id) const;
  // Committed length of every pack.
  Result<std::map<uint32_t, uint64_t>> PackLengths() const;

  // How much of the LMDB map the database takes: the pages in use (free pages inside the file
  // are reused) and the map's size. Commits fail kResourceExhausted once the map is full.
  struct MapUsage {
    uint64_t used_bytes = 0;
    uint64_t map_bytes = 0;
  };
  Result<MapUsage> Usage() const;

  // Calls `fn` for every chunk in id order, inside one read transaction (a consistent view).
  Status ForEachChunk(const std::function<void(const ChunkId&, const ChunkLocation&)>& fn) const;
  // Calls `fn` for every chunk index in id order (bytes valid only during the call).
  Status ForEachIndex(
      const std::function<void(const ChunkId&, std::span<const uint8_t>)>& fn) const;

  // Applies the batch in one write transaction. MDB_MAP_FULL and ENOSPC are
  // kResourceExhausted; nothing of a failed batch is visible.
  Status Commit(const IndexBatch& batch);

 private:
  struct Handles;

 public:
  // Use Open(); public only so that std::make_unique can call it.
  explicit LmdbIndex(std::unique_ptr<Handles> h);

 private:
  std::unique_ptr<Handles> h_;
};

}  // namespace tiersync::replication

#endif  // TIERSYNC_REPLICATION_LMDB_INDEX_H_
