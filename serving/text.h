// Small text helpers shared by the serving parsers. Pure.
#ifndef TIERSYNC_SERVING_TEXT_H_
#define TIERSYNC_SERVING_TEXT_H_

#include <optional>
#include <string_view>

namespace tiersync::serving {

// `s` without leading and trailing spaces and tabs (HTTP's optional whitespace).
std::string_view TrimOws(std::string_view s);

// Decodes the UTF-8 code point at s[*i] and moves *i past it. On an invalid sequence (a bad
// lead or continuation byte, truncation, an overlong form, a surrogate, past U+10FFFF) returns
// nullopt and moves *i one byte on. REQUIRES: *i < s.size().
std::optional<char32_t> NextCodePoint(std::string_view s, size_t* i);

}  // namespace tiersync::serving

#endif  // TIERSYNC_SERVING_TEXT_H_
