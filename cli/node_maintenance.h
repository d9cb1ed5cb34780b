// `tiersync node scrub` and `node gc`: an operator's maintenance of a node that is not running
// (a running node does the same by itself: node/scrubber.h, node/garbage_collector.h).
// docs/operators/node.md, "Scrub and repair" and "Retention and garbage collection".
#ifndef TIERSYNC_CLI_NODE_MAINTENANCE_H_
#define TIERSYNC_CLI_NODE_MAINTENANCE_H_

#include <cstdint>
#include <string>

#include "base/status.h"
#include "cli/command_context.h"

namespace tiersync::cli {

// Checks every chunk and chunk index of the node in `dir` (re-read, re-hashed), fetches every
// damaged chunk again from the node's sources (verified as in a sync) and replaces it; reads
// at most `bytes_per_second` (0: no cap). Takes the node's lock (kUnavailable while it is
// served: a running node scrubs by itself). A finished check also clears the RUNNING marker
// an unclean shutdown left (the next start need not check again). Prints what it found and
// did; kCorruption (exit 3) when damage remains.
Status RunNodeScrub(const std::string& dir, uint64_t bytes_per_second, CommandContext* ctx);

// Collects the garbage of the node in `dir` ([retention] of its node.toml): forgets every
// chunk and chunk index no kept release needs and compacts packs. `dry_run`: says what would
// go, changes nothing. Takes the node's lock (kUnavailable while it is served: a running node
// collects after every switch). Prints what it kept, forgot and compacted.
Status RunNodeGc(const std::string& dir, bool dry_run, CommandContext* ctx);

}  // namespace tiersync::cli

#endif  // TIERSYNC_CLI_NODE_MAINTENANCE_H_
