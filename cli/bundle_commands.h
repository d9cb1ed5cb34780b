// `tiersync bundle export|import`: offline bundles, a release carried on a USB disk to a node
// that no network reaches (bundle/bundle_export.h, bundle/bundle_import.h; docs/cli.md).
#ifndef TIERSYNC_CLI_BUNDLE_COMMANDS_H_
#define TIERSYNC_CLI_BUNDLE_COMMANDS_H_

#include <CLI/CLI.hpp>

#include "cli/command_context.h"

namespace tiersync::cli {

void RegisterBundleCommands(CLI::App* app, CommandContext* ctx);

}  // namespace tiersync::cli

#endif  // TIERSYNC_CLI_BUNDLE_COMMANDS_H_
