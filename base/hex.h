// Hexadecimal encoding of bytes (ids, digests and signatures in metadata and on the CLI).
#ifndef TIERSYNC_BASE_HEX_H_
#define TIERSYNC_BASE_HEX_H_

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace tiersync {

// Lower-case hexadecimal, two digits a byte.
std::string ToHex(std::span<const uint8_t> bytes);

// Parses an even number of hex digits (either case); "" gives {}. nullopt on anything else.
std::optional<std::vector<uint8_t>> HexDecode(std::string_view hex);

// 0-15 for a hex digit, -1 for any other character.
int HexDigitValue(char c);

}  // namespace tiersync

#endif  // TIERSYNC_BASE_HEX_H_
