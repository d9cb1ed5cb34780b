// `tiersync catalog ...`: read a catalog repository — ls, show, search, diff, log, verify.
#ifndef TIERSYNC_CLI_CATALOG_COMMANDS_H_
#define TIERSYNC_CLI_CATALOG_COMMANDS_H_

#include <CLI/CLI.hpp>

#include "cli/command_context.h"

namespace tiersync::cli {

void RegisterCatalogCommands(CLI::App* app, CommandContext* ctx);

}  // namespace tiersync::cli

#endif  // TIERSYNC_CLI_CATALOG_COMMANDS_H_
