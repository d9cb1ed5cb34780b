// The report a node sends its parent after each successful sync (POST <parent>/v1/reports,
// docs/protocol.md): who it is, what it serves, its own subscription and the union of its
// subtree's (`rolled_up`, catalogs/subscription_rollup.h), so that every ancestor prefetches
// for the whole subtree below it. Best effort: a parent that is down hears from the node
// after its next sync.
#ifndef TIERSYNC_NODE_UPWARD_REPORT_H_
#define TIERSYNC_NODE_UPWARD_REPORT_H_

#include <optional>
#include <string>

#include "base/fetcher.h"
#include "catalogs/subscription_rollup.h"
#include "node/child_reports.h"
#include "node/node_config.h"
#include "node/node_dir.h"

namespace tiersync::node {

// The report of this node.
ChildReport OwnReport(const NodeConfig& config, const std::optional<ServedRelease>& current,
                      const catalogs::RolledUp& rules);

// Sends `report` to the parent (the first configured source); OK if it was accepted.
Status SendReport(Fetcher* fetcher, const NodeConfig& config, const ChildReport& report);

}  // namespace tiersync::node

#endif  // TIERSYNC_NODE_UPWARD_REPORT_H_
