// Request targets from clients, decoded and checked before any name reaches the file system or
// the catalog. Pure.
//
// SplitPath() percent-decodes each segment of the path part of a target (the query is cut at
// '?') and refuses — kInvalidArgument — anything that could name something outside what is
// served: "." and ".." segments (also when encoded: "%2e%2e", ".%2e"), empty segments ("//"),
// an encoded '/' ("%2f") inside a segment, backslashes (raw or "%5c"), NUL and other control
// characters (raw or encoded), malformed escapes ("%zz", "%4"), invalid UTF-8, and paths over
// kMaxPathBytes.
#ifndef TIERSYNC_SERVING_REQUEST_PATH_H_
#define TIERSYNC_SERVING_REQUEST_PATH_H_

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace tiersync::serving {

inline constexpr size_t kMaxPathBytes = 2048;

// "/v1/files/k12-1/a.mp4?x=1" -> {"v1", "files", "k12-1", "a.mp4"}. "/" -> {}.
Result<std::vector<std::string>> SplitPath(std::string_view target);

// Percent-decodes `s` ('+' is a space, as in HTML forms). kInvalidArgument on a malformed
// escape, a control character or invalid UTF-8.
Result<std::string> DecodeComponent(std::string_view s, bool plus_is_space);

// The query parameters of a target ("a=1&b=%E4%B8%AD" -> {a: 1, b: 中}); the last of a
// repeated name wins; a malformed parameter is skipped.
std::map<std::string, std::string> QueryParameters(std::string_view target);

// True if `s` is valid UTF-8 (no overlongs, surrogates or code points past U+10FFFF).
bool ValidUtf8(std::string_view s);

}  // namespace tiersync::serving

#endif  // TIERSYNC_SERVING_REQUEST_PATH_H_
