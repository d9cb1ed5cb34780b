// FileCache: whole files a node fetched on a miss (the `proxy` policy, docs/serving.md), kept
// within a byte quota; the least recently used go first.
//
//   <dir>/<sha256>      the file's bytes, complete
//   <dir>/<sha256>.idx  its encoded chunk index (checked against the catalog record's id)
//   <dir>/tmp/          files being filled (cleared at open)
//
// A file enters the cache only complete: written to tmp/ chunk by chunk as it is streamed to
// the client (every chunk already checked against its SHA-256), then its whole SHA-256 is
// checked, it is fsynced and renamed into place. Reads check every chunk against its SHA-256
// again (the cache, unlike the chunk store, has no checksums of its own); a damaged file is
// dropped. Recency lives in memory; after a restart the cache time orders the files.
// Thread-safe.
#ifndef TIERSYNC_NODE_FILE_CACHE_H_
#define TIERSYNC_NODE_FILE_CACHE_H_

#include <cstdint>
#include <list>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "base/env.h"
#include "base/sha256.h"
#include "node/file_reply.h"
#include "protocol/chunk_index.h"

namespace tiersync::node {

class FileCache : public std::enable_shared_from_this<FileCache> {
 public:
  // Opens (creating if needed) the cache in `dir`. `quota` 0 disables caching.
  static Result<std::shared_ptr<FileCache>> Open(Env* env, std::string dir, uint64_t quota);

  // The cached file with this SHA-256 and its index, marked as just used; nullopt if absent.
  struct Entry {
    protocol::ChunkIndex index;
    std::shared_ptr<ChunkSource> source;
  };
  std::optional<Entry> Find(const Sha256Digest& sha256);
  bool Contains(const Sha256Digest& sha256);

  // Fills one file: Append() every chunk in order, then Commit().
  class Writer {
   public:
    virtual ~Writer() = default;
    virtual Status Append(std::string_view chunk) = 0;
    // Checks size and SHA-256 against the index, syncs, renames into place, evicts.
    virtual Status Commit() = 0;
  };
  // A writer for the file `index` describes, or nullptr when it cannot be cached (bigger than
  // the quota, caching off, or already cached).
  std::unique_ptr<Writer> Create(const protocol::ChunkIndex& index,
                                 std::vector<uint8_t> index_bytes);

  struct Stats {
    uint64_t files = 0, bytes = 0, quota = 0, evicted = 0, dropped_damaged = 0;
  };
  Stats stats();

  // Forgets and removes a file found damaged.
  void Drop(const Sha256Digest& sha256);

  FileCache(Env* env, std::string dir, uint64_t quota)
      : env_(env), dir_(std::move(dir)), quota_(quota) {}

 private:
  class FileWriter;
  void Add(const Sha256Digest& sha256, uint64_t size);
  void EvictLocked();
  std::string PathOf(const Sha256Digest& sha256) const;

  Env* env_;
  std::string dir_;
  uint64_t quota_;
  std::mutex mu_;
  std::list<Sha256Digest> lru_;  // most recent first
  struct Slot {
    uint64_t size;
    std::list<Sha256Digest>::iterator pos;
  };
  std::map<Sha256Digest, Slot> files_;
  uint64_t bytes_ = 0, evicted_ = 0, damaged_ = 0;
};

}  // namespace tiersync::node

#endif  // TIERSYNC_NODE_FILE_CACHE_H_
