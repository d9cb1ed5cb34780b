// Exit codes of the tiersync command (docs/cli.md). Scripts and monitoring rely on them.
#ifndef TIERSYNC_CLI_EXIT_CODES_H_
#define TIERSYNC_CLI_EXIT_CODES_H_

#include "base/status.h"

namespace tiersync::cli {

enum ExitCode : int {
  kExitOk = 0,
  kExitFailure = 1,      // any other failure
  kExitUsage = 2,        // bad command line or argument
  kExitDamaged = 3,      // corruption or failed verification: data is wrong somewhere
  kExitIOError = 4,      // the operating system refused I/O (EIO, fsync failure)
  kExitNoSpace = 5,      // disk full, quota, size cap
  kExitUnavailable = 6,  // locked by another process, not initialised, peer unavailable
  kExitNotFound = 7,     // the named object or file does not exist
  kExitNewerFormat = 8,  // the directory was written by a newer tiersync: upgrade tiersync
};

ExitCode ExitCodeFor(const Status& s);

}  // namespace tiersync::cli

#endif  // TIERSYNC_CLI_EXIT_CODES_H_
