#include "node/sync_cycle.h"

#include <algorithm>

#include "node/upward_report.h"

namespace tiersync::node {

SyncCycle::SyncCycle(SyncRunner* runner, Fetcher* report_fetcher, const NodeConfig& config,
                     OnSwitch on_switch)
    : runner_(runner),
      report_fetcher_(report_fetcher),
      config_(config),
      on_switch_(std::move(on_switch)),
      make_report_(
          [&config](const SyncRunner& r) { return OwnReport(config, r.current(), r.Rules()); }),
      send_report_(
          [this](const ChildReport& r) { return SendReport(report_fetcher_, config_, r); }) {}

TurnResult SyncCycle::Turn(uint64_t jitter, const SyncProgress& progress) {
  TurnResult t;
  t.outcome = runner_->RunOnce(progress, on_switch_);
  if (!config_.AllSources().empty()) {
    // Best effort: a parent that is down hears from this node after its next cycle. After a
    // failed cycle too: the tiers above see the failure and its reason (the federation view).
    t.report_status = send_report_(make_report_(*runner_));
    t.reported = t.report_status.ok();
  }
  t.next_delay_ms =
      NextSyncDelayMs(t.outcome, runner_->consecutive_failures(), config_.poll_seconds, jitter);
  return t;
}

int64_t NextSyncDelayMs(const Result<SyncOutcome>& outcome, int consecutive_failures,
                        int poll_seconds, uint64_t jitter) {
  int64_t wait_ms = static_cast<int64_t>(std::max(poll_seconds, 0)) * 1000;
  if (!outcome.ok()) {
    wait_ms = std::min<int64_t>(
        wait_ms, 1000ll << std::clamp(consecutive_failures, 0, kMaxBackoffDoublings));
  } else if (!outcome->pending.empty()) {
    wait_ms = std::min<int64_t>(wait_ms, kPendingRetryMs);
  }
  return wait_ms + static_cast<int64_t>(jitter % (static_cast<uint64_t>(wait_ms) / 5 + 1));
}

}  // namespace tiersync::node
