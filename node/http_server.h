// HttpServer: the node's HTTP/1.1 server (Boost.Beast over Asio): one io_context, one thin
// coroutine per connection, every wait bounded (threats.md: TLS handshake deadline, header
// deadline, keep-alive idle timeout, per-write deadline, header and body size caps,
// connection cap). It speaks GET, HEAD and POST; only POST may carry a body (at most
// max_body_bytes, read within the header deadline), and a request with both Content-Length
// and Transfer-Encoding is refused.
//
// HTTP or HTTPS: with UseTls() every connection must start with a TLS handshake (TLS 1.2+,
// within handshake_timeout); one that starts in plain HTTP gets a plain "400 this port
// speaks HTTPS" and is closed, and the server goes on serving. The request loop is one
// template over the stream, plain TCP or TLS.
//
// Threading: one io thread moves the bytes; the handler and the pieces of a streamed body run
// on a pool of ServerLimits::worker_threads threads, so a slow request (a git pack, a chunk
// batch, a piece read from disk) does not hold up the others. Handlers are called
// concurrently and must be thread-safe. A response body may be streamed in pieces, each
// produced (on a worker) when the previous one was sent.
// A reply may also be deferred (long-poll): the handler hands back a `wait` function and the
// connection waits, bounded by max_hold, until that function's callback supplies the reply.
#ifndef TIERSYNC_NODE_HTTP_SERVER_H_
#define TIERSYNC_NODE_HTTP_SERVER_H_

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "base/status.h"

namespace tiersync::node {

struct ServerLimits {
  std::chrono::milliseconds handshake_timeout{10'000};   // TLS: the whole handshake
  std::chrono::milliseconds header_timeout{10'000};      // first request head, whole
  std::chrono::milliseconds keep_alive_timeout{15'000};  // waiting for the next request
  std::chrono::milliseconds write_timeout{30'000};       // each piece of a response
  size_t max_header_bytes = 8 << 10;                     // request line + headers
  size_t max_connections = 512;                          // beyond: 503 and close
  size_t max_body_bytes = 1 << 20;                       // POST bodies; beyond: 413
  std::chrono::milliseconds max_hold{60'000};            // a deferred reply; then 204
  size_t worker_threads = 4;                             // handlers and body pieces run here
};

struct HttpRequest {
  std::string method;  // "GET", "HEAD" or "POST"
  std::string target;  // as sent: path and query
  std::string body;    // POST only
  // Request headers the handlers look at, by lower-case name (content-type,
  // content-encoding, git-protocol, if-none-match, range, ...); others are dropped.
  std::map<std::string, std::string> headers;
  const std::string* Header(const std::string& lower_name) const {
    auto it = headers.find(lower_name);
    return it == headers.end() ? nullptr : &it->second;
  }
};

struct HttpReply {
  int status = 200;
  std::string content_type = "application/octet-stream";
  std::vector<std::pair<std::string, std::string>> headers;
  // The body, whole; or, when `stream` is set, `length` bytes produced piece by piece: each call
  // returns the next piece, an empty string at the end, or an error (the connection is then
  // cut: the client sees a short body, which its length and hash checks catch).
  std::string body;
  uint64_t length = 0;
  std::function<Result<std::string>()> stream;
  // Deferred (long-poll): when set, the server calls `wait` with a callback; calling that
  // callback (from any thread; later calls are ignored) sends the reply it is given. If it is
  // not called within ServerLimits::max_hold, the fields above are sent instead.
  using Resume = std::function<void(HttpReply)>;
  std::function<void(Resume)> wait;

  static HttpReply Text(int status, std::string text);
  static HttpReply Json(std::string json);
};

class HttpHandler {
 public:
  virtual ~HttpHandler() = default;
  virtual HttpReply Handle(const HttpRequest& request) = 0;
};

class TlsServerContext;

class HttpServer {
 public:
  // `handler` is not owned and must outlive the server.
  explicit HttpServer(HttpHandler* handler, ServerLimits limits = {});
  ~HttpServer();  // stops and joins
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Serves HTTPS only, with `tls` (node/tls_context.h). REQUIRES: before Listen.
  void UseTls(std::shared_ptr<TlsServerContext> tls);
  // Binds and listens on `address`:`port` (0: any free port). Returns the bound port.
  Result<uint16_t> Listen(const std::string& address, uint16_t port);
  // Serves on a background thread until Stop().
  void Start();
  // Serves on the calling thread until Stop() (from another thread or a signal handler set
  // up with StopOnSignals()).
  void Run();
  // Makes SIGINT and SIGTERM stop Run().
  void StopOnSignals();
  void Stop();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  std::thread thread_;
};

}  // namespace tiersync::node

#endif  // TIERSYNC_NODE_HTTP_SERVER_H_
