// HttpServer: the node's HTTP/1.1 server (Boost.Beast over Asio): one io_context, one thin
// coroutine per connection, every wait bounded (threats.md, docs/protocol.md "Limits"): TLS
// handshake deadline; one deadline for the whole request head (from accept, or from the end of
// the previous response), however slowly it trickles in; progress-based writes (a write fails
// only when no byte moved for stall_timeout or the client reads slower than
// min_write_bytes_per_second after write_grace); header and body size caps; a connection cap,
// a per-address cap and a reserve of connections for child-node endpoints. It speaks GET, HEAD
// and POST; only POST may carry a body (at most max_body_bytes, read within the header
// deadline), and a request with both Content-Length and Transfer-Encoding is refused.
//
// HTTP or HTTPS: with UseTls() every connection must start with a TLS handshake (TLS 1.2+,
// within handshake_timeout); one that starts in plain HTTP gets a plain "400 this port
// speaks HTTPS" and is closed, and the server goes on serving. The request loop is one
// template over the stream, plain TCP or TLS.
//
// Threading: one io thread moves the bytes; the handler and the pieces of a streamed body run
// on a pool of ServerLimits::worker_threads threads, so a slow request (a git pack, a chunk
// batch, a piece read from disk) does not hold up the others; the pieces of an upstream reply
// (HttpReply::upstream) run on a pool of their own. Handlers are called concurrently and must
// be thread-safe. A response body may be streamed in pieces, each produced when the previous
// one was sent.
// A reply may also be deferred (long-poll): the handler hands back a `wait` function and the
// connection waits, holding no worker, for HttpReply::hold (at most max_hold) until that
// function's callback supplies the reply. While it waits the server keeps a read pending on
// the connection: a client that closes it ends the hold at once (HttpReply::abandon).
#ifndef TIERSYNC_NODE_HTTP_SERVER_H_
#define TIERSYNC_NODE_HTTP_SERVER_H_

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "base/status.h"

namespace tiersync::node {

struct ServerLimits {
  std::chrono::milliseconds handshake_timeout{10'000};  // TLS: the whole handshake
  // The first request head, whole, from accept (from the end of the handshake over HTTPS): a
  // head dripped byte by byte does not extend it.
  std::chrono::milliseconds header_timeout{10'000};
  // The next request head on a kept-alive connection, whole, from the end of the previous
  // response.
  std::chrono::milliseconds keep_alive_timeout{15'000};
  // Writing a response: it fails when no byte moved for stall_timeout, or when, once
  // write_grace of writing has passed, the bytes written average less than
  // min_write_bytes_per_second (0: no rate rule) over the time spent writing.
  std::chrono::milliseconds stall_timeout{30'000};
  uint64_t min_write_bytes_per_second = 2 << 10;
  std::chrono::milliseconds write_grace{10'000};
  size_t max_header_bytes = 8 << 10;  // request line + headers
  size_t max_body_bytes = 1 << 20;    // POST bodies; beyond: 413
  // Connections: at most max_connections at once (beyond: 503 and close); the last
  // reserved_connections of them serve only requests to the child-node endpoints
  // (IsChildNodeTarget; others get 503 there); at most max_connections_per_address from one
  // client address (beyond: closed at once, unanswered, counted nowhere).
  size_t max_connections = 512;
  size_t reserved_connections = 64;
  size_t max_connections_per_address = 32;
  // A deferred reply is held at most this long (HttpReply::hold may ask for less).
  std::chrono::milliseconds max_hold{60'000};
  size_t worker_threads = 4;    // handlers and body pieces run here
  size_t upstream_threads = 8;  // body pieces of HttpReply::upstream replies run here
};

// True for the endpoints child nodes use (/v1/metadata, /v1/indexes, /v1/chunks, /v1/events,
// /v1/reports, /v1/catalog.git): what ServerLimits::reserved_connections are kept for.
bool IsChildNodeTarget(std::string_view target);

struct HttpRequest {
  std::string method;  // "GET", "HEAD" or "POST"
  std::string target;  // as sent: path and query
  std::string body;    // POST only
  // Request headers the handlers look at, by lower-case name (content-type,
  // content-encoding, git-protocol, if-none-match, range, ...); others are dropped.
  std::map<std::string, std::string> headers;
  // The client's address ("10.3.4.5"; an IPv4 client over an IPv6 socket as IPv4): for audit
  // lines and per-address limits. "" when the server does not know it (tests).
  std::string peer;
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
  // Upstream: the pieces of `stream` wait on an upstream (a proxied miss): they run on a
  // separate pool of ServerLimits::upstream_threads so that slow upstreams never hold the
  // workers that serve children and stored files.
  bool upstream = false;
  // Deferred (long-poll): when set, the server calls `wait` (on its io thread) with a callback;
  // calling that callback (from any thread; later calls are ignored) sends the reply it is
  // given. If it is not called within `hold` (0: ServerLimits::max_hold; at most max_hold),
  // the fields above are sent instead. Deferred replies hold no worker while they wait.
  using Resume = std::function<void(HttpReply)>;
  std::function<void(Resume)> wait;
  std::chrono::milliseconds hold{0};
  // Called once, on the server's io thread, when a hold ends without the callback having
  // delivered a reply: the hold's time is up (the fields above are then sent) or the client
  // closed the connection while held (nothing is sent). The handler forgets its waiter here.
  // Must be quick; may be empty.
  std::function<void()> abandon;

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

  // Serves HTTPS only, with `tls` (node/tls_context.h). REQUIRES: before Listen. Each new
  // connection takes tls->Current(), so a TlsServerContext::Reload applies to the connections
  // accepted after it while the open ones finish with the certificate they began with.
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
  // Calls `reload` (on the I/O thread; keep it short) on every SIGHUP while Run() runs.
  // REQUIRES: called before Run().
  void OnReloadSignal(std::function<void()> reload);
  void Stop();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  std::thread thread_;
};

}  // namespace tiersync::node

#endif  // TIERSYNC_NODE_HTTP_SERVER_H_
