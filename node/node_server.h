// NodeServer: a running node (`tiersync node serve`): the HTTP API for children and users,
// and the sync loop that keeps the node on the newest national release.
//
// HTTP (docs/protocol.md), beyond RepositoryService's /v1/metadata, /v1/targets, /v1/chunks,
// /v1/indexes and /metrics:
//   GET  /v1/catalog.git/...       the catalog, releases up to the served one (git smart HTTP)
//   GET  /v1/events?after=V        push: answers {"version": W} as soon as a release W > V is
//                                  served (at once if it already is); after 25 s with the
//                                  current version, so children simply ask again
//   POST /v1/reports               a child's report (JSON: name, tier, region, subscription,
//                                  release); its subscription joins this node's plan
//   GET  /v1/status                the node's state as JSON (what `tiersync node status` shows)
//
// Sync loop: a cycle at start, then whenever the first reachable source announces a newer
// release (push), and at the latest every poll_seconds (±20% jitter). After each cycle the node
// writes state.json, tells its own children (push), and reports to its parent.
#ifndef TIERSYNC_NODE_NODE_SERVER_H_
#define TIERSYNC_NODE_NODE_SERVER_H_

#include <memory>
#include <string>

#include "base/status.h"
#include "node/http_server.h"

namespace tiersync::node {

class NodeServer {
 public:
  ~NodeServer();
  // Opens the node in `dir` (takes its lock, opens its store for writing).
  static Result<std::unique_ptr<NodeServer>> Open(const std::string& dir);
  // Listens on the configured address (port 0: any; `listen_override` replaces the address
  // when not empty) and returns the bound port.
  Result<uint16_t> Listen(const std::string& listen_override);
  // Serves and syncs until SIGINT/SIGTERM.
  Status Run();

  struct Impl;

 private:
  explicit NodeServer(std::shared_ptr<Impl> impl);
  // Shared with the push thread, which may sit in a long-poll when the server stops: it keeps
  // what it uses alive until it returns.
  std::shared_ptr<Impl> impl_;
};

}  // namespace tiersync::node

#endif  // TIERSYNC_NODE_NODE_SERVER_H_
