// `tiersync store ...`: init, add, cat, verify and stats of a local chunk store (docs/cli.md).
#ifndef TIERSYNC_CLI_STORE_COMMANDS_H_
#define TIERSYNC_CLI_STORE_COMMANDS_H_

#include <CLI/CLI.hpp>

#include "cli/command_context.h"

namespace tiersync::cli {

// Adds the `store` subcommand tree to `app`. `ctx` must outlive parsing.
void RegisterStoreCommands(CLI::App* app, CommandContext* ctx);

}  // namespace tiersync::cli

#endif  // TIERSYNC_CLI_STORE_COMMANDS_H_
