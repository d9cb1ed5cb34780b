// CycleMachine: the decisions of one sync cycle (overview.md section 4) as a state machine
// without I/O — what the node's cycle (node/node_sync.h) does next, given what its steps
// found. It is fed events — the metadata verified (or not), the catalog release found locally
// or fetched (or not served anywhere yet), the plan made, the fetch done (with files left for
// a window), the switch written — and answers with the next step: refresh the metadata, fetch
// the catalog, plan, fetch, switch to a directory, or done (with how: switched, up to date,
// waiting for a window, not yet, failed). The chunk transfer inside "fetch" is the
// TransferEngine's (replication/transfer_engine.h); the steps themselves are the driver's.
//
// Decisions owned here:
//   - a catalog release no source serves yet is "not yet" (retry shortly), never a failure;
//   - metadata unchanged since a cycle that served its whole plan is up to date at once;
//   - a plan whose directory is the one served is up to date; one served partially (ordinary
//     files deferred) is up to date while no window is open and fetched again when one is;
//   - a release is switched to only after a fetch that left nothing but window-deferred
//     ordinary files, into a directory of its own when anything was deferred
//     ("<name>-d<N>"), and not again when that is the directory served already.
//
// Not thread-safe; one driver feeds one machine per cycle.
#ifndef TIERSYNC_REPLICATION_CYCLE_MACHINE_H_
#define TIERSYNC_REPLICATION_CYCLE_MACHINE_H_

#include <cstddef>
#include <string>

#include "base/status.h"

namespace tiersync::replication {

enum class CycleStep {
  kRefreshMetadata,  // then OnMetadata
  kFetchCatalog,     // the release is not in the local catalog: fetch it, then OnCatalog
  kPlan,             // then OnPlanned
  kFetch,            // then OnFetched
  kSwitch,           // write switch_dir() and make it current, then OnSwitched
  kDone,             // outcome() says how
};

enum class CycleOutcome {
  kRunning,
  kSwitched,       // a new release (or a new plan of it) is served
  kUpToDate,       // nothing to do: the served directory is this plan's
  kWaitingWindow,  // served partially; the deferred files wait for a window
  kNotYet,         // signed, but no source serves its catalog yet (pending())
  kFailed,         // status() says why
};

// The directory a plan is served from when `deferred` files wait for a window.
std::string PartialDirName(const std::string& plan_dir, size_t deferred);
// Whether `dir` is `plan_dir` served partially.
bool IsPartialOf(const std::string& dir, const std::string& plan_dir);

class CycleMachine {
 public:
  CycleStep Next() const { return step_; }

  // The refresh's result; `catalog_local`: the signed release is in the local catalog already.
  void OnMetadata(const Status& verified, bool catalog_local);
  // Instead of OnMetadata: the refresh verified the very metadata that a cycle which served
  // its whole plan acted on, under the same rules (the driver's quiet mark): up to date.
  void OnUnchangedMetadata();
  // The catalog fetch: OK, kNotFound from every source (not yet), or a failure.
  // `release` names it in messages.
  void OnCatalog(const Status& fetched, const std::string& release);
  // The plan: its directory, the one served now ("" before the first), and whether a sync
  // window is open now.
  void OnPlanned(const Status& planned, const std::string& plan_dir, const std::string& served_dir,
                 bool window_open);
  // The fetch: OK with `deferred` ordinary files left for a window, or a failure.
  void OnFetched(const Status& fetched, size_t deferred);
  void OnSwitched(const Status& switched);

  // REQUIRES: Next() == kSwitch. The directory to switch to.
  const std::string& switch_dir() const { return switch_dir_; }
  CycleOutcome outcome() const { return outcome_; }
  const Status& status() const { return status_; }
  // Set when outcome() is kNotYet: what to say.
  const std::string& pending() const { return pending_; }

 private:
  void Finish(CycleOutcome outcome, Status status = Status::Ok());

  CycleStep step_ = CycleStep::kRefreshMetadata;
  CycleOutcome outcome_ = CycleOutcome::kRunning;
  Status status_;
  std::string pending_;
  std::string plan_dir_, served_dir_, switch_dir_;
};

}  // namespace tiersync::replication

#endif  // TIERSYNC_REPLICATION_CYCLE_MACHINE_H_
