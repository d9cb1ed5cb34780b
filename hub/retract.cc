#include "hub/retract.h"

#include "hub/hub_dir.h"

namespace tiersync::hub {

Result<RetractReport> RetractInRepository(replication::TufRepository& repo, const std::string& role,
                                          RetractOptions options) {
  protocol::tuf::Retraction& r = options.retraction;
  if (options.lift) {
    TS_RETURN_IF_ERROR(repo.LiftRetraction(role, r.kind, r.value));
  } else {
    if (r.reason.empty()) {
      return InvalidArgumentError("give the reason users will be shown (--reason)");
    }
    r.since = options.now;
    TS_RETURN_IF_ERROR(repo.Retract(role, r));
  }
  TS_RETURN_IF_ERROR(repo.Publish(options.keys, options.now));
  RetractReport report;
  TS_ASSIGN_OR_RETURN(const protocol::tuf::Targets* t, repo.targets(role));
  report.targets_version = t->version;
  report.retractions = t->retractions.size();
  return report;
}

Result<RetractReport> Retract(Env* env, const std::string& hub_dir, RetractOptions options) {
  const HubPaths paths(hub_dir);
  TS_ASSIGN_OR_RETURN(auto lock, LockHub(env, paths));
  TS_ASSIGN_OR_RETURN(auto repo, replication::TufRepository::Open(env, paths.tuf));
  return RetractInRepository(repo, std::string(protocol::tuf::kTargetsRole), std::move(options));
}

}  // namespace tiersync::hub
