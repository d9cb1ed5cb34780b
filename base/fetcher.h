// Fetcher: how the sync engine, the TUF updater and the catalog's git fetch get bytes from an
// upstream — the one network seam below node/. The node plugs in HTTP (node/http_fetcher.h);
// tests plug in an in-memory repository or a simulator.
//
// The transport never reports hashes or lengths to the verifier: it only delivers bytes, and
// the caller checks them (apt CVE-2019-3462).
#ifndef TIERSYNC_BASE_FETCHER_H_
#define TIERSYNC_BASE_FETCHER_H_

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace tiersync {

class Fetcher {
 public:
  virtual ~Fetcher() = default;

  // Fetches `url` in full. More than `max_bytes` bytes is kResourceExhausted and the transfer
  // is cut off there (never buffered past the cap). An absent resource (HTTP 404 or 403) is
  // kNotFound; a source that is down, slow or broken is kUnavailable or kDeadlineExceeded.
  // Every failure is marked Origin::kRemote (the source's, not this machine's).
  virtual Result<std::vector<uint8_t>> Fetch(const std::string& url, size_t max_bytes) = 0;

  // POSTs `body` (of `content_type`) to `url` and returns the response body, with the same
  // caps and error mapping as Fetch. Transports that cannot post return kNotSupported.
  virtual Result<std::vector<uint8_t>> Post(const std::string& url, std::string_view content_type,
                                            std::span<const uint8_t> body, size_t max_bytes) {
    return Status(StatusCode::kNotSupported, "this transport cannot POST " + url);
  }
};

}  // namespace tiersync

#endif  // TIERSYNC_BASE_FETCHER_H_
