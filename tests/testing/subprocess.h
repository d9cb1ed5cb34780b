// Runs a program as a child process and collects its exit status and output, for tests that
// drive the real tiersync binary.
#ifndef TIERSYNC_TESTS_TESTING_SUBPROCESS_H_
#define TIERSYNC_TESTS_TESTING_SUBPROCESS_H_

#include <sys/types.h>

#include <string>
#include <vector>

namespace tiersync::testing {

struct RunResult {
  int exit_code = -1;  // exit status, or -1 if killed by a signal
  int signal = 0;      // the signal that ended it, if any
  std::string out;     // standard output (unless redirected to a file)
  std::string err;     // standard error
};

// Runs argv[0] with arguments, waits for it. If `stdout_path` is not empty, standard output
// goes to that file instead of RunResult::out.
RunResult RunProcess(const std::vector<std::string>& argv, const std::string& stdout_path = "");

// Starts a child whose output goes to /dev/null; returns its pid.
pid_t Spawn(const std::vector<std::string>& argv);

// Waits for `pid`; returns as Run does (without output).
RunResult Wait(pid_t pid);

}  // namespace tiersync::testing

#endif  // TIERSYNC_TESTS_TESTING_SUBPROCESS_H_
