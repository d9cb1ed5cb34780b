// What every subcommand of the tiersync executable shares: global flags and the exit code.
#ifndef TIERSYNC_CLI_COMMAND_CONTEXT_H_
#define TIERSYNC_CLI_COMMAND_CONTEXT_H_

#include <string>

#include "base/status.h"
#include "cli/exit_codes.h"

namespace tiersync::cli {

struct CommandContext {
  bool json = false;        // --json: machine-readable output on stdout
  int exit_code = kExitOk;  // set by the command that ran

  // Prints "tiersync: <what>: <status>" on stderr and sets the exit code from the status.
  void Fail(const std::string& what, const Status& s);
};

}  // namespace tiersync::cli

#endif  // TIERSYNC_CLI_COMMAND_CONTEXT_H_
