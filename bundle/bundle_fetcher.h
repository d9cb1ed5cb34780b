// BundleFetcher: an offline bundle (bundle/bundle_layout.h) as the one source of a node's
// sync. It answers the requests a sync makes of a parent's /v1 API from the bundle's files, so
// that `bundle import` runs the node's own sync (node/node_sync.h: TUF metadata, the catalog
// over git's smart HTTP exchange, chunk indexes and chunk batches) with every check it makes
// of a parent's answers:
//   GET  <base>/v1/metadata/<name>, /v1/targets/<path>, /v1/indexes/<sha256>,
//        /v1/chunks/<sha256>                 the file of the same path (EnvFetcher's rules:
//                                             no "..", no escaped '/', nothing outside)
//   GET  <base>/v1/catalog.git/info/refs?service=git-upload-pack   v1/catalog.git/info-refs
//   POST <base>/v1/catalog.git/git-upload-pack                     v1/catalog.git/upload-pack
//        (the recorded answer whatever the request: a pack of the whole release; the
//        importer indexes it into quarantine and checks it against the signed manifest)
//   POST <base>/v1/chunks/batch              a chunk batch (protocol/chunk_batch.h) built
//        from v1/chunks/<sha256>: kChunk frames, kAbsent for chunks the bundle lacks, kNotSent
//        past kMaxBatchResponseBytes
// Everything else is kNotFound. The fetcher never checks content: the sync does.
//
// Thread-safe (the sync's chunk workers call it at once): it only reads files.
#ifndef TIERSYNC_BUNDLE_BUNDLE_FETCHER_H_
#define TIERSYNC_BUNDLE_BUNDLE_FETCHER_H_

#include <string>

#include "base/env.h"
#include "base/fetcher.h"
#include "replication/env_fetcher.h"

namespace tiersync::bundle {

class BundleFetcher : public Fetcher {
 public:
  // Serves URLs under `base_url` (e.g. "file:///media/usb/bundle", no trailing '/') from the
  // bundle directory `dir` through `env` (not owned).
  BundleFetcher(Env* env, std::string base_url, std::string dir);

  Result<std::vector<uint8_t>> Fetch(const std::string& url, size_t max_bytes) override;
  Result<std::vector<uint8_t>> Post(const std::string& url, std::string_view content_type,
                                    std::span<const uint8_t> body, size_t max_bytes) override;

 private:
  // The part of `url` after "<base_url>/", or kNotFound.
  Result<std::string> Relative(const std::string& url) const;
  Result<std::vector<uint8_t>> ChunkBatch(std::span<const uint8_t> body, size_t max_bytes);

  Env* env_;
  std::string base_url_;
  std::string dir_;
  replication::EnvFetcher files_;
};

}  // namespace tiersync::bundle

#endif  // TIERSYNC_BUNDLE_BUNDLE_FETCHER_H_
