// What `systemctl reload` (SIGHUP) changes in a running node: node.toml is read again, and the
// settings the sync loop reads between cycles take effect at once — the subscription (the
// next cycle plans for it and reports it upward), poll_seconds, the quota, the windows and
// caps (max_bytes_per_second, windows, outside_bytes_per_second) and parallel. Every other setting
// (identity, listen address, sources, the TLS files' paths, serving and HTTP client settings) is
// held by components built at start: a change to one is named as needing a restart, and the running
// value is kept. A node.toml that does not parse changes nothing (the error is logged and shown in
// status). The contents of the TLS certificate and key files are a separate step of the same reload
// (node_server: TlsServerContext::Reload, "tls_files" or "tls_error" in status).
//
// Pure: the plan is computed from the two configurations; node_server applies it.
#ifndef TIERSYNC_NODE_CONFIG_RELOAD_H_
#define TIERSYNC_NODE_CONFIG_RELOAD_H_

#include <string>
#include <vector>

#include "node/node_config.h"

namespace tiersync::node {

struct ReloadPlan {
  NodeConfig next;                        // the running config with the live changes applied
  std::vector<std::string> applied;       // settings changed now, e.g. "subscription"
  std::vector<std::string> need_restart;  // settings that changed but wait for a restart
};

ReloadPlan PlanReload(const NodeConfig& running, const NodeConfig& loaded);

// Copies the settings that apply at once from plan.next into *config, field by field (the
// other fields may be read by other threads meanwhile and are not written).
void ApplyLive(const ReloadPlan& plan, NodeConfig* config);

}  // namespace tiersync::node

#endif  // TIERSYNC_NODE_CONFIG_RELOAD_H_
