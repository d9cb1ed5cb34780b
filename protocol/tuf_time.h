// TUF timestamps: "expires" is an ISO 8601 UTC date-time of the exact form
// "YYYY-MM-DDTHH:MM:SSZ" (TUF 1.0 section 4.3). Times are seconds since the Unix epoch.
// Pure functions; the caller supplies "now" (the client's fixed update start time).
#ifndef TIERSYNC_PROTOCOL_TUF_TIME_H_
#define TIERSYNC_PROTOCOL_TUF_TIME_H_

#include <cstdint>
#include <string>
#include <string_view>

#include "base/status.h"

namespace tiersync::protocol {

// Parses "YYYY-MM-DDTHH:MM:SSZ" (years 1970-9999, real calendar dates, seconds 00-59).
// Anything else (fractions, offsets, missing Z, 2023-02-30) is kCorruption.
Result<int64_t> ParseTufTime(std::string_view text);

// Formats seconds since the epoch as "YYYY-MM-DDTHH:MM:SSZ". REQUIRES: 0 <= t < year 10000.
std::string FormatTufTime(int64_t seconds);

}  // namespace tiersync::protocol

#endif  // TIERSYNC_PROTOCOL_TUF_TIME_H_
