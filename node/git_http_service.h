// GitHttpService: the node's catalog repository over git's smart HTTP protocol, read-only
// (catalogs/git_upload_pack.h does the protocol; this is the HTTP side). Under the prefix the
// caller routes here (/v1/catalog.git):
//   GET  /info/refs?service=git-upload-pack  the advertisement of the releases up to
//                                            served_release() (Cache-Control: no-cache)
//   POST /git-upload-pack                    negotiation and the pack (Content-Type
//                                            application/x-git-upload-pack-request; a body with
//                                            Content-Encoding gzip is inflated, at most 4 MiB)
// Stock git clones with `git clone http://HOST:PORT/v1/catalog.git`; catalogs/git_fetch.h
// fetches from it.
//
// Memory per request is bounded: the pack is written to a scratch file as libgit2 produces
// it (GitHttpOptions::scratch_dir; the file is unlinked as soon as it is open again for
// reading, so nothing is left behind, even by a crash, beyond what the next start removes)
// and streamed out in pieces of at most piece_bytes. At most max_concurrent_builds packs are
// built at once (the packer's delta search is what costs memory); a request beyond that gets
// 503 with Retry-After, which git and catalogs/git_fetch.h treat as "try later / elsewhere".
//
// Refused: pushing (git-receive-pack, either endpoint) 403; the "dumb" protocol (info/refs
// without a service, object paths) 403/404 saying smart HTTP is required; a wrong method 405;
// a wrong content type or encoding 415; an inflated body over 4 MiB 413; a malformed or refused
// request (bad pkt-line, unadvertised want, too many lines, bad gzip) 400 with the reason;
// a damaged or missing repository 500 (503 when retryable).
//
// Thread-safe: Handle() runs on the HTTP server's workers, concurrently.
#ifndef TIERSYNC_NODE_GIT_HTTP_SERVICE_H_
#define TIERSYNC_NODE_GIT_HTTP_SERVICE_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "base/env.h"
#include "node/http_server.h"

namespace tiersync::node {

struct GitHttpOptions {
  Env* env = Env::Default();  // the scratch files
  std::string scratch_dir;    // empty: <repo_dir>/tiersync-upload-pack (emptied at start)
  size_t max_concurrent_builds = 2;
  size_t piece_bytes = 64 << 10;  // most bytes of the pack one streamed piece carries
  int retry_after_seconds = 5;    // in the 503 beyond max_concurrent_builds
  // Tests: called while a build holds its slot, before the pack is built.
  std::function<void()> on_build;
};

class GitHttpService {
 public:
  static constexpr size_t kMaxInflatedBytes = 4 << 20;

  // repo_dir: the bare catalog repository (catalogs::GitCatalog). served_release(): the
  // highest release to expose, called once per request.
  GitHttpService(std::string repo_dir, std::function<uint64_t()> served_release,
                 GitHttpOptions options = {});

  // `rest` is the request target after the prefix, query included (e.g.
  // "/info/refs?service=git-upload-pack").
  HttpReply Handle(const HttpRequest& request, std::string_view rest);

 private:
  HttpReply InfoRefs(const HttpRequest& request, std::string_view query);
  HttpReply UploadPack(const HttpRequest& request);
  HttpReply BuildAndStream(const std::string& request_body);

  std::string repo_dir_;
  std::function<uint64_t()> served_release_;
  GitHttpOptions options_;
  std::atomic<size_t> building_{0};
  std::atomic<uint64_t> next_scratch_{0};
};

}  // namespace tiersync::node

#endif  // TIERSYNC_NODE_GIT_HTTP_SERVICE_H_
