// GitHttpService: the node's catalog repository over git's smart HTTP protocol, read-only
// (catalogs/git_transport.h does the protocol; this is the HTTP side). Under the prefix the
// caller routes here (/v1/catalog.git):
//   GET  /info/refs?service=git-upload-pack  the advertisement of the releases up to
//                                            served_release() (Cache-Control: no-cache)
//   POST /git-upload-pack                    negotiation and the pack (Content-Type
//                                            application/x-git-upload-pack-request; a body with
//                                            Content-Encoding gzip is inflated, at most 4 MiB)
// Stock git clones with `git clone http://HOST:PORT/v1/catalog.git`; catalogs::FetchCatalog
// mirrors it.
//
// Refused: pushing (git-receive-pack, either endpoint) 403; the "dumb" protocol (info/refs
// without a service, object paths) 403/404 saying smart HTTP is required; a wrong method 405;
// a wrong content type or encoding 415; an inflated body over 4 MiB 413; a malformed or refused
// request (bad pkt-line, unadvertised want, too many lines, bad gzip) 400 with the reason;
// a damaged or missing repository 500 (503 when retryable).
//
// Handle() runs on the HTTP server's io thread and builds the pack there (in memory).
#ifndef TIERSYNC_NODE_GIT_HTTP_SERVICE_H_
#define TIERSYNC_NODE_GIT_HTTP_SERVICE_H_

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "node/http_server.h"

namespace tiersync::node {

class GitHttpService {
 public:
  static constexpr size_t kMaxInflatedBytes = 4 << 20;

  // repo_dir: the bare catalog repository (catalogs::GitCatalog). served_release(): the
  // highest release to expose, called once per request.
  GitHttpService(std::string repo_dir, std::function<uint64_t()> served_release);

  // `rest` is the request target after the prefix, query included (e.g.
  // "/info/refs?service=git-upload-pack").
  HttpReply Handle(const HttpRequest& request, std::string_view rest);

 private:
  HttpReply InfoRefs(const HttpRequest& request, std::string_view query);
  HttpReply UploadPack(const HttpRequest& request);

  std::string repo_dir_;
  std::function<uint64_t()> served_release_;
};

}  // namespace tiersync::node

#endif  // TIERSYNC_NODE_GIT_HTTP_SERVICE_H_
