// How a node reaches the tiers above it, from its configuration: the ordered, named sources
// (parent, further ancestors, national) and the HTTP client options for the sync (stall and
// minimum-throughput rules, the [tls] CA). Shared by `node serve` and a one-shot `node sync`
// so that both ask the same sources the same way.
#ifndef TIERSYNC_NODE_NODE_SOURCES_H_
#define TIERSYNC_NODE_NODE_SOURCES_H_

#include <vector>

#include "node/http_fetcher.h"
#include "node/node_config.h"
#include "node/node_dir.h"
#include "replication/source_policy.h"

namespace tiersync::node {

// "parent (URL)", "ancestor (URL)", "national (URL)", in the configured order.
std::vector<replication::Source> NamedSources(const NodeConfig& config);

// The sync's client options: stall_seconds, min_bytes_per_second, the upstream TLS, and a new
// RateLimiter with the [sync] caps and windows (node/rate_limiter.h).
Result<HttpFetcherOptions> SyncFetcherOptions(Env* env, const NodeConfig& config,
                                              const NodePaths& paths);

}  // namespace tiersync::node

#endif  // TIERSYNC_NODE_NODE_SOURCES_H_
