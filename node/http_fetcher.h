// HttpFetcher: a Fetcher over HTTP/1.1 (Boost.Beast), for the TUF updater and chunk fetches
// between tiers, over http:// or https:// (TLS 1.3, node/tls_context.h). One request per call
// on a fresh connection.
//
// Limits (threats.md): connecting and every later wait for bytes are bounded by
// `stall_timeout`, the TLS handshake by `handshake_timeout`; once `grace` has passed since the
// response's first byte, a response arriving slower than `min_bytes_per_second` on average
// (from that first byte) is abandoned
// (kDeadlineExceeded: slow retrieval is not covered by TUF, so it is ours to cut); the body is
// read with a parser body limit of max_bytes, so an endless body is cut off at the cap
// (kResourceExhausted); headers are capped at kMaxHeaderBytes. Redirects are never followed
// (apt CVE-2019-3462): a 3xx is kUnavailable naming the Location. 404 and 403 are kNotFound;
// other non-2xx statuses, connection failures, failed TLS handshakes (a certificate that does
// not verify: "TLS handshake with HOST:PORT failed: certificate verify failed (...)") and
// timeouts are kUnavailable / kDeadlineExceeded, so the caller can try the next source.
#ifndef TIERSYNC_NODE_HTTP_FETCHER_H_
#define TIERSYNC_NODE_HTTP_FETCHER_H_

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "node/http_url.h"
#include "replication/fetcher.h"

namespace tiersync::node {

class RateLimiter;
class TlsClientContext;

struct HttpFetcherOptions {
  std::chrono::milliseconds stall_timeout{30'000};
  uint64_t min_bytes_per_second = 0;  // 0: no throughput rule
  std::chrono::milliseconds grace{5'000};
  std::chrono::milliseconds handshake_timeout{10'000};  // TLS, whole
  // Whom https:// servers must prove to be; null: the system's CA store.
  std::shared_ptr<const TlsClientContext> tls;
  // The byte-rate cap the response bodies are read under (shared by every fetcher of the
  // sync); null: none. Time spent held by it does not count against min_bytes_per_second.
  std::shared_ptr<RateLimiter> limiter;
};

// A reply as it came, whatever its status (HttpFetcher::PostForAnswer).
struct HttpAnswer {
  unsigned status = 0;
  std::string content_type;
  std::string location;  // of a redirect; "" otherwise
  std::vector<uint8_t> body;
};

class HttpFetcher : public replication::Fetcher {
 public:
  static constexpr size_t kMaxHeaderBytes = 16 * 1024;

  explicit HttpFetcher(std::chrono::milliseconds stall_timeout = std::chrono::seconds(30)) {
    options_.stall_timeout = stall_timeout;
  }
  explicit HttpFetcher(HttpFetcherOptions options) : options_(options) {}

  Result<std::vector<uint8_t>> Fetch(const std::string& url, size_t max_bytes) override;
  Result<std::vector<uint8_t>> Post(const std::string& url, std::string_view content_type,
                                    std::span<const uint8_t> body, size_t max_bytes) override;

  // POST returning the reply of any status with its body (for a caller that reads the JSON
  // error of a 4xx, e.g. `node enroll`); errors only for what kept a reply from arriving
  // (connection, TLS, timeouts, a body over max_bytes), as Post's.
  Result<HttpAnswer> PostForAnswer(const std::string& url, std::string_view content_type,
                                   std::span<const uint8_t> body, size_t max_bytes);

  const HttpFetcherOptions& options() const { return options_; }

 private:
  Result<HttpAnswer> Answer(const std::string& url, std::string_view content_type,
                            const std::span<const uint8_t>* body, size_t max_bytes);
  Result<std::vector<uint8_t>> Exchange(const std::string& url, std::string_view content_type,
                                        const std::span<const uint8_t>* body, size_t max_bytes);
  HttpFetcherOptions options_;
};

}  // namespace tiersync::node

#endif  // TIERSYNC_NODE_HTTP_FETCHER_H_
