// SyncCycle: the node's orchestrator — one turn of its sync loop. The same code runs in
// `node serve`'s loop, in a one-shot `node sync` and in the federation simulation (tests/sim),
// which drives it over a simulated network, disk and clock; only the drivers differ.
//
// A turn:
//   1. the cycle (SyncRunner::RunOnce: metadata, catalog, plan, fetch, switch — node_sync.h —
//      with its bookkeeping and state.json);
//   2. after a switch, `on_switch` with the release (the server starts serving it), called
//      inside the runner's cycle before the switch is recorded: /v1/status never names a
//      release whose catalog the users cannot get yet;
//   3. the report upward (node/upward_report.h) after every cycle, failed ones included:
//      what this node serves and the subscriptions of its whole subtree, so that the tiers
//      above prefetch for it, and (format 2) its state, its subtree's and their usage;
//   4. when to start the next turn (NextSyncDelayMs): the poll interval, sooner after "not
//      yet", backing off after failures.
// Time and randomness come in as arguments; the I/O is the runner's Env and Fetchers.
//
// Not thread-safe: one driver calls Turn() at a time (the runner's readers may read
// concurrently, as SyncRunner allows).
#ifndef TIERSYNC_NODE_SYNC_CYCLE_H_
#define TIERSYNC_NODE_SYNC_CYCLE_H_

#include <cstdint>
#include <functional>
#include <string>

#include "base/fetcher.h"
#include "node/child_reports.h"
#include "node/node_config.h"
#include "node/sync_runner.h"

namespace tiersync::node {

// A release that is signed but not yet served by any source is asked for again after this long.
inline constexpr int64_t kPendingRetryMs = 5'000;
// The longest backoff after consecutive failures (before jitter): 2^8 seconds.
inline constexpr int kMaxBackoffDoublings = 8;

struct TurnResult {
  Result<SyncOutcome> outcome = SyncOutcome();
  bool reported = false;      // the parent accepted this node's report
  Status report_status;       // why not, when a report was sent and refused or lost
  int64_t next_delay_ms = 0;  // when the driver should start the next turn
};

// The report this node sends upward (the production one: OwnReport with the roll-up).
using ReportMaker = std::function<ChildReport(const SyncRunner& runner)>;
// How the report goes up (the production one: UpwardReporter::Send, format 2 with state,
// subtree and usage; the default: SendReport, format 1).
using ReportSender = std::function<Status(const ChildReport& report)>;

class SyncCycle {
 public:
  using OnSwitch = SyncRunner::OnSwitch;

  // Nothing is owned; all must outlive the cycle. `report_fetcher` posts the report upward
  // (short timeouts: a parent that is down must not hold the loop). `on_switch` may be empty.
  SyncCycle(SyncRunner* runner, Fetcher* report_fetcher, const NodeConfig& config,
            OnSwitch on_switch);

  // One turn. `jitter` is a random number (the driver's source of randomness), spreading the
  // next turn over a fifth of its delay so that a tier's children do not poll in step.
  TurnResult Turn(uint64_t jitter, const SyncProgress& progress = nullptr);

  // Replaces how the report is made (the simulation's negative control breaks the roll-up
  // with it); the default is OwnReport(config, current release, runner.Rules()).
  void SetReportMaker(ReportMaker maker) { make_report_ = std::move(maker); }
  void SetReportSender(ReportSender sender) { send_report_ = std::move(sender); }

 private:
  SyncRunner* runner_;
  Fetcher* report_fetcher_;
  const NodeConfig& config_;
  OnSwitch on_switch_;
  ReportMaker make_report_;
  ReportSender send_report_;
};

// When to start the next turn after `outcome`: `poll_seconds` after a cycle that finished,
// at most kPendingRetryMs after "not yet", at most 2^min(failures, 8) s after a failure; plus
// jitter % (delay / 5 + 1).
int64_t NextSyncDelayMs(const Result<SyncOutcome>& outcome, int consecutive_failures,
                        int poll_seconds, uint64_t jitter);

}  // namespace tiersync::node

#endif  // TIERSYNC_NODE_SYNC_CYCLE_H_
