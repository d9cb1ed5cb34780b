// The sync's families in /metrics: verified chunk bytes, lacked objects and rejected answers
// by source, missing bytes over all plans, the served release's timestamp version and its
// release number (the N of rN; 0 before the first release). Timestamp versions also advance
// when the hub only re-signs its timestamp (hourly), so how many releases a node is behind is
// told by the release number: the newest any tier serves minus this node's
// (deploy/prometheus/tiersync-alerts.yml).
#ifndef TIERSYNC_NODE_SYNC_METRICS_H_
#define TIERSYNC_NODE_SYNC_METRICS_H_

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "node/metrics_text.h"
#include "node/node_dir.h"
#include "replication/source_policy.h"

namespace tiersync::node {

MetricsText SyncMetrics(const std::vector<replication::SourceHealth>& sources,
                        const std::map<std::string, uint64_t>& chunk_bytes_by_source,
                        uint64_t planned_bytes_total, const std::optional<ServedRelease>& current);

}  // namespace tiersync::node

#endif  // TIERSYNC_NODE_SYNC_METRICS_H_
