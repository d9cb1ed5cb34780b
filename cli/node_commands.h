// `tiersync node ...`: province, city, county and school nodes (docs/operators/node.md).
#ifndef TIERSYNC_CLI_NODE_COMMANDS_H_
#define TIERSYNC_CLI_NODE_COMMANDS_H_

#include <CLI/CLI.hpp>

#include "cli/command_context.h"

namespace tiersync::cli {

void RegisterNodeCommands(CLI::App* app, CommandContext* ctx);

}  // namespace tiersync::cli

#endif  // TIERSYNC_CLI_NODE_COMMANDS_H_
