// pkt-lines, git's framing for the smart protocol (https://git-scm.com/docs/protocol-common):
// four hex digits giving the line's length (themselves included), then the payload; "0000" is
// a flush-pkt. Pure functions, no libgit2; object ids are 40 lowercase hex digits.
//
// What tiersync reads in this framing, with every count bounded:
//   * the upload-pack request (server side, catalogs/git_upload_pack.h): want lines (the first
//     may carry capabilities), a flush, have lines, then a flush or "done" — and nothing after;
//   * the upload-pack advertisement (client side, catalogs/git_fetch.h): "# service=..." and a
//     flush, then "<id> <ref>" lines (the first with "\0<capabilities>"), then a flush;
//   * the upload-pack result (client side): NAK / ACK lines, then the raw pack.
// Malformed, oversize or out-of-order input is kInvalidArgument naming what is wrong.
#ifndef TIERSYNC_CATALOGS_GIT_PKT_LINE_H_
#define TIERSYNC_CATALOGS_GIT_PKT_LINE_H_

#include <cstddef>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace tiersync::catalogs {

inline constexpr size_t kMaxPktLine = 65520;  // git's LARGE_PACKET_MAX
inline constexpr size_t kObjectIdHex = 40;    // SHA-1 object ids
inline constexpr std::string_view kFlushPkt = "0000";
inline constexpr size_t kMaxUploadPackWants = 1000;
inline constexpr size_t kMaxUploadPackHaves = 10000;
// ACK/NAK lines before the pack in an upload-pack result (one per have, and the final one).
inline constexpr size_t kMaxResultLines = kMaxUploadPackHaves + 2;

// Appends `payload` as one pkt-line. REQUIRES: payload.size() <= kMaxPktLine - 4.
void AppendPkt(std::string* out, std::string_view payload);

// At most 60 bytes of `s` in quotes, bytes outside printable ASCII as \xNN (for messages).
std::string QuoteBytes(std::string_view s);

// The payload of the next pkt-line of `*in` without its trailing LF, or nullopt for a
// flush-pkt; consumes it. Errors are kInvalidArgument "<what>: ...".
Result<std::optional<std::string_view>> NextPkt(std::string_view* in, std::string_view what);

// True if `hex` is exactly 40 hex digits (either case).
bool IsObjectIdHex(std::string_view hex);

// ---- The upload-pack request (POST .../git-upload-pack).

struct UploadRequest {
  std::vector<std::string> wants;                   // lowercase hex ids, in order
  std::set<std::string, std::less<>> capabilities;  // from the first want line
  std::vector<std::string> haves;                   // lowercase hex ids, in order
  bool done = false;                                // ended with "done" (else a flush)
};

// want-list flush-pkt have-list (flush-pkt | "done"), and nothing after it; at most
// kMaxUploadPackWants wants and kMaxUploadPackHaves haves.
Result<UploadRequest> ParseUploadRequest(std::string_view body);

// The request body for `wants` (the first line carrying `capabilities`, space separated),
// then `haves`, then "done". REQUIRES: wants is not empty; every id is 40 hex digits.
std::string EncodeUploadRequest(const std::vector<std::string>& wants,
                                std::string_view capabilities,
                                const std::vector<std::string>& haves);

// ---- The advertisement (GET .../info/refs?service=git-upload-pack).

struct Advertisement {
  std::map<std::string, std::string> refs;          // ref name ("refs/tags/r1^{}") -> hex id
  std::set<std::string, std::less<>> capabilities;  // from the first line
};

// The smart-HTTP advertisement of git-upload-pack. The empty-repository form (a zero id named
// "capabilities^{}") gives no refs. A ref named twice is refused.
Result<Advertisement> ParseAdvertisement(std::string_view body);

// ---- The upload-pack result (the answer to a request ending in "done").

// The pack that follows the NAK / ACK lines of `body` (the bytes from "PACK" on). "ERR <text>"
// from the server is kUnavailable quoting it.
Result<std::string_view> PackOfUploadResult(std::string_view body);

}  // namespace tiersync::catalogs

#endif  // TIERSYNC_CATALOGS_GIT_PKT_LINE_H_
