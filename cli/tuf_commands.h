// `tiersync keys ...`, `tiersync repo ...` and `tiersync tuf-client ...` (docs/cli.md).
// tuf-client implements the tuf-conformance client CLI protocol exactly (exit 0 or 1).
#ifndef TIERSYNC_CLI_TUF_COMMANDS_H_
#define TIERSYNC_CLI_TUF_COMMANDS_H_

#include <CLI/CLI.hpp>

#include "cli/command_context.h"

namespace tiersync::cli {

void RegisterKeyCommands(CLI::App* app, CommandContext* ctx);
void RegisterRepoCommands(CLI::App* app, CommandContext* ctx);
void RegisterTufClientCommand(CLI::App* app, CommandContext* ctx);

}  // namespace tiersync::cli

#endif  // TIERSYNC_CLI_TUF_COMMANDS_H_
