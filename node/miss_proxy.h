// MissProxy: the `proxy` miss policy (docs/serving.md): a file a user asks for that is not
// stored here is fetched from the tiers above as the user reads it, checked chunk by chunk,
// and kept in the proxy cache (node/file_cache.h).
//
// What a miss costs the tiers above:
//   * the chunk index once per file while anyone reads it (or never, when the cache holds a
//     partial copy with its index), fetched on the proxy's own threads: the HTTP handler
//     returns a deferred reply at once (HttpReply::wait) and the reply is resumed from there,
//     so no HTTP worker waits on the network for an index;
//   * only the chunks the requested ranges need (FileReply says which: ChunkSource::Want),
//     in batches of at most kProxyBatchBytes, plus at most kReadAheadBytes past a range that
//     starts where an earlier range of the same file ended (a sequential reader);
//   * each chunk once, however many read the file at the same time: a per-file in-flight table
//     (MissFile) marks the chunks being fetched, and other readers wait for them instead of
//     asking again; chunks already fetched are read from the partial copy in the cache (or,
//     when the cache cannot keep them, from a small per-file memory window).
// Sources are asked through replication/source_walk.h with the node's SourcePolicy (shared
// with the sync); a chunk or index failing its check is a rejection against its source.
//
// Thread safety: Serve() is called concurrently from the HTTP workers; the streamed pieces of
// its replies read chunks from any thread. The destructor joins the proxy's threads; replies
// still streaming keep what they need alive.
#ifndef TIERSYNC_NODE_MISS_PROXY_H_
#define TIERSYNC_NODE_MISS_PROXY_H_

#include <cstdint>
#include <memory>
#include <string>

#include "node/chunk_sources.h"
#include "node/file_cache.h"
#include "node/file_reply.h"
#include "node/http_server.h"
#include "protocol/chunk_index.h"

namespace tiersync::node {

inline constexpr size_t kMissThreads = 2;                       // index fetches and file assembly
inline constexpr size_t kMaxPendingMisses = 64;                 // index fetches queued; beyond: 503
inline constexpr size_t kMissHeldBytes = 2 * kProxyBatchBytes;  // per file, not cached chunks
inline constexpr size_t kRecentRanges = 8;                      // per file, for sequential readers

// Marks `reply` as one whose streamed pieces wait on the tiers above (HttpReply::upstream), so
// that the server runs them on its pool of ServerLimits::upstream_threads instead of the
// workers that serve children's chunk batches and /v1/events.
void MarkUpstream(HttpReply& reply);

class MissProxy {
 public:
  // `up` is how the tiers above are reached (its pointers must outlive the proxy and every
  // reply it made). `cache` may be null (nothing kept).
  MissProxy(Upstream up, std::shared_ptr<FileCache> cache);
  ~MissProxy();
  MissProxy(const MissProxy&) = delete;
  MissProxy& operator=(const MissProxy&) = delete;

  // The file a user asked for, as the verified catalog record names it.
  struct MissedFile {
    protocol::ChunkId index_id{};
    uint64_t size = 0;
    Sha256Digest sha256{};
    std::string name;  // for messages, e.g. "<resource id>/<file name>"
  };
  // The answer to `request` (GET or HEAD, any Range) for `file`. Deferred (`wait` set) unless
  // the file's chunk index is already here; resumed with the file reply (header
  // X-Tiersync-Source: the URL of the source that gave the index), a 502 page when no source
  // gives the index, or a 503 when kMaxPendingMisses index fetches are already waiting.
  HttpReply Serve(const HttpRequest& request, const MissedFile& file, const FileInfo& info);

  struct Stats {
    uint64_t index_fetches = 0;    // chunk indexes asked of the tiers above
    uint64_t batches = 0;          // chunk batches asked of the tiers above
    uint64_t chunk_bytes = 0;      // verified chunk bytes they sent
    uint64_t merged = 0;           // chunk reads that waited for another reader's fetch
    uint64_t in_flight_files = 0;  // files being read through the proxy now
  };
  Stats stats();

  struct Core;

 private:
  std::shared_ptr<Core> core_;
};

}  // namespace tiersync::node

#endif  // TIERSYNC_NODE_MISS_PROXY_H_
