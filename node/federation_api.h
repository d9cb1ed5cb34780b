// FederationApi: the view from the top (docs/operators/monitoring.md "The federation view"),
// served by the hub and by every upper tier for its own subtree from its FleetStore (fed by the
// reports of node/report_intake.h):
//   GET /v1/federation/summary?region=P      totals and one group per region one level below P
//                                            (P "" the country, "33" a province, "3301" a
//                                            city, "330106" a county: then one group a node)
//   GET /v1/federation/nodes?region=&tier=&release=&health=a,b&name=&after=&limit=
//                                            node states with their health and why, in words
//   GET /v1/federation/propagation?release=&region=&bucket=
//                                            nodes serving a release (or later) over time
//   GET /v1/federation/usage?from=&to=&region=&by=resource|provider|region|day
//                                            views and downloads of the subtree
//   GET /v1/federation/history?from=&to=&region=&limit=
//                                            state changes (release, health) in a time range
//                                            (unix seconds; default the last day)
//   GET /federation/...                      the dashboard page (webui/federation/)
// A region outside this node's own is refused (403): a province sees its province only.
// Health is judged at request time against the newest release this node knows.
//
// Thread-safe (the store is; the summary cache has its own lock).
#ifndef TIERSYNC_NODE_FEDERATION_API_H_
#define TIERSYNC_NODE_FEDERATION_API_H_

#include <functional>
#include <optional>
#include <string>
#include <utility>

#include "base/env.h"
#include "base/mutex.h"
#include "fleet/fleet_store.h"
#include "node/http_server.h"
#include "node/metrics_text.h"

namespace tiersync::node {

class FederationApi {
 public:
  struct Self {
    std::string name, tier, region;  // region "" for the national hub
  };
  struct Latest {
    std::string release;
    uint64_t version = 0;
  };
  struct ResourceInfo {
    std::string title, provider;
  };
  using LatestFn = std::function<Latest()>;
  using ResourceFn = std::function<std::optional<ResourceInfo>(const std::string& id)>;

  // Nothing is owned; `store` outlives the API.
  FederationApi(Env* env, const fleet::FleetStore* store, Self self, LatestFn latest,
                ResourceFn resources);

  // The reply, or nullopt if `request` is not for this API.
  std::optional<HttpReply> Handle(const HttpRequest& request);

  // Per-tier aggregates of the subtree for /metrics: tiersync_federation_nodes{tier, health},
  // tiersync_federation_nodes_on_latest{tier}, tiersync_federation_store_bytes{tier}.
  MetricsText Metrics();

 private:
  HttpReply Summary(const std::map<std::string, std::string>& q);
  HttpReply Nodes(const std::map<std::string, std::string>& q);
  HttpReply Propagation(const std::map<std::string, std::string>& q);
  HttpReply Usage(const std::map<std::string, std::string>& q);
  HttpReply History(const std::map<std::string, std::string>& q);
  // The whole subtree under `prefix` (at most kMaxViewNodes).
  Result<std::vector<fleet::FleetStore::StoredNode>> All(const std::string& prefix) const;
  int64_t Now() const;

  Env* env_;
  const fleet::FleetStore* store_;
  const Self self_;
  const std::string own_prefix_;
  LatestFn latest_;
  ResourceFn resources_;
};

}  // namespace tiersync::node

#endif  // TIERSYNC_NODE_FEDERATION_API_H_
