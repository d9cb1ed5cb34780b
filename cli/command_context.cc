#include "cli/command_context.h"

#include <cstdio>

namespace tiersync::cli {

void CommandContext::Fail(const std::string& what, const Status& s) {
  std::fprintf(stderr, "tiersync: %s: %s\n", what.c_str(), s.ToString().c_str());
  exit_code = ExitCodeFor(s);
}

}  // namespace tiersync::cli
