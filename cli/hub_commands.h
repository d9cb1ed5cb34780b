// `tiersync hub ...`: the ministry's hub — init and publish (docs/operators/hub.md).
#ifndef TIERSYNC_CLI_HUB_COMMANDS_H_
#define TIERSYNC_CLI_HUB_COMMANDS_H_

#include <CLI/CLI.hpp>

#include "cli/command_context.h"

namespace tiersync::cli {

void RegisterHubCommands(CLI::App* app, CommandContext* ctx);

}  // namespace tiersync::cli

#endif  // TIERSYNC_CLI_HUB_COMMANDS_H_
