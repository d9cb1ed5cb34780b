// UserApi: what a node serves its region's teachers and students (docs/serving.md): the
// catalog of the served release (browse, search, detail: node/user_catalog_api.h), files with
// ranges and conditional requests, the miss policy (proxy through the sources with a cache:
// node/miss_proxy.h, or redirect to the nearest tier that holds the file) and /v1/resolve
// (node/user_files_api.h), usage counting (node/usage_counter.h), and the web UI. This class
// routes requests to them and keeps the served release's snapshot.
//
// Threading: Handle() is called concurrently from the server's workers. SetRelease() (the sync
// thread, after a switch) builds the new catalog index and local-file set off to the side and
// swaps them in; requests in flight keep the snapshot they started with.
#ifndef TIERSYNC_NODE_USER_API_H_
#define TIERSYNC_NODE_USER_API_H_

#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "base/env.h"
#include "catalogs/resource.h"
#include "node/http_server.h"
#include "node/node_config.h"
#include "node/node_dir.h"
#include "replication/chunk_store.h"
#include "replication/fetcher.h"
#include "replication/source_policy.h"
#include "replication/source_walk.h"
#include "serving/usage.h"

namespace tiersync::node {

// The embedded web asset at the request's path (webui/assets.h), with its ETag, answering
// If-None-Match with 304; nullopt if there is none.
std::optional<HttpReply> WebAssetReply(const HttpRequest& request);

// The endpoint a users' request is counted under (tiersync_http_requests_total): "targets",
// "files", "catalog", "open", "resolve", "usage" or "ui".
std::string UserEndpoint(std::string_view target);

class UserApi {
 public:
  // Nothing is owned; all must outlive the UserApi. `fetcher` is used for the miss policy and
  // /v1/resolve (short timeouts). `sources` is the node's SourcePolicy, shared with the sync:
  // misses ask the tiers above in its order and record every answer in it. `rejected` (may be
  // empty) hears of every answer that failed verification ("<source name>: <reason>").
  UserApi(Env* env, const NodePaths& paths, const NodeConfig& config,
          const replication::ChunkStore* store, replication::Fetcher* fetcher,
          replication::SourcePolicy* sources, replication::RejectionSink rejected = nullptr);
  ~UserApi();  // writes the usage counts

  // Opens the proxy cache and reads the usage counts of the last days. Starts the usage writer
  // and the miss path's threads.
  Status Open();

  // Serves release directory `release_dir` (a name under releases/) from now on: reads and
  // checks its catalog against the manifest the release directory holds, indexes it, and
  // finds which of its files are stored here. On error the previous catalog stays.
  Status SetRelease(const std::string& release_dir);

  // The reply, or nullopt if `request` is not for this API (the caller goes on routing).
  std::optional<HttpReply> Handle(const HttpRequest& request);

  // The files of the served release's priority resources (emergency packages) that are served
  // (approved, not retired, not withdrawn).
  std::vector<catalogs::ResourceFile> PriorityFiles();

  // "usage" and "serving" for /v1/status.
  nlohmann::json StatusJson();

  // Writes changed usage days now.
  Status FlushUsage();

  // The usage of the last kUsageDaysInMemory days (node/usage_counter.h), for the report upward.
  std::vector<serving::UsageDay> RecentUsage();
  // The title and provider of resource `id` in the served catalog; nullopt if it has none.
  std::optional<std::pair<std::string, std::string>> TitleAndProvider(const std::string& id);

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace tiersync::node

#endif  // TIERSYNC_NODE_USER_API_H_
