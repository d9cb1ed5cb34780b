// The files half of the user API (docs/serving.md, "Files", "Miss policy"): a resource file by
// name or by content address — from the chunk store when mirrored here, from the proxy cache,
// else by the miss policy: proxied through the tiers above (node/miss_proxy.h) or redirected
// to the first of them that holds it — and /v1/resolve. The tiers above are asked in the
// node's SourcePolicy order. Thread-safe.
#ifndef TIERSYNC_NODE_USER_FILES_API_H_
#define TIERSYNC_NODE_USER_FILES_API_H_

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "catalogs/resource.h"
#include "node/chunk_sources.h"
#include "node/file_cache.h"
#include "node/http_server.h"
#include "node/miss_proxy.h"
#include "node/node_config.h"
#include "node/usage_counter.h"
#include "node/user_catalog_api.h"
#include "replication/chunk_store.h"

namespace tiersync::node {

class UserFilesApi {
 public:
  // Nothing is owned but `cache` (may be null: no proxy cache); all must outlive the API.
  UserFilesApi(const NodeConfig& config, const replication::ChunkStore* store, Upstream up,
               std::shared_ptr<FileCache> cache, UsageCounter* usage);

  // True if the file is held here: in the store (per the snapshot) or whole in the cache.
  bool Local(const UserSnapshot& s, const catalogs::ResourceFile& f);

  // GET/HEAD of file `f` of `r`: by name (`content_address` false) or by content address.
  HttpReply ServeFile(const HttpRequest& request, const UserSnapshot& s,
                      const catalogs::Resource& r, const catalogs::ResourceFile& f,
                      bool content_address);
  // /v1/targets/<dir>/<id>/<sha256>.<name> (`seg`: the path's segments): the file if that is
  // one of the release's content addresses; nullopt for other targets (the repository's).
  std::optional<HttpReply> ContentAddressed(const HttpRequest& request, const UserSnapshot& s,
                                            const std::vector<std::string>& seg);
  // GET /v1/resolve/<id>: which tiers hold `r` (`here`: whether this node does).
  HttpReply Resolve(const catalogs::Resource& r, bool here);

  MissProxy::Stats proxy_stats() { return proxy_.stats(); }
  std::shared_ptr<FileCache> cache() const { return cache_; }

 private:
  HttpReply Miss(const HttpRequest& request, const catalogs::Resource& r,
                 const catalogs::ResourceFile& f, const FileInfo& info);
  HttpReply RedirectMiss(const HttpRequest& request, const catalogs::Resource& r,
                         const catalogs::ResourceFile& f);
  // Whether `url` (a content address on another tier) is held there.
  Result<bool> Holds(const std::string& url);

  const NodeConfig& config_;
  const replication::ChunkStore* store_;
  Upstream up_;
  std::shared_ptr<FileCache> cache_;
  UsageCounter* usage_;
  MissProxy proxy_;
};

}  // namespace tiersync::node

#endif  // TIERSYNC_NODE_USER_FILES_API_H_
