// `tiersync demo ...`: sample content for demos, tests and benchmarks.
#ifndef TIERSYNC_CLI_DEMO_COMMANDS_H_
#define TIERSYNC_CLI_DEMO_COMMANDS_H_

#include <CLI/CLI.hpp>

#include "cli/command_context.h"

namespace tiersync::cli {

void RegisterDemoCommands(CLI::App* app, CommandContext* ctx);

}  // namespace tiersync::cli

#endif  // TIERSYNC_CLI_DEMO_COMMANDS_H_
