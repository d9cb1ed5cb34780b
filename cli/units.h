// Parsing of sizes and durations given on the command line ("64M", "1G", "1048576"; "72h").
#ifndef TIERSYNC_CLI_UNITS_H_
#define TIERSYNC_CLI_UNITS_H_

#include <cstdint>
#include <string>
#include <string_view>

#include "base/status.h"

namespace tiersync::cli {

// Decimal digits with an optional binary suffix K, M, G or T (KiB, MiB, GiB, TiB; a trailing
// "iB" or "B" is accepted). kInvalidArgument on anything else or on overflow.
Result<uint64_t> ParseSize(std::string_view text);

// Decimal digits with a unit s, m, h or d (seconds, minutes, hours, days), e.g. "72h", "1s",
// "30d"; at most 10 years. kInvalidArgument on anything else. Returns seconds.
Result<int64_t> ParseDuration(std::string_view text);

// "512 B", "3.4 KiB", "12.0 MiB", "1.50 GiB": for people reading status and reports.
std::string FormatBytes(uint64_t bytes);

}  // namespace tiersync::cli

#endif  // TIERSYNC_CLI_UNITS_H_
