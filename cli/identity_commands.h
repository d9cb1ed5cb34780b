// Node identity on the command line (docs/cli.md; docs/operators/node.md "Enrolling a node"):
//   tiersync identity ca-init | issue | show     the ministry's offline national identity CA
//   tiersync node identity request | install     a node's key, request and certificate
//   tiersync node invite | enroll                invitations and enrollment over the wire
#ifndef TIERSYNC_CLI_IDENTITY_COMMANDS_H_
#define TIERSYNC_CLI_IDENTITY_COMMANDS_H_

#include <CLI/CLI.hpp>

#include "cli/command_context.h"

namespace tiersync::cli {

// `tiersync identity ...`.
void RegisterIdentityCommands(CLI::App* app, CommandContext* ctx);

// `tiersync node identity ...`, `node invite`, `node enroll`, under the `node` command.
void RegisterNodeIdentityCommands(CLI::App* node, CommandContext* ctx);

}  // namespace tiersync::cli

#endif  // TIERSYNC_CLI_IDENTITY_COMMANDS_H_
