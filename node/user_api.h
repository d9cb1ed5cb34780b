// UserApi: what a node serves its region's teachers and students (docs/serving.md): the
// catalog of the served release (browse, search, detail), files with ranges and conditional
// requests, the miss policy (proxy through the sources with a cache, or redirect to the
// nearest tier that holds the file), /v1/resolve, usage counting, and the web UI.
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
#include <thread>

#include "base/env.h"
#include "node/http_server.h"
#include "node/node_config.h"
#include "node/node_dir.h"
#include "replication/chunk_store.h"
#include "replication/fetcher.h"

namespace tiersync::node {

class UserApi {
 public:
  // Nothing is owned; all must outlive the UserApi. `fetcher` is used for the miss policy and
  // /v1/resolve (short timeouts).
  UserApi(Env* env, const NodePaths& paths, const NodeConfig& config,
          const replication::ChunkStore* store, replication::Fetcher* fetcher);
  ~UserApi();  // writes the usage counts

  // Opens the proxy cache and reads the usage counts of the last days. Starts the usage writer.
  Status Open();

  // Serves release directory `release_dir` (a name under releases/) from now on: reads and
  // checks its catalog against the manifest the release directory holds, indexes it, and
  // finds which of its files are stored here. On error the previous catalog stays.
  Status SetRelease(const std::string& release_dir);

  // The reply, or nullopt if `request` is not for this API (the caller goes on routing).
  std::optional<HttpReply> Handle(const HttpRequest& request);

  // "usage" and "serving" for /v1/status.
  nlohmann::json StatusJson();

  // Writes changed usage days now.
  Status FlushUsage();

  struct Impl;

 private:
  std::shared_ptr<Impl> impl_;
  std::thread flusher_;
};

}  // namespace tiersync::node

#endif  // TIERSYNC_NODE_USER_API_H_
