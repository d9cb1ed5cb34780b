// `tiersync hub retract` (the national targets role, under the hub's lock) and `tiersync repo
// retract` (any targets role of a repository: a region's delegated one): sign a retraction of
// a resource, a provider's resources or a file digest — or lift one — and publish at once
// (hub/retract.h; docs/operators/hub.md, "Takedown").
#ifndef TIERSYNC_CLI_RETRACT_COMMANDS_H_
#define TIERSYNC_CLI_RETRACT_COMMANDS_H_

#include <CLI/CLI.hpp>

#include "cli/command_context.h"

namespace tiersync::cli {

// Adds "retract" to the "hub" and "repo" subcommands. REQUIRES: both registered.
void RegisterRetractCommands(CLI::App* app, CommandContext* ctx);

}  // namespace tiersync::cli

#endif  // TIERSYNC_CLI_RETRACT_COMMANDS_H_
