// Layout versions: every directory tiersync keeps names its layout in a one-line marker file,
// "<kind> <version>\n" (a node's NODE: "tiersync-node 2"; the hub's HUB: "tiersync-hub 1"; a
// chunk store's STORE: "tiersync-chunk-store 1"). docs/formats.md lists every versioned file.
//
// The rules every directory follows:
//  * A build supports the versions 1..supported of a layout. It opens an older layout after
//    migrating it (MigrateLayout), a newer one never: kNewerFormat naming what it found, what
//    it supports and "upgrade tiersync", before anything in the directory is changed.
//  * Any change to any file of a layout bumps the layout's number, so that one check at open
//    time covers every file in it (files may carry their own "format" as well, to describe
//    themselves).
//  * A migration runs under the directory's lock, one step per version. Each step is
//    idempotent (run again on its own partial result, it finishes the job), writes what it
//    changes as new files made durable before they replace the old ones (write new, fsync,
//    rename, fsync the directory), and the marker is rewritten only after the step's work is
//    durable. A crash at any point therefore leaves either the old number with some files
//    already migrated (which the step accepts when it runs again) or the new number with
//    everything migrated.
#ifndef TIERSYNC_BASE_LAYOUT_VERSION_H_
#define TIERSYNC_BASE_LAYOUT_VERSION_H_

#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "base/env.h"
#include "base/status.h"

namespace tiersync {

inline constexpr size_t kMaxMarkerBytes = 256;

// "<kind> <version>\n".
std::string LayoutMarker(std::string_view kind, int version);

// The version in the marker file at `path`, which must name `kind`. kNotFound if there is no
// marker; kCorruption if it is not "<kind> <N>" with N >= 1.
Result<int> ReadLayoutVersion(Env* env, const std::string& path, std::string_view kind);

// OK if a build supporting versions up to `supported` may open version `found` (after
// migrating it when it is older); otherwise kNewerFormat: "<what> has layout version <found>
// (<marker path>); this tiersync supports up to <supported>: upgrade tiersync".
Status CheckLayoutVersion(int found, int supported, std::string_view what,
                          std::string_view marker_path);

// One migration step: brings a layout from version `from` to `from + 1`. `run` must be
// idempotent and durable as the rules above say; it is called with the directory locked.
struct MigrationStep {
  int from = 0;
  std::string description;  // what the step changes, for the log
  std::function<Status()> run;
};

// Brings the layout whose marker is at `marker_path` to `supported`: for each version below
// it, runs the step starting there, then durably rewrites the marker with the next number.
// Does nothing if the layout is current; kNewerFormat (changing nothing) if it is newer;
// kNotSupported if a needed step is missing. `log` (may be empty) gets one line per step.
// REQUIRES: the caller holds the directory's lock.
Status MigrateLayout(Env* env, const std::string& marker_path, std::string_view kind,
                     std::string_view what, int supported, const std::vector<MigrationStep>& steps,
                     const std::function<void(const std::string&)>& log);

}  // namespace tiersync

#endif  // TIERSYNC_BASE_LAYOUT_VERSION_H_
