#include "node/node_sources.h"

#include "node/rate_limiter.h"
#include "node/tls_context.h"

namespace tiersync::node {

std::vector<replication::Source> NamedSources(const NodeConfig& config) {
  std::vector<replication::Source> sources;
  for (const std::string& url : config.AllSources()) {
    std::string name = url == config.national                                ? "national"
                       : !config.sources.empty() && url == config.sources[0] ? "parent"
                                                                             : "ancestor";
    sources.push_back({name + " (" + url + ")", url});
  }
  return sources;
}

Result<HttpFetcherOptions> SyncFetcherOptions(Env* env, const NodeConfig& config,
                                              const NodePaths& paths) {
  HttpFetcherOptions fo;
  fo.stall_timeout = std::chrono::seconds(config.stall_seconds);
  fo.min_bytes_per_second = config.min_bytes_per_second;
  fo.limiter = std::make_shared<RateLimiter>(env, RatePolicyOf(config));
  TS_ASSIGN_OR_RETURN(fo.tls, LoadUpstreamTls(env, config, paths.config));
  return fo;
}

}  // namespace tiersync::node
