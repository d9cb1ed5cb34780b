// The report a node sends its parent after each successful sync (POST <parent>/v1/reports,
// docs/protocol.md): who it is, what it serves, its own subscription and the union of its
// subtree's (`rolled_up`, catalogs/subscription_rollup.h), so that every ancestor prefetches
// for the whole subtree below it. Best effort: a parent that is down hears from the node
// after its next sync.
#ifndef TIERSYNC_NODE_UPWARD_REPORT_H_
#define TIERSYNC_NODE_UPWARD_REPORT_H_

#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "base/fetcher.h"
#include "catalogs/subscription_rollup.h"
#include "fleet/fleet_store.h"
#include "node/child_reports.h"
#include "node/node_config.h"
#include "node/node_dir.h"

namespace tiersync::node {

// The report of this node.
ChildReport OwnReport(const NodeConfig& config, const std::optional<ServedRelease>& current,
                      const catalogs::RolledUp& rules);

// This node's state for the federation view, read off its /v1/status JSON (NodeStatusJson:
// current, last_check (what its last cycle rejected)/last_sync, sources, storage) and the size
// and free space of the file system holding `dir` (the node's directory).
fleet::NodeState NodeStateFromStatus(const nlohmann::json& status, const std::string& dir);

// Sends `report` to the parent (the first configured source, or national for a node that has
// none but national); OK if it was accepted. Format 1:
// the roll-up part only (what the federation simulation sends).
Status SendReport(Fetcher* fetcher, const NodeConfig& config, const ChildReport& report);

// The format 2 report of a running node (node/fleet_report.h): the roll-up part, the node's own
// state and usage, and what its FleetStore learnt of its subtree since the destination last
// accepted a report (all of it the first time, or when the destination asks for it).
//
// Usage goes to the parent only (the first source), whole days that replace what the node said
// of them before: if it went to another tier while the parent is down, that tier would count it
// beside the parent's own later sum of the same day. A parent that is down delays the usage of
// its subtree until it is back; the counts are kept meanwhile.
//
// Destinations: the configured sources in order, then national — the first that accepts the
// report gets it, so a node whose parent is down reports to the tier above it, as it syncs
// from there (the federation view then still sees it). Bodies over 64 KiB go as zstd frames;
// more than kMaxReportSubtree states, kMaxReportUsageDays days or kMaxReportUsageRows counts go
// in several pages, each with its own seq (node/fleet_report.h).
//
// What of the subtree goes up (bounded intake): a state the destination has not been sent
// yet, whose content changed since (its release, health, errors, storage...), that this node
// now judges down, or that was last sent a refresh ago (max(kMinRefreshSeconds, 10 polls)).
// This node vouches for the states it forwards alive: they go with stale_after stretched to
// two refreshes from now, so the tiers above take them as up until this node says otherwise —
// or itself goes silent for that long. A state forwarded down keeps its own stale_after (its
// time is up wherever it arrives). So a node that stops is shown down by its parent after
// 3 report periods, and by each tier above one report period later.
//
// Not thread-safe: the sync loop calls Send.
inline constexpr int64_t kMinRefreshSeconds = 3600;
// After a start the parent gets the usage days of this many days back (not the whole
// retention); later, the days that changed.
inline constexpr int64_t kUsageResendDays = 31;

class UpwardReporter {
 public:
  using StateFn = std::function<fleet::NodeState()>;
  using UsageFn = std::function<std::vector<serving::UsageDay>()>;

  // Nothing is owned; all outlive the reporter. `state` gives this node's own state now
  // (seen_at and stale_after are filled here); `usage` its own recent usage days.
  UpwardReporter(Env* env, const NodeConfig& config, fleet::FleetStore* store, Fetcher* fetcher,
                 StateFn state, UsageFn usage);

  // Records the node's own state and usage in its store (its own view shows it), then sends.
  // The error of the last destination tried when none accepted it.
  Status Send(const ChildReport& rollup);

 private:
  struct Sent {
    uint64_t print = 0;  // a hash of what was sent (times left out) and whether it was down
    int64_t at = 0;
  };
  Status SendTo(const std::string& url, const ChildReport& rollup, const fleet::NodeState& self,
                int64_t now, bool with_usage);
  // The subtree states `url` is to get now; `sent` receives what it will then have.
  std::vector<fleet::NodeState> Changed(const std::string& url, const std::string& self,
                                        int64_t now, std::map<std::string, Sent>* sent);

  Env* env_;
  const NodeConfig& config_;
  fleet::FleetStore* store_;
  Fetcher* fetcher_;
  StateFn state_;
  UsageFn usage_;
  uint64_t last_seq_ = 0;
  // By destination URL: what it was last sent of each subtree node (none: everything).
  std::map<std::string, std::map<std::string, Sent>> forwarded_;
  int64_t usage_since_ = 0;  // the store time from which the parent lacks usage (0: all)
};

}  // namespace tiersync::node

#endif  // TIERSYNC_NODE_UPWARD_REPORT_H_
