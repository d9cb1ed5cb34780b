#include "node/config_reload.h"

namespace tiersync::node {

ReloadPlan PlanReload(const NodeConfig& running, const NodeConfig& loaded) {
  ReloadPlan plan;
  plan.next = running;
  auto live = [&](const char* name, auto NodeConfig::*field) {
    if (running.*field == loaded.*field) return;
    plan.next.*field = loaded.*field;
    plan.applied.push_back(name);
  };
  live("subscription", &NodeConfig::subscription);
  live("poll_seconds", &NodeConfig::poll_seconds);
  live("quota_bytes", &NodeConfig::quota_bytes);
  live("max_bytes_per_second", &NodeConfig::max_bytes_per_second);
  live("parallel", &NodeConfig::parallel);
  auto fixed = [&](const char* name, auto NodeConfig::*field) {
    if (!(running.*field == loaded.*field)) plan.need_restart.push_back(name);
  };
  fixed("name", &NodeConfig::name);
  fixed("tier", &NodeConfig::tier);
  fixed("region", &NodeConfig::region);
  if (running.listen_host != loaded.listen_host || running.listen_port != loaded.listen_port) {
    plan.need_restart.push_back("listen");
  }
  fixed("sources", &NodeConfig::sources);
  fixed("national", &NodeConfig::national);
  fixed("push", &NodeConfig::push);
  fixed("min_bytes_per_second", &NodeConfig::min_bytes_per_second);
  fixed("stall_seconds", &NodeConfig::stall_seconds);
  fixed("miss", &NodeConfig::miss);
  fixed("cache_quota_bytes", &NodeConfig::cache_quota_bytes);
  fixed("tls_cert", &NodeConfig::tls_cert);
  fixed("tls_key", &NodeConfig::tls_key);
  fixed("tls_ca", &NodeConfig::tls_ca);
  return plan;
}

}  // namespace tiersync::node
