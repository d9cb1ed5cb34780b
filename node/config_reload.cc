#include "node/config_reload.h"

#include <tuple>

namespace tiersync::node {
namespace {

// The settings that apply at once: read only by the sync loop's thread between turns (the
// rate limiter and the scrubber get their own copies: node_server).
constexpr auto kLive = std::make_tuple(
    std::pair{"subscription", &NodeConfig::subscription},
    std::pair{"poll_seconds", &NodeConfig::poll_seconds},
    std::pair{"quota_bytes", &NodeConfig::quota_bytes},
    std::pair{"max_bytes_per_second", &NodeConfig::max_bytes_per_second},
    std::pair{"windows", &NodeConfig::windows},
    std::pair{"outside_bytes_per_second", &NodeConfig::outside_bytes_per_second},
    std::pair{"children_max_bytes_per_second", &NodeConfig::children_max_bytes_per_second},
    std::pair{"children_windows", &NodeConfig::children_windows},
    std::pair{"children_outside_bytes_per_second", &NodeConfig::children_outside_bytes_per_second},
    std::pair{"parallel", &NodeConfig::parallel},
    std::pair{"scrub_bytes_per_second", &NodeConfig::scrub_bytes_per_second},
    std::pair{"scrub_interval_hours", &NodeConfig::scrub_interval_hours},
    std::pair{"pinned_releases", &NodeConfig::pinned_releases}, std::pair{"gc", &NodeConfig::gc},
    std::pair{"compact_below_percent", &NodeConfig::compact_below_percent});

}  // namespace

ReloadPlan PlanReload(const NodeConfig& running, const NodeConfig& loaded) {
  ReloadPlan plan;
  plan.next = running;
  std::apply(
      [&](const auto&... setting) {
        ((running.*setting.second == loaded.*setting.second
              ? void()
              : (plan.next.*setting.second = loaded.*setting.second,
                 plan.applied.push_back(setting.first))),
         ...);
      },
      kLive);
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

void ApplyLive(const ReloadPlan& plan, NodeConfig* config) {
  std::apply(
      [&](const auto&... setting) { ((config->*setting.second = plan.next.*setting.second), ...); },
      kLive);
}

}  // namespace tiersync::node
