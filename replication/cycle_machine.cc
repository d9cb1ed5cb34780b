#include "replication/cycle_machine.h"

namespace tiersync::replication {

std::string PartialDirName(const std::string& plan_dir, size_t deferred) {
  return deferred == 0 ? plan_dir : plan_dir + "-d" + std::to_string(deferred);
}

bool IsPartialOf(const std::string& dir, const std::string& plan_dir) {
  const std::string prefix = plan_dir + "-d";
  return dir.size() > prefix.size() && dir.compare(0, prefix.size(), prefix) == 0;
}

void CycleMachine::Finish(CycleOutcome outcome, Status status) {
  step_ = CycleStep::kDone;
  outcome_ = outcome;
  status_ = std::move(status);
}

void CycleMachine::OnMetadata(const Status& verified, bool catalog_local) {
  if (step_ != CycleStep::kRefreshMetadata) return;
  if (!verified.ok()) return Finish(CycleOutcome::kFailed, verified);
  step_ = catalog_local ? CycleStep::kPlan : CycleStep::kFetchCatalog;
}

void CycleMachine::OnUnchangedMetadata() {
  if (step_ != CycleStep::kRefreshMetadata) return;
  Finish(CycleOutcome::kUpToDate);
}

void CycleMachine::OnCatalog(const Status& fetched, const std::string& release) {
  if (step_ != CycleStep::kFetchCatalog) return;
  if (fetched.ok()) {
    step_ = CycleStep::kPlan;
  } else if (fetched.code() == StatusCode::kNotFound) {
    // A parent that announced metadata a moment before its catalog: nothing failed.
    pending_ =
        "catalog release " + release + " is signed but no source serves it yet; retrying shortly";
    Finish(CycleOutcome::kNotYet);
  } else {
    Finish(CycleOutcome::kFailed, fetched.WithContext("catalog release " + release));
  }
}

void CycleMachine::OnPlanned(const Status& planned, const std::string& plan_dir,
                             const std::string& served_dir, bool window_open) {
  if (step_ != CycleStep::kPlan) return;
  if (!planned.ok()) return Finish(CycleOutcome::kFailed, planned);
  plan_dir_ = plan_dir;
  served_dir_ = served_dir;
  if (served_dir == plan_dir) return Finish(CycleOutcome::kUpToDate);
  if (IsPartialOf(served_dir, plan_dir) && !window_open) {
    return Finish(CycleOutcome::kWaitingWindow);
  }
  step_ = CycleStep::kFetch;
}

void CycleMachine::OnFetched(const Status& fetched, size_t deferred) {
  if (step_ != CycleStep::kFetch) return;
  if (!fetched.ok()) return Finish(CycleOutcome::kFailed, fetched);
  switch_dir_ = PartialDirName(plan_dir_, deferred);
  if (switch_dir_ == served_dir_) {
    return Finish(CycleOutcome::kWaitingWindow);  // a window closed at once: nothing new
  }
  step_ = CycleStep::kSwitch;
}

void CycleMachine::OnSwitched(const Status& switched) {
  if (step_ != CycleStep::kSwitch) return;
  if (!switched.ok()) return Finish(CycleOutcome::kFailed, switched);
  Finish(CycleOutcome::kSwitched);
}

}  // namespace tiersync::replication
