// FileCache: files a node fetched on a miss (the `proxy` policy, docs/serving.md), whole or in
// part, kept within a byte quota; the least recently used go first.
//
//   <dir>/<sha256>          a cached file's bytes, complete
//   <dir>/<sha256>.idx      its encoded chunk index (checked against the catalog record's id)
//   <dir>/partial/<sha256>  a file being filled: its chunks appended in the order they arrived
//                           (checked against their SHA-256 first), from any readers, ranges or
//                           whole; where each chunk lies is kept in memory
//   <dir>/tmp/              a file being assembled from its partial copy
// partial/ and tmp/ are cleared at open (their chunk maps were in memory).
//
// Every byte on disk counts in the quota — cached files, partial copies and files being
// assembled — and room for a chunk is made (evicting the least recently used files or partial
// copies, never the one being filled) before it is written; if there is no room it is not kept.
// When the last chunk of a partial copy arrives, Complete() makes it a cached file: if the
// chunks came in order the partial copy is the file (its SHA-256 was computed as it grew);
// otherwise the chunks are copied in order into tmp/, each checked again. Either way the whole
// file's SHA-256 is checked, it is fsynced and renamed into place with its index.
//
// Reads check every chunk against its SHA-256 again (the cache, unlike the chunk store, has no
// checksums of its own); a damaged cached file is dropped, a damaged chunk of a partial copy
// forgotten. Recency lives in memory; after a restart the cache time orders the files.
// Thread-safe. Lock order: a Partial's lock, then the cache's.
#ifndef TIERSYNC_NODE_FILE_CACHE_H_
#define TIERSYNC_NODE_FILE_CACHE_H_

#include <atomic>
#include <cstdint>
#include <list>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "base/env.h"
#include "base/mutex.h"
#include "base/sha256.h"
#include "base/thread_annotations.h"
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
  // True if the whole file is cached.
  bool Contains(const Sha256Digest& sha256);

  class Partial;
  // The partial copy of the file `index` describes: the one being filled if there is one
  // (every reader of the file shares it), else a new empty one. nullptr when the file cannot be
  // cached: caching off, bigger than the quota, already cached whole, or the disk refused.
  // REQUIRES: `index` was checked against the catalog record; `index_bytes` encode it.
  std::shared_ptr<Partial> OpenPartial(const protocol::ChunkIndex& index,
                                       std::vector<uint8_t> index_bytes);
  // The partial copy of the file with this SHA-256, if one is being filled.
  std::shared_ptr<Partial> FindPartial(const Sha256Digest& sha256);

  struct Stats {
    uint64_t files = 0;  // whole files
    uint64_t bytes = 0;  // everything on disk: whole files, partial copies, assembly
    uint64_t quota = 0;
    uint64_t evicted = 0;  // whole files and partial copies evicted for room
    uint64_t dropped_damaged = 0;
    uint64_t partial_files = 0;  // partial copies being filled
    uint64_t partial_bytes = 0;  // their bytes (included in `bytes`)
  };
  Stats stats();

  // Forgets and removes a whole file found damaged.
  void Drop(const Sha256Digest& sha256);

  FileCache(Env* env, std::string dir, uint64_t quota)
      : env_(env), dir_(std::move(dir)), quota_(quota) {}

 private:
  friend class Partial;
  void Add(const Sha256Digest& sha256, uint64_t size);
  // Makes room for `bytes` more of partial copy `sha256` (evicting others) and counts them;
  // false if there is no room or the partial copy was evicted.
  bool Reserve(const Sha256Digest& sha256, uint64_t bytes);
  void Unreserve(const Sha256Digest& sha256, uint64_t bytes);
  // The partial copy became the whole file of `size` bytes, in place.
  void Promote(const Sha256Digest& sha256, uint64_t size);
  // Forgets a partial copy (e.g. found damaged beyond use); its file is removed.
  void ForgetPartial(const Sha256Digest& sha256);
  // Evicts least recently used entries other than `keep` until `need` more bytes fit.
  bool EvictLocked(const Sha256Digest* keep, uint64_t need) REQUIRES(mu_);
  void RemoveLocked(const Sha256Digest& sha256) REQUIRES(mu_);
  std::string PathOf(const Sha256Digest& sha256) const;
  std::string PartialPathOf(const Sha256Digest& sha256) const;
  std::string TmpPathOf(const Sha256Digest& sha256) const;

  Env* env_;
  std::string dir_;
  uint64_t quota_;
  Mutex mu_;
  std::list<Sha256Digest> lru_ GUARDED_BY(mu_);  // most recent first; whole files and partials
  struct Slot {
    uint64_t size;  // bytes on disk
    std::list<Sha256Digest>::iterator pos;
    std::shared_ptr<Partial> partial;  // null for a whole file
  };
  std::map<Sha256Digest, Slot> files_ GUARDED_BY(mu_);
  uint64_t bytes_ GUARDED_BY(mu_) = 0;
  uint64_t evicted_ GUARDED_BY(mu_) = 0;
  uint64_t damaged_ GUARDED_BY(mu_) = 0;
};

// A file being filled chunk by chunk, in any order. Thread-safe.
class FileCache::Partial {
 public:
  Partial(std::weak_ptr<FileCache> cache, protocol::ChunkIndex index,
          std::vector<uint8_t> index_bytes, std::unique_ptr<WritableFile> out,
          std::unique_ptr<RandomAccessFile> in);

  const protocol::ChunkIndex& index() const { return index_; }
  const std::vector<uint8_t>& index_bytes() const { return index_bytes_; }
  bool Has(size_t i);
  // Chunk i, checked against its SHA-256; nullopt if it is not here (a damaged one is
  // forgotten, and the caller fetches it again).
  std::optional<std::vector<uint8_t>> Read(size_t i);
  // Keeps chunk i. REQUIRES: `chunk` was checked against index().chunks[i]. True if it was
  // kept; false if there was no room, the disk refused or the copy was evicted (nothing kept).
  bool Put(size_t i, ByteSpan chunk);
  // True once every chunk is here (Complete() is then due).
  bool full();
  // True if full and the chunks came in order: Complete() only syncs and renames.
  bool CompletesInPlace();
  // Makes the full partial copy a whole cached file (may copy the file: call it off the
  // request path); once only, later calls return OK at once. Readers are not held up
  // meanwhile, and Read() still answers afterwards. On failure the copy is forgotten.
  Status Complete();

  // Called by the cache, with its lock held, when it evicts or forgets the copy.
  void Kill() { dead_ = true; }

 private:
  // Complete()'s two ways. They read and reset the members below without the lock: once
  // `completing_` is set (by Complete(), under the lock) nothing else changes them.
  Status CompleteInOrder() NO_THREAD_SAFETY_ANALYSIS;
  Status CompleteByCopy() NO_THREAD_SAFETY_ANALYSIS;

  std::weak_ptr<FileCache> cache_;
  const protocol::ChunkIndex index_;
  const std::vector<uint8_t> index_bytes_;
  std::atomic<bool> dead_{false};
  const std::unique_ptr<RandomAccessFile> in_;  // ReadAt is thread-safe
  Mutex mu_;
  std::unique_ptr<WritableFile> out_ GUARDED_BY(mu_);
  // Offset of chunk i in the partial file, -1 when absent.
  std::vector<int64_t> where_ GUARDED_BY(mu_);
  size_t present_ GUARDED_BY(mu_) = 0;
  uint64_t size_ GUARDED_BY(mu_) = 0;    // bytes appended
  size_t in_order_ GUARDED_BY(mu_) = 0;  // chunks 0..in_order_-1 were appended first, in order
  Sha256Hasher hasher_ GUARDED_BY(mu_);  // over chunks 0..in_order_-1
  // Complete() has begun: where_ and out_ no longer change.
  bool completing_ GUARDED_BY(mu_) = false;
  bool completed_ GUARDED_BY(mu_) = false;
};

}  // namespace tiersync::node

#endif  // TIERSYNC_NODE_FILE_CACHE_H_
