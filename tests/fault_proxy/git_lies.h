// The fault proxy's lies about the catalog's git smart HTTP answers (faults.h: git-tag-lie,
// git-bomb). Pure functions over bodies; the proxy does the I/O. They parse pkt-lines on their
// own (a liar does not share its victim's parser).
#ifndef TIERSYNC_TESTS_FAULT_PROXY_GIT_LIES_H_
#define TIERSYNC_TESTS_FAULT_PROXY_GIT_LIES_H_

#include <cstdint>
#include <string>
#include <string_view>

#include "base/status.h"

namespace tiersync::fault_proxy {

// The upload-pack advertisement (GET .../info/refs?service=git-upload-pack) with the release
// tags rotated: refs/tags/r1 (and its peeled ^{} line) names the tag and commit of the highest
// advertised release, and every other rK those of r(K-1) — valid objects of the same
// repository, only under the wrong names. HEAD and refs/heads/main are left alone. Fewer than
// two releases: the body unchanged and *rotated false. kInvalidArgument if it does not parse.
Result<std::string> RotateReleaseTags(std::string_view advertisement, bool* rotated);

// An upload-pack result (POST .../git-upload-pack) whose pack is replaced by a zlib bomb: one
// blob that inflates to `inflated_bytes` zero bytes (about a thousandth of that on the wire),
// in a well-formed pack (header, object, SHA-1 trailer). The ACK/NAK lines before the pack are
// kept. kInvalidArgument if `result` holds no pack.
Result<std::string> ReplacePackWithBomb(std::string_view result, uint64_t inflated_bytes);

}  // namespace tiersync::fault_proxy

#endif  // TIERSYNC_TESTS_FAULT_PROXY_GIT_LIES_H_
