// RepositoryService: what a node serves from a TUF repository it holds, over HTTP (version 1
// of the API, docs/protocol.md):
//   GET /v1/metadata/<file>               the repository's metadata files, byte for byte
//                                          (N.root.json, timestamp.json, V.snapshot.json, ...);
//                                          503 for a root version below the first one held
//                                          (a node set up with a later root: not "no such
//                                          version", but "ask another source")
//   GET /v1/targets/<dir>/<sha256>.<name> a target by its consistent-snapshot name: from the
//                                          repository's targets/ directory if the file is there,
//                                          otherwise streamed from the chunk store through the
//                                          chunk index the signed entry names (custom field
//                                          chunk_index); every chunk is checked before it is sent;
//                                          byte ranges, ETag and conditional requests as for
//                                          users (node/file_reply.h); 404 unless every chunk of
//                                          the file is here
//   GET /v1/chunks/<sha256>               one chunk's bytes (checked)
//   POST /v1/chunks/batch                 many chunks in one response (protocol/chunk_batch.h)
//   GET /v1/indexes/<sha256>              an encoded chunk index (checked against its id)
//   GET /v1/status                        JSON: repository versions, store statistics
//   GET /metrics                          Prometheus text: requests by endpoint and status,
//                                          response body bytes by endpoint
// Content-addressed URLs (targets, chunks, versioned metadata) are immutable and say so in
// Cache-Control, so any HTTP cache in front of a node can serve them.
//
// The service never verifies signatures — clients do — and never signs anything. It re-reads
// the repository's metadata when timestamp.json changes, so a running hub serves each new
// release as soon as it is published.
#ifndef TIERSYNC_NODE_REPOSITORY_SERVICE_H_
#define TIERSYNC_NODE_REPOSITORY_SERVICE_H_

#include <map>
#include <memory>
#include <optional>
#include <string>

#include "base/env.h"
#include "base/mutex.h"
#include "base/thread_annotations.h"
#include "node/http_server.h"
#include "node/metrics_text.h"
#include "node/takedown.h"
#include "protocol/chunk_index.h"
#include "replication/chunk_store.h"

namespace tiersync::node {

class RepositoryService : public HttpHandler {
 public:
  // `tuf_dir` holds metadata/ and targets/ (replication::TufRepository's layout). `store` is
  // not owned and must outlive the service.
  RepositoryService(Env* env, std::string tuf_dir, const replication::ChunkStore* store);

  HttpReply Handle(const HttpRequest& request) override;

  // Serves another repository directory from now on (a node switching releases).
  void SetTufDir(std::string tuf_dir);
  // The families of /metrics this service knows: requests and response bytes by endpoint,
  // and the store's gauges (refreshed at most every kStoreStatsSeconds: counting a store
  // scans its index, which a scrape must not do each time). A wrapping handler appends its
  // own families.
  MetricsText Metrics();
  static constexpr uint64_t kStoreStatsSeconds = 60;
  // Counts a finished reply under `endpoint` in /metrics (and, for a streamed body, each piece
  // as it is produced); for replies a wrapping handler made.
  HttpReply Count(std::string endpoint, HttpReply reply);

 private:
  HttpReply Metadata(std::string_view name);
  // The 503 reply for "<N>.root.json" when N is below the first root version held; nullopt
  // for any other name.
  std::optional<HttpReply> RootBeforeChain(std::string_view name);
  HttpReply Target(const HttpRequest& request, std::string_view path);
  HttpReply Chunk(std::string_view hex);
  HttpReply Batch(const HttpRequest& request);
  HttpReply Index(std::string_view hex);
  HttpReply Status();
  // The store's statistics, counted at most every kStoreStatsSeconds.
  std::optional<replication::StoreStats> CachedStoreStats();
  // Rebuilds the consistent-snapshot name -> chunk index map if timestamp.json changed.
  void Refresh();

  std::string TufDir();

  Env* env_;
  const replication::ChunkStore* store_;
  Mutex mu_;
  std::string tuf_dir_ GUARDED_BY(mu_);
  FileStat timestamp_stat_ GUARDED_BY(mu_){};
  // "<dir>/<sha256>.<name>" -> index
  std::map<std::string, protocol::ChunkId> chunked_ GUARDED_BY(mu_);
  // "<dir>/<sha256>.<name>" -> why: targets withdrawn by signed retractions (410)
  std::map<std::string, Withdrawal> withdrawn_ GUARDED_BY(mu_);
  std::string refresh_error_ GUARDED_BY(mu_);
  std::optional<replication::StoreStats> store_stats_ GUARDED_BY(mu_);
  uint64_t store_stats_at_us_ GUARDED_BY(mu_) = 0;
  // Of the repository last Refresh()ed.
  uint64_t root_version_ GUARDED_BY(mu_) = 0;
  uint64_t targets_version_ GUARDED_BY(mu_) = 0;
  uint64_t first_root_version_ GUARDED_BY(mu_) = 0;  // of the repository last read by Refresh()
  // Shared with streamed bodies, which outlive Handle().
  struct Counters {
    Mutex mu;
    // (endpoint, status)
    std::map<std::pair<std::string, int>, uint64_t> requests GUARDED_BY(mu);
    std::map<std::string, uint64_t> bytes GUARDED_BY(mu);  // endpoint
  };
  std::shared_ptr<Counters> counters_ = std::make_shared<Counters>();
};

// The reply to GET /metrics with `metrics` (uncached).
HttpReply MetricsReply(const MetricsText& metrics);

}  // namespace tiersync::node

#endif  // TIERSYNC_NODE_REPOSITORY_SERVICE_H_
