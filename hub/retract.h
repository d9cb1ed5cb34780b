// Retract: the hub's takedown command (`tiersync hub retract`, docs/operators/hub.md
// "Takedown"). Signs a retraction (protocol/tuf_metadata.h, kRetractionsField) into the national
// top-level targets role — or lifts one — and publishes new snapshot and timestamp versions
// at once: every node picks it up at its next timestamp check, not the next catalog release
// (node/takedown.h says what a node does with it). Later `hub publish` runs keep it: it stays
// until lifted.
#ifndef TIERSYNC_HUB_RETRACT_H_
#define TIERSYNC_HUB_RETRACT_H_

#include <string>

#include "base/env.h"
#include "protocol/tuf_metadata.h"
#include "replication/tuf_repository.h"

namespace tiersync::hub {

struct RetractOptions {
  protocol::tuf::Retraction retraction;  // its `since` is set to `now` here
  bool lift = false;                     // remove the retraction of (kind, value) instead
  replication::KeyRing keys;             // targets, snapshot and timestamp keys
  int64_t now = 0;                       // seconds since the epoch
};

struct RetractReport {
  uint64_t targets_version = 0;  // the version of the role now signed
  size_t retractions = 0;        // in force after this change
  // What the retraction names in the hub's signed release (Retract only, not when lifting):
  // whole resources (by id or provider), and files (theirs, or those with the digest).
  uint64_t resources = 0;
  uint64_t files = 0;
};

// Under the hub's lock. kNotFound if the retraction names nothing in the signed release (a
// mistyped id), kAlreadyExists if the same thing is already retracted, kNotFound when
// lifting one that is not, kInvalidArgument for an empty reason (users are told why),
// kFailedPrecondition if a key is missing (nothing is written then).
Result<RetractReport> Retract(Env* env, const std::string& hub_dir, RetractOptions options);

// Applies one retraction change to `role` of `repo` and publishes; what `tiersync repo
// retract` does for a region's delegated role (no hub lock: a region's repository).
Result<RetractReport> RetractInRepository(replication::TufRepository& repo, const std::string& role,
                                          RetractOptions options);

}  // namespace tiersync::hub

#endif  // TIERSYNC_HUB_RETRACT_H_
