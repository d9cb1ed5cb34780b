// SyncRunner: one sync cycle of a node with its bookkeeping — what `tiersync node sync` runs
// once and `node serve`'s sync loop runs again and again (the same code, so a one-shot sync
// leaves the same state behind as a running node):
//   - the rules: this node's subscription rolled up with its children's reported ones
//     (catalogs/subscription_rollup.h), which it also reports upward;
//   - the cycle (node/node_sync.h), its live progress (phase, bytes done and to do, the
//     rate) for status while it runs;
//   - the outcome: last sync (the last cycle that switched or failed), last check (any cycle),
//     recent rejections, verified bytes by source, store statistics (computed once per cycle,
//     not per status request);
//   - state.json, written after every cycle: what `node status` shows when the node is not
//     running.
//
// Thread-safe: RunOnce() from one thread at a time (the sync loop); the readers from any.
#ifndef TIERSYNC_NODE_SYNC_RUNNER_H_
#define TIERSYNC_NODE_SYNC_RUNNER_H_

#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "base/mutex.h"
#include "catalogs/subscription_rollup.h"
#include "node/child_reports.h"
#include "node/node_sync.h"

namespace tiersync::node {

class SyncRunner {
 public:
  // Nothing is owned; all must outlive the runner. `children` may be null (no reports read:
  // the rules are this node's own subscription only).
  SyncRunner(const SyncParts& parts, const ChildReports* children);

  // Called after a cycle switched releases, before the switch is recorded: whoever serves
  // the release starts serving it there, so that status never names a release the node does
  // not serve yet.
  using OnSwitch = std::function<void(const SyncOutcome& outcome)>;

  // One cycle; records it and writes state.json. `progress` and `on_switch` (either may be
  // empty) are called as well.
  Result<SyncOutcome> RunOnce(const SyncProgress& progress = nullptr,
                              const OnSwitch& on_switch = nullptr);

  // What else state.json should hold (the users' side of a running node). REQUIRES: before
  // the first RunOnce.
  void SetExtraStatus(std::function<nlohmann::json()> extra) { extra_ = std::move(extra); }

  // This node's subscription rolled up with its children's: what it plans for and reports.
  catalogs::RolledUp Rules() const;
  // Replaces this node's own subscription (a reload of node.toml); the next cycle plans for it.
  void SetSubscription(std::string subscription);

  // Records an answer that failed verification outside the sync (a users' miss): logged and
  // listed among the recent rejections.
  void Rejected(const std::string& what);

  // The release served (from CURRENT at construction, then each switch).
  std::optional<ServedRelease> current() const;
  int consecutive_failures() const;

  // The sync's part of /v1/status: current, last_sync, last_check, recent_rejections,
  // progress, subtree, storage.
  nlohmann::json StatusJson() const;
  // Verified chunk bytes fetched, by source URL; missing bytes over all plans.
  std::map<std::string, uint64_t> ChunkBytesBySource() const;
  uint64_t PlannedBytesTotal() const;

 private:
  void Progress(const std::string& phase, uint64_t done, uint64_t total);
  void Record(const Result<SyncOutcome>& r, const SyncOutcome& partial, int64_t started);

  const SyncParts p_;
  const ChildReports* children_;
  std::function<nlohmann::json()> extra_;

  mutable Mutex mu_;  // guards everything below
  std::string subscription_
      GUARDED_BY(mu_);  // this node's own (config's at start, then each reload)
  std::optional<ServedRelease> current_ GUARDED_BY(mu_);
  nlohmann::json last_sync_ GUARDED_BY(mu_) = nlohmann::json::object();
  nlohmann::json last_check_ GUARDED_BY(mu_) = nlohmann::json::object();
  nlohmann::json progress_ GUARDED_BY(mu_) = nullptr;  // while a cycle runs
  nlohmann::json storage_ GUARDED_BY(mu_) = nullptr;
  std::vector<std::string> rejections_ GUARDED_BY(mu_);  // recent, newest last
  std::map<std::string, uint64_t> chunk_bytes_total_ GUARDED_BY(mu_);
  uint64_t planned_bytes_total_ GUARDED_BY(mu_) = 0;
  int consecutive_failures_ GUARDED_BY(mu_) = 0;
  uint64_t progress_started_us_ GUARDED_BY(mu_) = 0;
  // The last full cycle's mark (NodeSync's quiet cycles); only RunOnce's thread uses it.
  std::optional<QuietMark> quiet_mark_;
};

// Gives the pages of freed heap memory back to the system. A sync cycle and a catalog switch
// free tens of MiB (the release's records, the old catalog) in the middle of malloc's arenas,
// where they would otherwise stay resident and add to the next cycle's peak.
void ReturnFreedHeap();

// The node's whole status (GET /v1/status, state.json): identity, the sync's part, the
// sources' health, the children, and `extra` (the users' side, the push listener) merged in.
nlohmann::json NodeStatusJson(Env* env, const NodeConfig& config, const SyncRunner& sync,
                              const replication::SourcePolicy& sources, size_t children,
                              const nlohmann::json& extra);

}  // namespace tiersync::node

#endif  // TIERSYNC_NODE_SYNC_RUNNER_H_
