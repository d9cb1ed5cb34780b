// Parsing of sizes given on the command line ("64M", "1G", "1048576").
#ifndef TIERSYNC_CLI_UNITS_H_
#define TIERSYNC_CLI_UNITS_H_

#include <cstdint>
#include <string_view>

#include "base/status.h"

namespace tiersync::cli {

// Decimal digits with an optional binary suffix K, M, G or T (KiB, MiB, GiB, TiB; a trailing
// "iB" or "B" is accepted). kInvalidArgument on anything else or on overflow.
Result<uint64_t> ParseSize(std::string_view text);

}  // namespace tiersync::cli

#endif  // TIERSYNC_CLI_UNITS_H_
